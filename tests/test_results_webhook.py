"""The result service and ``POST /webhooks/interview-ended`` on SQLite and PostgreSQL.

Signed like LiveKit webhooks; bad signatures, tampered, expired or oversized bodies are
refused with nothing written; a second delivery of the same result changes nothing.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from agent.reporting import sign_body
from interview_app.api import create_api
from interview_app.contracts import InterviewResult, TranscriptSegment, TurnLatency
from interview_app.models import Evaluation, Interview, InterviewEvent, InterviewStatus, WebhookReceipt
from interview_app.models import TranscriptSegment as SegmentRow
from interview_app.services.interviews import transition
from interview_app.services.results import ResultRejected, accept_result
from tests.factories import accept_concurrently, interview_result, make_interview

KEY, SECRET = "APIresultkey", "result-secret-" + "s" * 32


@pytest.fixture
def env(settings_env, app_db, tmp_path: Path):
    return settings_env(
        LIVEKIT_URL="ws://127.0.0.1:7880",
        LIVEKIT_API_KEY=KEY,
        LIVEKIT_API_SECRET=SECRET,
        STORAGE_BACKEND="local",
        STORAGE_LOCAL_DIR=str(tmp_path / "storage"),
        MAX_WEBHOOK_BYTES="20000",
    )


def started_interview(session: Session) -> Interview:
    interview, _ = make_interview(session)
    transition(session, interview, InterviewStatus.in_progress)
    session.commit()
    return interview


def a_result(interview_id: uuid.UUID, *, outcome: str = "completed", segments: int = 3, **extra) -> InterviewResult:
    turns = [
        TranscriptSegment(seq=i, speaker="agent" if i % 2 == 0 else "candidate", text=f"turn {i}", start_ms=i * 1000, end_ms=i * 1000 + 900)
        for i in range(segments)
    ]
    latency = [TurnLatency(turn=0, total_ms=812.5, end_of_turn_ms=500.0, llm_ttft_ms=200.0, tts_ttfb_ms=112.5)]
    return interview_result(interview_id, turns, outcome=outcome, questions_covered=["q1"], latency=latency, **extra)


def snapshot(session: Session, interview_id: uuid.UUID) -> dict:
    session.expire_all()
    interview = session.get(Interview, interview_id)
    count = lambda model, col: session.exec(select(sa.func.count()).select_from(model).where(col == interview_id)).one()  # noqa: E731
    return {
        "status": interview.status,
        "received": interview.result_received_at,
        "transcript": interview.s3_transcript_url,
        "segments": count(SegmentRow, SegmentRow.interview_id),
        "events": count(InterviewEvent, InterviewEvent.interview_id),
        "evaluations": count(Evaluation, Evaluation.interview_id),
        "receipts": session.exec(
            select(sa.func.count()).select_from(WebhookReceipt).where(WebhookReceipt.delivery_id == str(interview_id))
        ).one(),
    }


# --- the service (no HTTP) ----------------------------------------------------------------


def test_accept_result_stores_everything_once(env, session: Session, tmp_path: Path) -> None:
    interview = started_interview(session)
    result = a_result(interview.id, recording_uri="s3://bucket/interviews/x/recording.ogg", egress_id="EG_123")

    outcome = accept_result(session, result, source="text-interview")

    assert outcome.status == "accepted" and outcome.interview_status == "processing"
    state = snapshot(session, interview.id)
    assert state["segments"] == 3 and state["evaluations"] == 1 and state["receipts"] == 1
    row = session.get(Interview, interview.id)
    assert row.s3_recording_url == "s3://bucket/interviews/x/recording.ogg" and row.egress_id == "EG_123"
    assert row.latency == [{"turn": 0, "total_ms": 812.5, "end_of_turn_ms": 500.0, "llm_ttft_ms": 200.0, "tts_ttfb_ms": 112.5}]
    assert row.end_reason == "all questions covered"
    # The agent did not write the transcript, so the service did.
    assert row.s3_transcript_url == f"local://interviews/{interview.id}/transcript.json"
    stored = json.loads((tmp_path / "storage" / "interviews" / str(interview.id) / "transcript.json").read_text())
    assert [s["text"] for s in stored["segments"]] == ["turn 0", "turn 1", "turn 2"]
    evaluation = session.exec(select(Evaluation).where(Evaluation.interview_id == interview.id)).one()
    assert evaluation.status == "pending"
    kinds = {e.kind for e in session.exec(select(InterviewEvent).where(InterviewEvent.interview_id == interview.id))}
    assert {"result_received", "status_changed"} <= kinds

    again = accept_result(session, a_result(interview.id, segments=5), source="webhook")
    assert again.status == "duplicate"
    assert snapshot(session, interview.id) == state


def test_failed_outcome_marks_interview_failed_with_reason(env, session: Session) -> None:
    interview = started_interview(session)
    outcome = accept_result(session, a_result(interview.id, outcome="failed", segments=0), source="webhook")
    assert outcome.interview_status == "failed"
    row = session.get(Interview, interview.id)
    assert row.end_reason == "plan metadata missing" and row.s3_transcript_url is None
    assert snapshot(session, interview.id)["evaluations"] == 0


def test_transcript_uri_from_agent_is_kept(env, session: Session, tmp_path: Path) -> None:
    interview = started_interview(session)
    accept_result(session, a_result(interview.id, transcript_uri="s3://b/interviews/t.json"), source="webhook")
    assert session.get(Interview, interview.id).s3_transcript_url == "s3://b/interviews/t.json"
    assert not (tmp_path / "storage").exists()


def test_unknown_interview_is_refused(env, session: Session) -> None:
    with pytest.raises(ResultRejected) as err:
        accept_result(session, a_result(uuid.uuid4()), source="webhook")
    assert err.value.code == 404


# --- the webhook ---------------------------------------------------------------------------


@pytest.fixture
def client(env) -> TestClient:
    return TestClient(create_api())


def post(client: TestClient, body: bytes, auth: str | None, content_type: str = "application/json"):
    headers = {"Content-Type": content_type}
    if auth is not None:
        headers["Authorization"] = auth
    return client.post("/webhooks/interview-ended", content=body, headers=headers)


def test_signed_result_is_stored_and_a_replay_changes_nothing(client: TestClient, session: Session) -> None:
    interview = started_interview(session)
    body = a_result(interview.id).model_dump_json().encode()
    auth = sign_body(body, KEY, SECRET)

    first = post(client, body, auth)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "accepted" and first.json()["interview_status"] == "processing"
    state = snapshot(session, interview.id)
    assert state["segments"] == 3 and state["evaluations"] == 1

    replay = post(client, body, auth)
    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    assert snapshot(session, interview.id) == state


def test_refused_requests_write_nothing(client: TestClient, session: Session) -> None:
    interview = started_interview(session)
    before = snapshot(session, interview.id)
    body = a_result(interview.id).model_dump_json().encode()
    good = sign_body(body, KEY, SECRET)
    tampered = body.replace(b"turn 1", b"turn X")
    oversized = a_result(interview.id).model_copy(update={"agent_version": "v" * 25000}).model_dump_json().encode()
    malformed = b'{"interview_id": '
    wrong_schema = json.dumps({"interview_id": str(interview.id), "outcome": "maybe"}).encode()

    cases = {
        "no signature": (post(client, body, None), 401),
        "forged (other secret)": (post(client, body, sign_body(body, KEY, "another-secret-" + "z" * 30)), 401),
        "forged (other key)": (post(client, body, sign_body(body, "APIother", SECRET)), 401),
        "tampered body": (post(client, tampered, good), 401),
        "expired signature": (post(client, body, sign_body(body, KEY, SECRET, ttl=timedelta(seconds=-120))), 401),
        "garbage token": (post(client, body, "not-a-jwt"), 401),
        "oversized": (post(client, oversized, sign_body(oversized, KEY, SECRET)), 413),
        "wrong content type": (post(client, body, good, content_type="text/plain"), 415),
        "malformed json": (post(client, malformed, sign_body(malformed, KEY, SECRET)), 400),
        "schema error": (post(client, wrong_schema, sign_body(wrong_schema, KEY, SECRET)), 422),
    }
    for name, (response, code) in cases.items():
        assert response.status_code == code, f"{name}: {response.status_code} {response.text}"
        assert "detail" in response.json(), name
    assert snapshot(session, interview.id) == before


def test_result_for_unknown_interview_is_404(client: TestClient) -> None:
    body = a_result(uuid.uuid4()).model_dump_json().encode()
    assert post(client, body, sign_body(body, KEY, SECRET)).status_code == 404


def test_duplicate_segment_numbers_are_refused_without_writing(env, session: Session) -> None:
    interview = started_interview(session)
    before = snapshot(session, interview.id)
    result = a_result(interview.id)
    result.segments[1].seq = 0
    with pytest.raises(ResultRejected) as err:
        accept_result(session, result, source="webhook")
    assert err.value.code == 422
    assert snapshot(session, interview.id) == before


def test_concurrent_deliveries_store_the_result_once(env, app_db, session: Session) -> None:

    interview = started_interview(session)
    result = a_result(interview.id)
    outcomes, errors = accept_concurrently(app_db, result, 4)
    assert not errors, errors
    assert outcomes.count("accepted") == 1
    state = snapshot(session, interview.id)
    assert (state["segments"], state["evaluations"], state["receipts"]) == (3, 1, 1)


@pytest.mark.parametrize("outcome", ["completed", "failed"])
def test_result_and_room_finished_in_either_order_end_the_same(env, session: Session, outcome: str) -> None:
    """LiveKit's room_finished may beat the interviewer's result (an outbox retry, a slow app): same final state."""
    from livekit.protocol import models as pb_models
    from livekit.protocol.webhook import WebhookEvent

    from interview_app.services.livekit_events import apply_livekit_event

    finals = []
    for room_first in (False, True):
        interview = started_interview(session)
        interview.room_name = f"interview-{interview.id}"
        session.add(interview)
        session.commit()
        room_finished = WebhookEvent(event="room_finished", id=f"EV_{uuid.uuid4().hex}", room=pb_models.Room(name=interview.room_name))
        deliver_result = lambda i=interview.id: accept_result(session, a_result(i, outcome=outcome), source="webhook")  # noqa: E731
        deliver_room = lambda e=room_finished: apply_livekit_event(session, e, delivery_id=e.id)  # noqa: E731
        outcomes = [step() for step in ([deliver_room, deliver_result] if room_first else [deliver_result, deliver_room])]
        if room_first:  # failed first (no result yet), then the result replaced the inferred failure
            assert outcomes[0] == "marked failed"
        shot = snapshot(session, interview.id)
        session.expire_all()
        final = session.get(Interview, interview.id)
        finals.append((shot["status"], shot["segments"], shot["evaluations"], final.end_reason))
    assert finals[0] == finals[1]
    expected = "processing" if outcome == "completed" else "failed"
    assert finals[0][0] == expected and finals[0][1] == 3 and finals[0][2] == (1 if outcome == "completed" else 0)
    assert finals[0][3] != "candidate left"  # the interviewer's own reason, not the inferred one


def test_only_an_inferred_failure_is_replaced_by_a_late_result(env, session: Session) -> None:
    interview = started_interview(session)
    transition(session, interview, InterviewStatus.failed, reason="cancelled by the hiring team's mistake")
    session.commit()
    accept_result(session, a_result(interview.id), source="webhook")
    assert snapshot(session, interview.id)["status"] == "failed"  # a failure someone decided stays
