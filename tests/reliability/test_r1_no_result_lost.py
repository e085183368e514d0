"""R1 — no result lost: results flow from the agent's outbox to the app while both are killed.

100 interviews (20 in the fast subset) end one after another; the reporter process (outbox +
sweeper, tests/reliability/reporter_process.py) delivers them to ``POST /webhooks/interview-ended``
on a uvicorn app. While that runs, the app is SIGKILLed and restarted twice and the reporter
is SIGKILLed and restarted once. Afterwards every result is stored exactly once with its
exact transcript, and no interview is left ``in_progress``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from interview_app.models import Interview, InterviewStatus
from interview_app.services.interviews import transition
from tests.factories import make_interview
from tests.reliability.conftest import FULL, ROOT, figure
from tests.reliability.reporter_process import SEGMENTS, segment_texts

KEY, SECRET = "APIreliabilityR1", "r1-outbox-secret-" + "w" * 30
RESULTS = 100 if FULL else 20


class Reporter:
    def __init__(self, tmp: Path, url: str) -> None:
        self.args = [str(tmp / "outbox"), url, str(tmp / "ids.txt"), str(tmp / "produced.txt")]
        self.env = {**os.environ, "RELIABILITY_KEY": KEY, "RELIABILITY_SECRET": SECRET, "ENV_FILE": str(tmp / "none.env")}
        self.log = tmp / "reporter.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.outbox = tmp / "outbox"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.reliability.reporter_process", *self.args],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def pending(self) -> int:
        d = self.outbox / "pending"
        return len(list(d.glob("*.json"))) if d.is_dir() else 0

    def dead(self) -> list[str]:
        d = self.outbox / "dead"
        return [p.read_text()[:300] for p in d.glob("*.json")] if d.is_dir() else []


@pytest.fixture
def reporter(tmp_path: Path) -> Iterator[Reporter]:
    rep = Reporter(tmp_path, "")
    yield rep
    rep.kill()


def _received(engine: sa.Engine, ids: list[str]) -> int:
    with engine.connect() as conn:
        q = sa.select(sa.func.count()).select_from(Interview).where(Interview.result_received_at.is_not(None), Interview.id.in_(ids))
        return conn.execute(q).scalar_one()


def test_every_result_is_stored_exactly_once_through_kills(db_url: str, tmp_path: Path, server_env, api_server_factory, reporter) -> None:
    engine = sa.create_engine(db_url)
    ids: list[str] = []
    from sqlmodel import Session

    with Session(engine, expire_on_commit=False) as s:
        for _ in range(RESULTS):
            interview, _ = make_interview(s)
            transition(s, interview, "in_progress")
            s.commit()
            ids.append(str(interview.id))
    (tmp_path / "ids.txt").write_text("\n".join(ids))
    id_values = [uuid.UUID(i) for i in ids]

    app = api_server_factory(
        server_env | {"DATABASE_URL": db_url, "LIVEKIT_URL": "ws://127.0.0.1:9", "LIVEKIT_API_KEY": KEY, "LIVEKIT_API_SECRET": SECRET}
    )
    app.start()
    reporter.args[1] = f"{app.url}/webhooks/interview-ended"
    t0 = time.monotonic()
    reporter.start()

    # kill plan: (fraction of results received, what to kill)
    plan = [(0.2, "app"), (0.45, "reporter"), (0.7, "app")]
    kills: list[str] = []
    deadline = t0 + 180
    while plan and time.monotonic() < deadline:
        done = _received(engine, id_values)
        if done >= plan[0][0] * RESULTS:
            _, what = plan.pop(0)
            if what == "app":
                app.kill()
                time.sleep(1.5)  # results keep ending meanwhile: they wait in the outbox
                app.start()
            else:
                reporter.kill()
                time.sleep(1.0)
                reporter.start()
            kills.append(f"{what} at {done}")
        time.sleep(0.05)
    assert not plan, f"kills not all done in time: {kills}"

    while time.monotonic() < deadline and (_received(engine, id_values) < RESULTS or reporter.pending()):
        time.sleep(0.2)
    drained = time.monotonic() - t0
    reporter.kill()

    assert reporter.dead() == [], reporter.dead()
    problems = []
    with engine.connect() as conn:
        for interview_id in id_values:
            status, reason = conn.execute(
                sa.text("SELECT status, end_reason FROM interview WHERE id = :i"), {"i": _db_id(engine, interview_id)}
            ).one()
            receipts = conn.execute(
                sa.text("SELECT count(*) FROM webhook_receipt WHERE source = 'interview-result' AND delivery_id = :d"),
                {"d": str(interview_id)},
            ).scalar_one()
            segs = conn.execute(
                sa.text("SELECT seq, text FROM transcript_segment WHERE interview_id = :i ORDER BY seq"),
                {"i": _db_id(engine, interview_id)},
            ).all()
            events = conn.execute(
                sa.text("SELECT count(*) FROM interview_event WHERE interview_id = :i AND kind = 'result_received'"),
                {"i": _db_id(engine, interview_id)},
            ).scalar_one()
            if status == InterviewStatus.in_progress.value and not reason:
                problems.append(f"{interview_id}: stuck in_progress without a reason")
            if status != InterviewStatus.processing.value:
                problems.append(f"{interview_id}: status {status}")
            if receipts != 1 or events != 1:
                problems.append(f"{interview_id}: {receipts} receipts, {events} result_received events")
            if [t for _, t in segs] != segment_texts(str(interview_id)) or len(segs) != SEGMENTS:
                problems.append(f"{interview_id}: transcript differs ({len(segs)} segments)")
    engine.dispose()
    figure(
        f"R1 results delivered through kills ({db_url.split(':')[0]})",
        f"{RESULTS - len(problems)}/{RESULTS} stored exactly once, kills: {', '.join(kills)}",
    )
    figure(f"R1 time to deliver all ({db_url.split(':')[0]})", f"{drained:.1f} s")
    assert not problems, problems[:10]


def _db_id(engine: sa.Engine, interview_id: uuid.UUID) -> str:
    """How the interview id is stored: 32 hex chars on SQLite (SQLAlchemy Uuid), a uuid on PostgreSQL."""
    return interview_id.hex if engine.dialect.name == "sqlite" else str(interview_id)
