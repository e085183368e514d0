"""/healthz, /readyz and /metrics on the FastAPI app that Reflex mounts."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from interview_app import db
from interview_app.api import create_api
from interview_app.settings import get_settings


def test_health_and_ready(app_db) -> None:
    client = TestClient(create_api())
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and "python_info" in metrics.text


def test_ready_is_503_when_the_database_is_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    try:
        client = TestClient(create_api())
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["database"] == "unreachable"
    finally:
        db.get_engine.cache_clear()
        get_settings.cache_clear()
