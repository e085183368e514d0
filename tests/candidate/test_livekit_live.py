"""Opt-in: start an interview against a real LiveKit server (`livekit-server --dev` or LiveKit Cloud).

Runs only when LIVEKIT_URL (with LIVEKIT_API_KEY / LIVEKIT_API_SECRET) is set in the
environment pytest was started with, e.g.::

    LIVEKIT_URL=ws://127.0.0.1:7880 LIVEKIT_API_KEY=devkey LIVEKIT_API_SECRET=secret \\
        .venv/bin/python -m pytest tests/candidate/test_livekit_live.py

(tests/conftest.py clears LIVEKIT_* so other tests never touch a real server; this module
reads the values pytest was started with.)
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from livekit import api

from interview_app.services.start import start_interview
from tests.factories import make_interview

_KEYS = ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")


def _launch_environment() -> dict[str, str]:
    values = {k: os.environ[k] for k in _KEYS if os.environ.get(k)}
    environ = Path("/proc/self/environ")
    if len(values) < len(_KEYS) and environ.exists():
        for item in environ.read_bytes().split(b"\0"):
            key, _, value = item.decode(errors="replace").partition("=")
            if key in _KEYS and value:
                values.setdefault(key, value)
    return values


LIVE = _launch_environment()
pytestmark = pytest.mark.skipif(
    "LIVEKIT_URL" not in LIVE,
    reason="no LiveKit server: set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET (e.g. `livekit-server --dev`) to run the live test",
)


def test_start_creates_the_room_and_one_dispatch_on_a_real_server(session, settings_env) -> None:
    if len(LIVE) < len(_KEYS):
        pytest.fail("LIVEKIT_URL is set but LIVEKIT_API_KEY or LIVEKIT_API_SECRET is missing")
    settings = settings_env(**LIVE, AGENT_NAME="interviewer-live-test")
    interview, raw = make_interview(session)
    first = start_interview(raw)
    second = start_interview(raw)
    assert second.room_name == first.room_name and second.rejoined

    async def inspect() -> tuple[list, list]:
        async with api.LiveKitAPI(settings.livekit_url, settings.livekit_api_key, settings.livekit_api_secret) as lk:
            rooms = (await lk.room.list_rooms(api.ListRoomsRequest(names=[first.room_name]))).rooms
            dispatches = await lk.agent_dispatch.list_dispatch(first.room_name)
            await lk.room.delete_room(api.DeleteRoomRequest(room=first.room_name))
            return list(rooms), dispatches

    rooms, dispatches = asyncio.run(inspect())
    assert [r.name for r in rooms] == [first.room_name]
    assert json.loads(rooms[0].metadata)["interview_id"] == str(interview.id)
    assert [d.agent_name for d in dispatches] == ["interviewer-live-test"]
    claims = api.TokenVerifier(settings.livekit_api_key, settings.livekit_api_secret).verify(first.token)
    assert claims.video.room == first.room_name
