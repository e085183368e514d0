"""R12 — admin sessions (issue 16 items 2, 3, 6): authority from the connection's HttpOnly cookie only.

- The sign-in/out routes (``interview_app/api/auth.py``) through the real API app and its
  middleware: the cookie is HttpOnly + SameSite=Strict, cross-site posts are refused, a new
  sign-in revokes the browser's previous session, "sign out everywhere" ends them all,
  ``next`` cannot redirect elsewhere, no typed text comes back in the address.
- ``AdminSessionMiddleware``: what reaches Reflex and the routes is the token's hash, never the
  token, and a client cannot pose as a session by sending the hash itself.
- The served app (``reflex run --env prod``) over the websocket with python-socketio, the way
  the frontend speaks (tests/reliability/test_r3_load.py): an admin tab's Reflex token
  replayed without the cookie gets neither the tab's data at hydration nor an export, and
  neither the state files nor the log hold the raw session token.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from interview_app.api import create_api
from interview_app.api.admin_session import AdminSessionMiddleware
from interview_app.models import AdminSession
from interview_app.services.auth import create_admin, create_session, session_token_hash, user_for_session
from interview_app.services.sign_in import SESSION_HASH_COOKIE
from tests.e2e.conftest import ServedApp
from tests.reliability.conftest import figure, run_coroutine

PASSWORD = "correct horse battery staple"
ORIGIN = "http://testserver"


@pytest.fixture
def admin_email(session: Session) -> str:
    email = f"r12.{uuid.uuid4().hex[:6]}@example.com"
    create_admin(session, email, PASSWORD)
    session.commit()
    return email


@pytest.fixture
def client(app_db) -> Iterator[TestClient]:
    with TestClient(create_api(), raise_server_exceptions=False, follow_redirects=False) as c:
        yield c


def _sign_in(client: TestClient, email: str, password: str = PASSWORD, *, origin: str | None = ORIGIN, **fields: str) -> httpx.Response:
    headers = {"origin": origin} if origin else {}
    return client.post("/auth/sign-in", data={"email": email, "password": password, **fields}, headers=headers)


def _set_cookies(res: httpx.Response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in res.headers.get_list("set-cookie")}


def _sessions(session: Session) -> list[AdminSession]:
    session.expire_all()
    return list(session.exec(select(AdminSession)).all())


def test_sign_in_sets_an_httponly_strict_cookie_and_goes_back(client: TestClient, admin_email: str, session: Session) -> None:
    res = _sign_in(client, admin_email, next="/admin/templates")
    assert res.status_code == 303 and res.headers["location"] == "/admin/templates"
    cookies = _set_cookies(res)
    session_cookie = cookies["admin_session"].lower()
    assert "httponly" in session_cookie and "samesite=strict" in session_cookie and "path=/" in session_cookie
    assert "secure" not in session_cookie  # APP_URL is http in tests; https adds Secure (test below)
    device_cookie = cookies["admin_device"].lower()
    assert "httponly" in device_cookie and "path=/auth/sign-in" in device_cookie
    raw = client.cookies.get("admin_session")
    assert raw and user_for_session(session, raw).email == admin_email
    figure("R12 admin cookie", "HttpOnly; SameSite=Strict; Path=/ (Secure when APP_URL is https)")


def test_cookies_are_secure_behind_https(client: TestClient, admin_email: str, settings_env) -> None:
    settings_env(APP_URL="https://hire.example.com")
    res = _sign_in(client, admin_email, origin="https://hire.example.com")
    assert res.status_code == 303
    assert all("secure" in c.lower() for c in _set_cookies(res).values())


def test_cross_site_posts_are_refused(client: TestClient, admin_email: str, session: Session) -> None:
    before = len(_sessions(session))
    form = {"email": admin_email, "password": PASSWORD}
    for headers in (
        {"origin": "https://evil.example"},
        {"origin": "null"},  # a sandboxed frame elsewhere
        {"sec-fetch-site": "cross-site", "origin": ORIGIN},
        {"sec-fetch-site": "same-site", "origin": "https://sub.testserver"},
    ):
        res = client.post("/auth/sign-in", data=form, headers=headers)
        assert res.status_code == 403 and "set-cookie" not in res.headers, (headers, res.status_code)
    assert len(_sessions(session)) == before
    # Chromium's own form post under Referrer-Policy: no-referrer: Origin null, Sec-Fetch-Site same-origin.
    res = client.post("/auth/sign-in", data=form, headers={"origin": "null", "sec-fetch-site": "same-origin"})
    assert res.status_code == 303 and "admin_session" in res.headers["set-cookie"]


def test_refusals_come_back_as_a_reason_never_as_typed_text(client: TestClient, admin_email: str) -> None:
    res = _sign_in(client, admin_email, "wrong password <b>x</b>", next="https://evil.example/admin")
    assert res.status_code == 303 and res.headers["location"] == "/admin?signin=wrong"
    remembered = _set_cookies(res)["admin_sign_in_email"].lower()  # the form keeps the email, not in the address
    assert "httponly" in remembered and "max-age=600" in remembered and "admin_session=" not in res.headers["set-cookie"]
    for evil in ("//evil.example/admin", "/admin/../../x", "/admin?x=<script>", "javascript:alert(1)"):
        res = _sign_in(client, admin_email, next=evil)
        assert res.headers["location"] == "/admin", (evil, res.headers["location"])
    res = client.post("/auth/sign-in", content=b'{"email": "a"}', headers={"origin": ORIGIN, "content-type": "application/json"})
    assert res.status_code == 303 and res.headers["location"] == "/admin?signin=invalid"


def test_a_new_sign_in_revokes_the_previous_session_of_that_browser(client: TestClient, admin_email: str, session: Session) -> None:
    _sign_in(client, admin_email)
    first = client.cookies.get("admin_session")
    _sign_in(client, admin_email)
    second = client.cookies.get("admin_session")
    assert first != second
    assert user_for_session(session, first) is None and user_for_session(session, second) is not None


def test_sign_out_and_sign_out_everywhere(client: TestClient, admin_email: str, session: Session) -> None:
    from interview_app.models import AdminUser

    user = session.exec(select(AdminUser).where(AdminUser.email == admin_email)).one()
    other = create_admin(session, f"other.{uuid.uuid4().hex[:6]}@example.com", PASSWORD)
    elsewhere = [create_session(session, user, ttl_minutes=30) for _ in range(2)]
    others = create_session(session, other, ttl_minutes=30)
    session.commit()

    _sign_in(client, admin_email)
    mine = client.cookies.get("admin_session")
    res = client.post("/auth/sign-out", data={"scope": "this"}, headers={"origin": ORIGIN})
    assert res.status_code == 303 and res.headers["location"] == "/admin?signin=signed-out"
    assert 'admin_session=""' in res.headers["set-cookie"] or "max-age=0" in res.headers["set-cookie"].lower()
    assert user_for_session(session, mine) is None
    assert all(user_for_session(session, t) is not None for t in elsewhere)  # only this browser

    client.cookies.clear()
    _sign_in(client, admin_email)
    res = client.post("/auth/sign-out", data={"scope": "everywhere"}, headers={"origin": ORIGIN})
    assert res.headers["location"] == "/admin?signin=signed-out-everywhere"
    assert all(user_for_session(session, t) is None for t in elsewhere)
    assert user_for_session(session, others) is not None  # another admin is not affected
    assert client.post("/auth/sign-out", data={"scope": "everywhere"}, headers={"origin": "https://evil.example"}).status_code == 403


def test_the_app_behind_the_middleware_sees_only_the_hash() -> None:
    seen: list[dict[str, str]] = []

    async def inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append({k.decode(): v.decode() for k, v in scope["headers"]})

    async def call(scope_type: str, path: str, cookie: str) -> dict[str, str]:
        scope = {"type": scope_type, "path": path, "method": "GET", "headers": [(b"cookie", cookie.encode()), (b"host", b"x")]}
        await AdminSessionMiddleware(inner)(scope, None, None)
        return seen[-1]

    raw = "raw-token-" + "z" * 30
    for scope_type in ("websocket", "http"):
        headers = asyncio.run(call(scope_type, "/_event", f"a=1; admin_session={raw}; admin_device=v1.x"))
        assert raw not in json.dumps(headers)
        assert headers["cookie"] == f"a=1; {SESSION_HASH_COOKIE}={session_token_hash(raw)}"
    # Knowing the stored hash gives nothing: a hash sent as a cookie is dropped.
    headers = asyncio.run(call("websocket", "/_event", f"{SESSION_HASH_COOKIE}={session_token_hash(raw)}"))
    assert "cookie" not in headers
    # Only the sign-in route gets the device cookie.
    assert "admin_device" in asyncio.run(call("http", "/auth/sign-in", "admin_device=v1.x"))["cookie"]


def test_uploads_need_an_admin_session_on_the_request(client: TestClient, session: Session) -> None:
    from interview_app.state.admin_candidates import CandidatesState

    reviewer = create_admin(session, f"rev.{uuid.uuid4().hex[:6]}@example.com", PASSWORD, role="reviewer")
    token = create_session(session, reviewer, ttl_minutes=30)
    session.commit()
    headers = {
        "reflex-client-token": str(uuid.uuid4()),
        "reflex-event-handler": f"{CandidatesState.get_full_name()}.import_file",
        "content-type": "multipart/form-data; boundary=b",
    }
    assert client.post("/_upload", content=b"--b--\r\n", headers=headers).status_code == 401
    client.cookies.set("admin_session", token)
    assert client.post("/_upload", content=b"--b--\r\n", headers=headers).status_code == 403


# --------------------------------------------------------------------------- the served app over the websocket


def _sign_in_served(app: ServedApp) -> str:
    res = httpx.post(
        f"{app.url}/auth/sign-in",
        data={"email": app.demo["admin_email"], "password": app.demo["admin_password"], "next": "/admin"},
        headers={"origin": app.url},
        follow_redirects=False,
        timeout=10,
    )
    assert res.status_code == 303 and res.headers["location"] == "/admin", (res.status_code, res.text)
    return res.cookies["admin_session"]


def _tab(app: ServedApp, token: str, cookie: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Connect a 'tab' with Reflex token ``token`` (and ``cookie`` if given), hydrate, send ``events``; the updates received."""
    import socketio

    router_data = {"pathname": "/admin", "asPath": "/admin", "query": {}}
    updates: list[dict[str, Any]] = []

    async def run() -> None:
        sio = socketio.AsyncClient(reconnection=False)
        got = asyncio.Event()

        @sio.on("event", namespace="/_event")
        async def on_event(update: Any) -> None:
            updates.append(update if isinstance(update, dict) else {})
            got.set()

        hydrate = {"name": "reflex___state____state.hydrate_and_load", "payload": {}, "router_data": router_data}
        await sio.connect(
            f"{app.url}?token={token}",
            socketio_path="/_event",
            transports=["websocket"],
            auth={"event": hydrate},
            headers={"Cookie": cookie} if cookie else {},
            namespaces=["/_event"],
            wait_timeout=20,
        )
        try:
            await asyncio.wait_for(got.wait(), 20)
            for event in events:
                got.clear()
                await sio.emit("event", {**event, "router_data": router_data}, namespace="/_event")
                await asyncio.wait_for(got.wait(), 20)
                await asyncio.sleep(0.5)  # a handler's later deltas
        finally:
            await sio.disconnect()

    run_coroutine(run())
    return updates


def _list_rows(updates: list[dict[str, Any]]) -> list[Any]:
    from interview_app.state.admin_list import InterviewListState

    key = InterviewListState.get_full_name()
    rows: list[Any] = []
    for update in updates:
        rows += (update.get("delta") or {}).get(key, {}).get("rows_rx_state_", []) or []
    return rows


@pytest.mark.e2e
def test_a_replayed_tab_token_without_the_cookie_gets_no_data_and_no_export(served_app: ServedApp) -> None:
    from interview_app.state.admin_list import InterviewListState

    raw = _sign_in_served(served_app)
    token = str(uuid.uuid4())
    load = {"name": f"{InterviewListState.get_full_name()}.load", "payload": {}}
    export = {"name": f"{InterviewListState.get_full_name()}.export", "payload": {}}
    admin_tab = _tab(served_app, token, f"admin_session={raw}", [load, export])
    assert _list_rows(admin_tab), "the signed-in tab should load the interview list"
    assert "download" in json.dumps(admin_tab).lower(), "the signed-in tab should get the export"

    # The tab is closed; someone replays its token (it is in the websocket URL) without the cookie.
    replay = _tab(served_app, token, "", [load, export])
    text = json.dumps(replay)
    hydrated = (replay[0].get("delta") or {}).get(InterviewListState.get_full_name(), {}) if replay else {}
    assert "rows_rx_state_" in hydrated, f"the replayed tab was not hydrated: {text[:500]}"
    assert not _list_rows(replay), "hydration handed the closed tab's rows to a connection without the session"
    assert "Your session has ended" in text  # the load and the export were refused, not lost
    assert served_app.demo["admin_email"] not in text
    assert "download" not in text.lower()
    figure("R12 replayed admin tab token without cookie", "no rows at hydration, export refused")

    # The raw token is nowhere on disk: state files (Reflex's disk state manager) and the log.
    needle = raw.encode()
    found = [
        str(p)
        for p in served_app.project.rglob("*")
        if p.is_file()
        and "node_modules" not in p.parts
        and ".venv" not in p.parts
        and p.stat().st_size < 20_000_000
        and needle in p.read_bytes()
    ]
    if served_app.log_path and served_app.log_path.exists():
        found += [str(served_app.log_path)] if needle in served_app.log_path.read_bytes() else []
    states = list(served_app.project.rglob("*.pkl"))
    figure("R12 files holding the raw admin session token", f"{len(found)} (state files scanned: {len(states)})")
    assert not found, found
