"""R4 — the served app (`reflex run --env prod`): no secret in the frontend, security headers, CSP that works.

The app is built and served with real-looking secret values in its environment; the test
scans every file of the compiled frontend (.web, without node_modules) and every file the
server hands out for them, checks the headers on pages and API, and drives the candidate
and admin pages in Chromium with the Content-Security-Policy on, failing on any CSP report.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ServedApp, start_app, stop_app
from tests.fakes.livekit_server import FakeLiveKitServer
from tests.reliability.conftest import figure

pytestmark = [pytest.mark.e2e, pytest.mark.reliability_slow]

SECRETS = {
    "SECRET_KEY": "sk-app-7f3a9c1e5b2d4f608a1c3e5b7d9f0a2c4e6b8d0f1a3c5e7b",
    "LIVEKIT_API_SECRET": "lk-secret-Qm9vZ2xlIGlzIG5vdCBhIHNlY3JldA-9d8c7b6a5f4e3d2c",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYz4Ex9mPlKey42",
    "OPENAI_API_KEY": "sk-proj-Zq8rT2vWx9yB4nM6kL1jH3gF5dS7aP0oI2uY4tR6eW8q",
    "SMTP_PASSWORD": "smtp-Pa55w0rd-for-reliability-9c2b7e",
}


@pytest.fixture(scope="module")
def livekit() -> Iterator[FakeLiveKitServer]:
    server = FakeLiveKitServer("APIreliabilityServed", SECRETS["LIVEKIT_API_SECRET"]).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, livekit: FakeLiveKitServer) -> Iterator[ServedApp]:
    env = {**livekit.env, **SECRETS, "SMTP_HOST": "127.0.0.1", "SMTP_USERNAME": "mailer", "AGENT_JOIN_TIMEOUT_SECONDS": "5"}
    proc, served = start_app(tmp_path_factory.mktemp("served"), **env)
    yield served
    stop_app(proc)


def _needles() -> dict[str, list[bytes]]:
    """Each secret as it could appear: plain, base64, and JSON/URL-escaped slashes."""
    out = {}
    for name, value in SECRETS.items():
        raw = value.encode()
        out[name] = [raw, base64.b64encode(raw), raw.replace(b"/", b"\\/"), raw.replace(b"/", b"%2F")]
    return out


def test_no_secret_in_the_built_frontend_or_what_the_server_sends(app: ServedApp) -> None:
    web = app.project / ".web"
    files = [p for p in web.rglob("*") if p.is_file() and "node_modules" not in p.parts]
    assert any(p.suffix == ".js" for p in files), "no compiled JS found: did the build run?"
    found = []
    needles = _needles()
    for path in files:
        data = path.read_bytes()
        for name, forms in needles.items():
            if any(f in data for f in forms):
                found.append(f"{name} in {path.relative_to(app.project)}")
    # What the server hands out: the pages and every asset under the built client folder.
    client_root = next((d for d in (web / "build" / "client", web / "_static") if d.is_dir()), None)
    assert client_root is not None, "no built client folder"
    urls = ["/", "/admin", "/admin/templates", f"/interview/{app.demo['candidate_link'].rsplit('/', 1)[1]}", "/openapi.json"]
    urls += ["/" + str(p.relative_to(client_root)) for p in client_root.rglob("*") if p.is_file()]
    served = 0
    with httpx.Client(base_url=app.url, timeout=20) as client:
        for url in urls:
            res = client.get(url)
            if res.status_code != 200:
                continue
            served += 1
            for name, forms in needles.items():
                if any(f in res.content for f in forms):
                    found.append(f"{name} served at {url}")
    figure("R4 frontend files scanned for secrets", len(files))
    figure("R4 served URLs scanned for secrets", served)
    figure("R4 secrets found in the frontend", len(found))
    assert served > 10
    assert not found, found


def test_security_headers_on_pages_and_api(app: ServedApp) -> None:
    with httpx.Client(base_url=app.url, timeout=20) as client:
        responses = {
            "page /": client.get("/"),
            "page /admin": client.get("/admin"),
            "candidate page": client.get(app.demo["candidate_link"].replace(app.url, "")),
            "API healthz": client.get("/healthz"),
            "API start (refused)": client.post("/api/interview/start", json={"invite_token": "nope"}),
            "webhook (refused)": client.post("/webhooks/livekit", content=b"{}"),
            "static asset": client.get("/favicon.ico"),
        }
    missing = []
    for name, res in responses.items():
        h = res.headers
        for header, want in (
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
            ("x-frame-options", "DENY"),
        ):
            if h.get(header) != want:
                missing.append(f"{name}: {header}={h.get(header)!r}")
        csp = h.get("content-security-policy", "")
        if "frame-ancestors 'none'" not in csp or "default-src 'self'" not in csp:
            missing.append(f"{name}: CSP {csp!r}")
        if "strict-transport-security" in h:
            missing.append(f"{name}: HSTS on plain http")
    assert not missing, missing


def _watch_csp(page: Page) -> list[str]:
    reports: list[str] = []
    page.on("console", lambda m: reports.append(m.text) if "Content Security Policy" in m.text or "Refused to" in m.text else None)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'Refused to (CSP) ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    return reports


def test_pages_work_under_the_csp_in_chromium(app: ServedApp, page: Page, livekit: FakeLiveKitServer) -> None:
    reports = _watch_csp(page)
    link = app.demo["candidate_link"]
    page.goto(link)
    expect(page.locator("#welcome")).to_contain_text("Alex Morgan", timeout=30_000)  # hydrated over /_event
    page.locator("#consent-checkbox").click()
    page.locator("#consent-continue").click()
    expect(page.locator("#device-check")).to_be_visible(timeout=15_000)
    expect(page.locator("#mic-ok")).to_be_visible(timeout=15_000)  # the level meter worklet/stream ran
    page.locator("#join").click()
    expect(page.locator("#interview-room")).to_be_visible(timeout=20_000)
    # the fake has no /rtc: livekit-client connects (allowed by connect-src) and gets a 404, not a CSP block
    expect(page.locator("#connection-status")).to_contain_text("could not connect you to the interview room", timeout=30_000)
    assert livekit.rooms, "the start API was not reached"

    page.goto(app.url + "/admin")
    page.locator("#login-email").fill(app.demo["admin_email"], timeout=20_000)
    page.locator("#login-password").fill(app.demo["admin_password"])
    page.locator("#login-submit").click()
    expect(page.locator("#signed-in-as")).to_have_text(app.demo["admin_email"], timeout=15_000)
    cookie = next(c for c in page.context.cookies() if c["name"] == "admin_session")
    figure("R4 admin cookie", f"SameSite={cookie['sameSite']} Secure={cookie['secure']} HttpOnly={cookie['httpOnly']} (http loopback)")
    assert cookie["sameSite"] == "Strict" and cookie["secure"] is False
    blocked = [r for r in reports if re.search(r"Refused to|Content Security Policy", r)]
    figure("R4 CSP violations in Chromium", len(blocked))
    assert not blocked, blocked
