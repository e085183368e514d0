"""Result delivery through the durable outbox to a real app server (uvicorn on 127.0.0.1).

The app is down while results are produced, the reporter "restarts" (a new Outbox on
the same folder), the app comes up: every result arrives, each is stored once.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from agent.reporting import Outbox, backoff_seconds, report_result
from interview_app.contracts import InterviewResult, TranscriptSegment
from interview_app.models import Interview, WebhookReceipt
from interview_app.models import TranscriptSegment as SegmentRow
from interview_app.services.interviews import transition
from tests.factories import make_interview

ROOT = Path(__file__).resolve().parents[2]
KEY, SECRET = "APIoutboxkey", "outbox-secret-" + "q" * 32


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """``uvicorn --factory interview_app.api:create_api`` in a child process we start and stop."""

    def __init__(self, port: int, env: dict[str, str]) -> None:
        self.port = port
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/interview-ended"

    def start(self) -> None:
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "interview_app.api:create_api",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app server exited: {self.proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("app server did not answer /healthz within 30 s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None


@pytest.fixture
def app_env(db_url: str, tmp_path: Path, settings_env) -> dict[str, str]:
    values = {
        "DATABASE_URL": db_url,
        "LIVEKIT_URL": "ws://127.0.0.1:7880",
        "LIVEKIT_API_KEY": KEY,
        "LIVEKIT_API_SECRET": SECRET,
        "STORAGE_BACKEND": "local",
        "STORAGE_LOCAL_DIR": str(tmp_path / "storage"),
    }
    settings_env(**values)
    return {**os.environ, **values}


@pytest.fixture
def server(app_env: dict[str, str]) -> Iterator[AppServer]:
    srv = AppServer(free_port(), app_env)
    yield srv
    srv.stop()


@pytest.fixture
def db(app_env: dict[str, str]) -> Iterator[Session]:
    engine = sa.create_engine(app_env["DATABASE_URL"])
    with Session(engine, expire_on_commit=False) as s:
        yield s
    engine.dispose()


def result_for(interview_id: uuid.UUID, n: int = 4) -> InterviewResult:
    return InterviewResult(
        interview_id=interview_id,
        outcome="completed",
        end_reason="all questions covered",
        started_at=datetime.now(UTC),
        ended_at=datetime.now(UTC),
        segments=[
            TranscriptSegment(seq=i, speaker="agent" if i % 2 == 0 else "candidate", text=f"t{i}", start_ms=i, end_ms=i + 1)
            for i in range(n)
        ],
    )


def stored(db: Session, interview_id: uuid.UUID) -> tuple[str, int, int]:
    db.expire_all()
    status = db.get(Interview, interview_id).status
    segments = db.exec(select(sa.func.count()).select_from(SegmentRow).where(SegmentRow.interview_id == interview_id)).one()
    receipts = db.exec(select(sa.func.count()).select_from(WebhookReceipt).where(WebhookReceipt.delivery_id == str(interview_id))).one()
    return status, segments, receipts


def test_results_survive_app_downtime_and_reporter_restart(server: AppServer, db: Session, tmp_path: Path) -> None:
    interviews = []
    for _ in range(3):
        interview, _ = make_interview(db)
        transition(db, interview, "in_progress")
        db.commit()
        interviews.append(interview.id)
    outbox_dir = tmp_path / "outbox"

    # App down: each result is stored, one attempt fails, it stays pending with a backoff.
    first = Outbox(outbox_dir, url=server.url, api_key=KEY, api_secret=SECRET, timeout=2)
    attempts = [report_result(result_for(i), first) for i in interviews]
    assert [a.status for a in attempts] == ["retry"] * 3
    pending = first.pending()
    assert len(pending) == 3
    envelope = json.loads(pending[0].read_text())
    assert envelope["attempts"] == 1 and "Connect" in envelope["last_error"] and envelope["next_attempt_at"] > time.time()

    # The worker restarts (new reporter, same folder), then the app comes up.
    del first
    server.start()
    restarted = Outbox(outbox_dir, url=server.url, api_key=KEY, api_secret=SECRET, timeout=5)
    thread, stop = restarted.start_sweeper(interval=0.5)
    try:
        deadline = time.monotonic() + 30
        while restarted.pending() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert restarted.pending() == [] and restarted.dead() == []
    for interview_id in interviews:
        assert stored(db, interview_id) == ("processing", 4, 1)

    # A second delivery of the same result (e.g. the agent reported twice) is acknowledged and changes nothing.
    again = report_result(result_for(interviews[0], n=6), restarted)
    assert again.status == "delivered"
    assert stored(db, interviews[0]) == ("processing", 4, 1)


def test_refused_result_goes_to_dead_letters_with_the_reason(server: AppServer, tmp_path: Path) -> None:
    server.start()
    outbox = Outbox(tmp_path / "outbox", url=server.url, api_key=KEY, api_secret=SECRET)
    attempt = report_result(result_for(uuid.uuid4()), outbox)
    assert attempt.status == "dead" and attempt.detail.startswith("HTTP 404")
    assert outbox.pending() == []
    [dead] = outbox.dead()
    assert json.loads(dead.read_text())["dead_reason"].startswith("HTTP 404")

    wrong_key = Outbox(tmp_path / "outbox2", url=server.url, api_key=KEY, api_secret="not-the-secret-" + "x" * 30)
    attempt = report_result(result_for(uuid.uuid4()), wrong_key)
    assert attempt.status == "dead" and attempt.detail.startswith("HTTP 401")


@pytest.mark.parametrize(
    ("code", "expected"), [(500, "retry"), (503, "retry"), (408, "retry"), (429, "retry"), (400, "dead"), (413, "dead"), (200, "delivered")]
)
def test_status_codes_decide_retry_or_give_up(code: int, expected: str, tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def app(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(code, text="nope" if code >= 400 else "ok")

    outbox = Outbox(
        tmp_path, url="http://127.0.0.1:9/webhooks/interview-ended", api_key=KEY, api_secret=SECRET, transport=httpx.MockTransport(app)
    )
    assert report_result(result_for(uuid.uuid4()), outbox).status == expected
    assert seen[0].headers["content-type"] == "application/json" and seen[0].headers["authorization"].count(".") == 2
    assert len(outbox.pending()) == (1 if expected == "retry" else 0)
    assert len(outbox.dead()) == (1 if expected == "dead" else 0)
    if expected == "retry":  # waits for its backoff unless forced
        assert outbox.deliver(outbox.pending()[0]).detail == "waiting for backoff"
        assert len(seen) == 1


def test_backoff_grows_and_is_capped() -> None:
    assert 1.6 <= backoff_seconds(1) <= 2.4
    assert 6.4 <= backoff_seconds(3) <= 9.6
    assert backoff_seconds(50) <= 360
