"""POST /api/interview/start over HTTP (the FastAPI app the Reflex backend mounts)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from livekit.api import TokenVerifier

from interview_app.api import create_api
from tests.factories import make_interview


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_api(), raise_server_exceptions=False)


def test_start_returns_room_token_url_and_expiry(session, livekit_settings, fake_livekit, client) -> None:
    interview, raw = make_interview(session)
    res = client.post("/api/interview/start", json={"invite_token": raw})
    assert res.status_code == 200, res.text
    body = res.json()
    assert set(body) == {"room_name", "token", "server_url", "expires_at"}
    assert body["room_name"] == interview.room_name and body["server_url"] == fake_livekit.url
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(0) < expires - datetime.now(expires.tzinfo) <= timedelta(seconds=900)
    assert TokenVerifier(fake_livekit.api_key, fake_livekit.api_secret).verify(body["token"]).video.room == interview.room_name


def test_unknown_and_expired_links(session, livekit_settings, client) -> None:
    res = client.post("/api/interview/start", json={"invite_token": "nope"})
    assert res.status_code == 404 and res.json()["error"] == "unknown"
    _, raw = make_interview(session, ttl=timedelta(seconds=-5))
    res = client.post("/api/interview/start", json={"invite_token": raw})
    assert res.status_code == 410 and "expired" in res.json()["detail"]


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"{not json",
        b"[]",
        b'{"invite_token": 5}',
        b'{"invite_token": ""}',
        b'{"invite_token": "' + b"x" * 500 + b'"}',
        b'{"token": "abc"}',
        b'{"invite_token": null}',
        b'{"invite_token": "\\u0000\\ud800"}',
    ],
)
def test_malformed_bodies_are_422_never_500(app_db, client, payload) -> None:
    res = client.post("/api/interview/start", content=payload, headers={"content-type": "application/json"})
    assert res.status_code == 422, (payload, res.status_code, res.text)


def test_not_configured_is_503_with_a_sentence(session, app_db, client) -> None:
    _, raw = make_interview(session)
    res = client.post("/api/interview/start", json={"invite_token": raw})
    assert res.status_code == 503
    assert res.json()["detail"].startswith("Voice interviews are not set up")


def test_start_is_in_the_openapi_schema(client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/interview/start" in paths and "/webhooks/livekit" in paths
