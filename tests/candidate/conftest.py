"""Fixtures for the candidate flow: a fake LiveKit server and settings pointing at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from interview_app.settings import Settings
from tests.fakes.livekit_server import FakeLiveKitServer


@pytest.fixture(scope="session")
def livekit_server() -> Iterator[FakeLiveKitServer]:
    server = FakeLiveKitServer().start()
    yield server
    server.stop()


@pytest.fixture
def fake_livekit(livekit_server: FakeLiveKitServer) -> FakeLiveKitServer:
    livekit_server.reset()
    return livekit_server


@pytest.fixture
def livekit_settings(app_db, settings_env, fake_livekit: FakeLiveKitServer) -> Settings:
    """App settings with LiveKit configured against the fake server (and the test database)."""
    return settings_env(**fake_livekit.env, AGENT_NAME="interviewer-test", SUPPORT_EMAIL="help@example.com")
