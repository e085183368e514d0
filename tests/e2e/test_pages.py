"""The served app's pages render in headless Chromium (foundation)."""

from __future__ import annotations

import re
import subprocess

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import ROOT


def test_app_starts_without_warnings_or_tracebacks(served_app) -> None:
    """`reflex run --env prod` as `make run` starts it: a new user sees no warnings that read like faults."""
    log = served_app.startup_log
    assert "App running at" in log, log
    noisy = [line for line in log.splitlines() if re.search(r"Warning|Traceback|Error", line)]
    assert noisy == [], log


def test_starting_the_app_rewrites_no_project_file(served_app) -> None:
    """Reflex rewrites .gitignore and reflex.lock/package.json when they differ from what it
    would write; a new user's `make run` must leave their clone clean (git status)."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    changed = [
        rel
        for rel in filter(None, tracked)
        if not rel.startswith("tests/") and (ROOT / rel).is_file() and (served_app.project / rel).read_bytes() != (ROOT / rel).read_bytes()
    ]
    assert changed == []


def test_landing_page_points_to_sign_in(served_app, page) -> None:
    page.goto(served_app.url)
    expect(page.get_by_text("AI interviews, reviewed by people")).to_be_visible()
    expect(page.get_by_role("button", name="Recruiter sign in")).to_be_visible()


def test_unknown_interview_link_says_so(served_app, page) -> None:
    page.goto(f"{served_app.url}/interview/not-a-real-token")
    expect(page.locator("#link-problem")).to_have_text("We could not find this interview", timeout=20_000)
    expect(page.get_by_text("Check that you copied the whole link")).to_be_visible()


def test_demo_candidate_link_greets_the_candidate(served_app, page) -> None:
    page.goto(served_app.demo["candidate_link"])
    expect(page.locator("#welcome")).to_contain_text("Alex Morgan", timeout=20_000)
    expect(page.get_by_text("Backend Engineer (demo)")).to_be_visible()


def test_admin_page_renders(served_app, page) -> None:
    """The admin home is the interview list; signed out it shows only the sign-in form, no data."""
    page.goto(f"{served_app.url}/admin")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=20_000)
    expect(page.locator("#login-email")).to_be_visible(timeout=20_000)
    expect(page.get_by_role("heading", name="Interviews")).to_have_count(0)
    expect(page.locator(".interview-row")).to_have_count(0)


def test_health_endpoints_share_the_app_port(served_app) -> None:
    assert httpx.get(f"{served_app.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{served_app.url}/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"
    assert "/healthz" in httpx.get(f"{served_app.url}/openapi.json").json()["paths"]
