"""POST /webhooks/livekit: signed events change state once; forged, tampered or unsigned ones change nothing."""

from __future__ import annotations

import base64
import hashlib
import uuid

import pytest
from fastapi.testclient import TestClient
from google.protobuf.json_format import MessageToJson
from livekit.api import AccessToken
from livekit.protocol import egress as pb_egress
from livekit.protocol import models as pb_models
from livekit.protocol.webhook import WebhookEvent
from sqlalchemy import func
from sqlmodel import Session, select

from interview_app.api import create_api
from interview_app.models import Interview, InterviewEvent, InterviewStatus, WebhookReceipt, utcnow
from interview_app.services.interviews import transition
from tests.factories import make_interview


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_api(), raise_server_exceptions=False)


def sign(body: str, key: str, secret: str) -> str:
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    return AccessToken(key, secret).with_sha256(digest).to_jwt()


def event_json(kind: str, room: str, **fields) -> str:
    event = WebhookEvent(event=kind, id=f"EV_{uuid.uuid4().hex[:10]}", created_at=1, room=pb_models.Room(name=room), **fields)
    return MessageToJson(event)


def post(client: TestClient, body: str, auth: str | None) -> int:
    headers = {"content-type": "application/webhook+json"}
    if auth is not None:
        headers["authorization"] = auth
    return client.post("/webhooks/livekit", content=body.encode(), headers=headers).status_code


def counts(session: Session) -> tuple[int, int]:
    session.expire_all()
    return (
        session.exec(select(func.count()).select_from(WebhookReceipt)).one(),
        session.exec(select(func.count()).select_from(InterviewEvent)).one(),
    )


def started_interview(session: Session) -> Interview:
    interview, _ = make_interview(session)
    transition(session, interview, InterviewStatus.in_progress)
    session.commit()
    return interview


def test_room_finished_fails_an_abandoned_interview_once(session, livekit_settings, client) -> None:
    s = livekit_settings
    interview = started_interview(session)
    body = event_json("room_finished", interview.room_name)
    assert post(client, body, sign(body, s.livekit_api_key, s.livekit_api_secret)) == 200
    session.expire_all()
    row = session.get(Interview, interview.id)
    assert row.status == InterviewStatus.failed.value and row.end_reason == "candidate left"
    before = counts(session)
    # a replay of the same delivery changes nothing
    assert post(client, body, sign(body, s.livekit_api_key, s.livekit_api_secret)) == 200
    assert counts(session) == before


def test_room_finished_after_the_result_arrived_does_not_fail_it(session, livekit_settings, client) -> None:
    s = livekit_settings
    interview = started_interview(session)
    interview.result_received_at = utcnow()
    session.add(interview)
    session.commit()
    body = event_json("room_finished", interview.room_name)
    assert post(client, body, sign(body, s.livekit_api_key, s.livekit_api_secret)) == 200
    session.expire_all()
    assert session.get(Interview, interview.id).status == InterviewStatus.in_progress.value


def test_candidate_left_is_recorded_not_failed(session, livekit_settings, client) -> None:
    s = livekit_settings
    interview = started_interview(session)
    participant = pb_models.ParticipantInfo(
        identity=f"candidate-{interview.id}", disconnect_reason=pb_models.DisconnectReason.CLIENT_INITIATED
    )
    body = event_json("participant_left", interview.room_name, participant=participant)
    assert post(client, body, sign(body, s.livekit_api_key, s.livekit_api_secret)) == 200
    session.expire_all()
    assert session.get(Interview, interview.id).status == InterviewStatus.in_progress.value
    left = session.exec(
        select(InterviewEvent).where(InterviewEvent.interview_id == interview.id, InterviewEvent.kind == "candidate_left")
    ).one()
    assert left.detail["disconnect_reason"] == "CLIENT_INITIATED"


def test_egress_ended_records_recording_size_and_uri(session, livekit_settings, client) -> None:
    s = livekit_settings
    interview = started_interview(session)
    info = pb_egress.EgressInfo(
        egress_id="EG_test123",
        room_name=interview.room_name,
        status=pb_egress.EgressStatus.EGRESS_COMPLETE,
        file_results=[pb_egress.FileInfo(filename="recordings/x.ogg", size=123456, duration=5_000_000_000, location="https://b.s3/x")],
        room_composite=pb_egress.RoomCompositeEgressRequest(
            room_name=interview.room_name,
            file_outputs=[pb_egress.EncodedFileOutput(filepath="recordings/x.ogg", s3=pb_egress.S3Upload(bucket="private-bucket"))],
        ),
    )
    body = event_json("egress_ended", interview.room_name, egress_info=info)
    assert post(client, body, sign(body, s.livekit_api_key, s.livekit_api_secret)) == 200
    session.expire_all()
    row = session.get(Interview, interview.id)
    assert row.recording_size_bytes == 123456
    assert row.s3_recording_url == "s3://private-bucket/recordings/x.ogg"
    assert row.egress_id == "EG_test123"
    ev = session.exec(
        select(InterviewEvent).where(InterviewEvent.interview_id == interview.id, InterviewEvent.kind == "recording_available")
    ).one()
    assert ev.detail["size_bytes"] == 123456 and ev.detail["duration_ms"] == 5000


@pytest.mark.parametrize("attack", ["unsigned", "garbage", "wrong_secret", "wrong_key", "tampered_body", "no_hash"])
def test_forged_tampered_or_unsigned_webhooks_are_401_and_write_nothing(session, livekit_settings, client, attack) -> None:
    s = livekit_settings
    interview = started_interview(session)
    body = event_json("room_finished", interview.room_name)
    auth = {
        "unsigned": None,
        "garbage": "Bearer not.a.jwt",
        "wrong_secret": sign(body, s.livekit_api_key, "another-secret-" + "z" * 30),
        "wrong_key": sign(body, "someone-else", s.livekit_api_secret),
        "tampered_body": sign(event_json("room_finished", "interview-other"), s.livekit_api_key, s.livekit_api_secret),
        "no_hash": AccessToken(s.livekit_api_key, s.livekit_api_secret).to_jwt(),
    }[attack]
    before = counts(session)
    assert post(client, body, auth) == 401
    assert counts(session) == before
    session.expire_all()
    assert session.get(Interview, interview.id).status == InterviewStatus.in_progress.value


def test_webhooks_without_livekit_configured_are_refused(session, app_db, client) -> None:
    body = event_json("room_finished", "interview-x")
    assert post(client, body, sign(body, "k", "s" * 32)) == 503
