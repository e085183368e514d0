"""Opt-in: the real worker in a real LiveKit room. Runs only with a LiveKit server configured.

Set LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET (e.g. `livekit-server --dev`:
ws://127.0.0.1:7880, devkey, secret) and OPENAI_API_KEY (+ OPENAI_BASE_URL) for STT/TTS when
starting pytest. tests/conftest.py removes LIVEKIT_* from os.environ so that no other test
talks to a real server; this module reads them from the environment pytest was started with.

Flow: app (uvicorn) + worker (`python -m agent dev`) → room with the plan as metadata →
explicit dispatch → candidate joins → the greeting arrives as a transcription → candidate
leaves → the signed result lands in the app's database.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from interview_app.models import Candidate, Interview, InterviewTemplate
from interview_app.services.interviews import build_plan, transition
from tests.agent.test_outbox import AppServer, free_port
from tests.conftest import migrate_to
from tests.factories import make_interview

ROOT = Path(__file__).resolve().parents[2]


def _launch_env() -> dict[str, str]:
    """The environment pytest was started with (before tests/conftest.py cleaned it)."""
    try:
        raw = Path("/proc/self/environ").read_bytes().split(b"\0")
        env = dict(item.decode(errors="replace").split("=", 1) for item in raw if b"=" in item)
    except OSError:
        env = {}
    return env | {k: v for k, v in os.environ.items() if k.startswith(("LIVEKIT_", "OPENAI_"))}


LAUNCH = _launch_env()
MISSING = [k for k in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET", "OPENAI_API_KEY") if not LAUNCH.get(k)]
pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(bool(MISSING), reason=f"live LiveKit test: set {', '.join(MISSING)} to run it against a real server"),
]


async def test_worker_interviews_in_a_real_room_and_reports(tmp_path: Path) -> None:
    from livekit import api, rtc

    lk = {k: LAUNCH[k] for k in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")}
    db_url = f"sqlite:///{tmp_path / 'live.db'}"
    migrate_to(db_url)
    engine = sa.create_engine(db_url)
    with Session(engine, expire_on_commit=False) as db:
        interview, _ = make_interview(db)
        transition(db, interview, "in_progress")
        db.commit()
        plan = build_plan(
            interview, db.get(Candidate, interview.candidate_id), db.get(InterviewTemplate, interview.template_id), org_name="Live Test"
        )
    metadata = plan.model_dump_json()

    base_env = {
        **os.environ,
        **lk,
        "OPENAI_API_KEY": LAUNCH["OPENAI_API_KEY"],
        "DATABASE_URL": db_url,
        "STORAGE_LOCAL_DIR": str(tmp_path / "storage"),
    }
    if LAUNCH.get("OPENAI_BASE_URL"):
        base_env["OPENAI_BASE_URL"] = LAUNCH["OPENAI_BASE_URL"]
    app = AppServer(free_port(), base_env)
    app.start()
    agent_name = f"interviewer-test-{uuid.uuid4().hex[:8]}"
    worker_env = base_env | {
        "AGENT_NAME": agent_name,
        "RESULT_WEBHOOK_URL": app.url,
        "AGENT_OUTBOX_DIR": str(tmp_path / "outbox"),
        "AGENT_HTTP_PORT": "0",
    }
    log = open(tmp_path / "worker.log", "w+b")
    worker = subprocess.Popen([sys.executable, "-m", "agent", "dev"], cwd=ROOT, env=worker_env, stdout=log, stderr=subprocess.STDOUT)
    lkapi = api.LiveKitAPI(lk["LIVEKIT_URL"], lk["LIVEKIT_API_KEY"], lk["LIVEKIT_API_SECRET"])
    room = rtc.Room()
    try:
        deadline = time.monotonic() + 60
        while b"registered worker" not in (tmp_path / "worker.log").read_bytes():
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "worker did not register within 60 s"
            await asyncio.sleep(0.5)

        room_name = f"interview-{interview.id}"
        await lkapi.room.create_room(api.CreateRoomRequest(name=room_name, metadata=metadata, empty_timeout=60))
        await lkapi.agent_dispatch.create_dispatch(api.CreateAgentDispatchRequest(agent_name=agent_name, room=room_name, metadata=metadata))

        transcripts: list[str] = []

        async def read_stream(reader: rtc.TextStreamReader) -> None:
            transcripts.append(await reader.read_all())

        room.register_text_stream_handler("lk.transcription", lambda reader, _who: asyncio.ensure_future(read_stream(reader)))
        token = (
            api.AccessToken(lk["LIVEKIT_API_KEY"], lk["LIVEKIT_API_SECRET"])
            .with_identity(f"candidate-{interview.id}")
            .with_grants(api.VideoGrants(room_join=True, room=room_name))
            .to_jwt()
        )
        await room.connect(lk["LIVEKIT_URL"], token)
        deadline = time.monotonic() + 90
        while not any(plan.candidate_name.split()[0] in t for t in transcripts):
            assert time.monotonic() < deadline, f"no greeting within 90 s; transcripts: {transcripts}"
            await asyncio.sleep(0.5)
        await room.disconnect()  # the candidate leaves → the interview ends → result reported

        deadline = time.monotonic() + 90
        while True:
            with Session(engine) as db:
                row = db.get(Interview, interview.id)
                if row.result_received_at is not None:
                    break
            assert time.monotonic() < deadline, "no result within 90 s:\n" + (tmp_path / "worker.log").read_text()[-3000:]
            await asyncio.sleep(1)
        assert row.status == "processing" and row.end_reason == "candidate left"
        assert (
            row.s3_transcript_url
            and json.loads((tmp_path / "storage" / row.s3_transcript_url.removeprefix("local://")).read_text())["segments"]
        )
    finally:
        await lkapi.aclose()
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        app.stop()
        log.close()
        engine.dispose()
