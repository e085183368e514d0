"""With REDIS_URL set, Reflex keeps per-tab state in Redis (what lets app workers scale out)."""

from __future__ import annotations

import pytest
import redis
from playwright.sync_api import expect

from tests.e2e.conftest import start_app, stop_app

REDIS_DB = 11

# ≈ 1 min (an app build of its own) of the 20-minute `make test` budget: in `make reliability`,
# beside R13, which runs two app processes on Redis state behind nginx.
pytestmark = pytest.mark.reliability_slow


def test_state_lives_in_redis_when_redis_url_is_set(browser, tmp_path_factory) -> None:
    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    client.flushdb()
    proc, served = start_app(tmp_path_factory.mktemp("redis-app"), REDIS_URL=f"redis://127.0.0.1:6379/{REDIS_DB}")
    try:
        page = browser.new_page()
        page.goto(served.demo["candidate_link"])
        expect(page.locator("#welcome")).to_contain_text("Alex Morgan", timeout=30_000)
        keys = [k.decode() for k in client.keys("*")]
        assert any("candidate_state" in k for k in keys), f"no Reflex state in Redis: {keys[:10]}"
        page.close()
    finally:
        stop_app(proc)
        client.flushdb()
