"""What LiveKit's own webhooks change: abandoned interviews, recording availability, the audit trail.

Each delivery is processed once: a ``WebhookReceipt`` (source ``livekit``, the
event id) is written in the same transaction as its effects, so a replay changes
nothing (and a concurrent replay loses on the unique constraint).
"""

from __future__ import annotations

import logging
from typing import Any

from livekit.protocol import egress as pb_egress
from livekit.protocol import models as pb_models
from livekit.protocol.webhook import WebhookEvent
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from interview_app.models import Interview, InterviewStatus, WebhookReceipt
from interview_app.services import interviews
from interview_app.services.livekit import is_candidate_identity

log = logging.getLogger(__name__)

SOURCE = "livekit"
ABANDONED_REASON = interviews.ABANDONED_REASON  # inferred: a result arriving later replaces it


def _interview_by_room(session: Session, room_name: str) -> Interview | None:
    if not room_name:
        return None
    return session.exec(select(Interview).where(Interview.room_name == room_name)).first()


def _recording_uri(info: pb_egress.EgressInfo) -> str | None:
    """``s3://bucket/key`` of the recording when the egress wrote to S3 (never a public URL)."""
    filename = info.file_results[0].filename if info.file_results else ""
    location = info.file_results[0].location if info.file_results else ""
    if location.startswith("s3://"):
        return location
    outputs: list[Any] = []
    for request in (info.room_composite, info.track_composite, info.participant):
        outputs.extend(request.file_outputs)
    for output in outputs:
        if output.HasField("s3") and output.s3.bucket:
            key = (filename or output.filepath).lstrip("/")
            return f"s3://{output.s3.bucket}/{key}" if key else None
    return None


def _room_finished(session: Session, event: WebhookEvent) -> str:
    interview = _interview_by_room(session, event.room.name)
    if interview is None:
        return "unknown room"
    interviews.record_event(session, interview.id, "livekit_room_finished", actor=SOURCE, room=event.room.name, event_id=event.id)
    if interview.status == InterviewStatus.in_progress.value and interview.result_received_at is None:
        interviews.transition(
            session, interview, InterviewStatus.failed, reason=ABANDONED_REASON, actor=SOURCE, detail={"event_id": event.id}
        )
        return "marked failed"
    return "recorded"


def _participant(session: Session, event: WebhookEvent, joined: bool) -> str:
    interview = _interview_by_room(session, event.room.name)
    if interview is None:
        return "unknown room"
    p = event.participant
    if is_candidate_identity(p.identity):
        who = "candidate"
    elif p.kind == pb_models.ParticipantInfo.Kind.AGENT:
        who = "agent"
    else:
        return "ignored participant"
    detail: dict[str, Any] = {"identity": p.identity, "event_id": event.id}
    if not joined and p.disconnect_reason:
        detail["disconnect_reason"] = pb_models.DisconnectReason.Name(p.disconnect_reason)
    interviews.record_event(session, interview.id, f"{who}_{'joined' if joined else 'left'}", actor=SOURCE, **detail)
    return "recorded"


def _egress_ended(session: Session, event: WebhookEvent) -> str:
    info = event.egress_info
    interview = None
    if info.egress_id:
        interview = session.exec(select(Interview).where(Interview.egress_id == info.egress_id)).first()
    interview = interview or _interview_by_room(session, info.room_name)
    if interview is None:
        return "unknown egress"
    status = pb_egress.EgressStatus.Name(info.status)
    if info.status != pb_egress.EgressStatus.EGRESS_COMPLETE or not info.file_results:
        interviews.record_event(
            session, interview.id, "recording_failed", actor=SOURCE, egress_id=info.egress_id, status=status, error=info.error[:500]
        )
        return "recorded failure"
    size = sum(f.size for f in info.file_results)
    uri = _recording_uri(info)
    interview.recording_size_bytes = size
    interview.egress_id = interview.egress_id or info.egress_id
    if uri:
        interview.s3_recording_url = uri
    interview.updated_at = interviews.utcnow()
    session.add(interview)
    duration_ms = info.file_results[0].duration // 1_000_000
    interviews.record_event(
        session,
        interview.id,
        "recording_available",
        actor=SOURCE,
        egress_id=info.egress_id,
        size_bytes=size,
        uri=uri,
        duration_ms=duration_ms,
    )
    return "recording recorded"


_HANDLERS = {
    "room_finished": _room_finished,
    "participant_joined": lambda s, e: _participant(s, e, True),
    "participant_left": lambda s, e: _participant(s, e, False),
    "egress_ended": _egress_ended,
}


def apply_livekit_event(session: Session, event: WebhookEvent, *, delivery_id: str) -> str:
    """Apply a verified LiveKit webhook once and commit; returns what happened (for logs and tests)."""
    already = session.exec(select(WebhookReceipt).where(WebhookReceipt.source == SOURCE, WebhookReceipt.delivery_id == delivery_id)).first()
    if already is not None:
        return "duplicate"
    handler = _HANDLERS.get(event.event)
    try:
        session.add(WebhookReceipt(source=SOURCE, delivery_id=delivery_id[:200]))
        session.flush()
        outcome = handler(session, event) if handler else "ignored"
        session.commit()
    except IntegrityError:
        session.rollback()  # the same delivery is being processed concurrently
        return "duplicate"
    except BaseException:
        session.rollback()
        raise
    log.info("livekit webhook %s (%s): %s", event.event, delivery_id, outcome)
    return outcome


__all__ = ["ABANDONED_REASON", "apply_livekit_event"]
