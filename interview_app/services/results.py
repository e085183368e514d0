"""THE result service: an InterviewResult lands here, from the agent's webhook or a text interview.

:func:`accept_result` stores the transcript, recording and latency, moves the
interview on (``processing``, or ``failed`` with the reason), records the event
and queues the evaluation and the ``interview.completed`` webhook event
(services/webhooks.py, in the same transaction) — once per interview. A second delivery of a result
for the same interview changes nothing and reports ``duplicate``.
No HTTP here: the webhook route and the in-app text interview both call it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from interview_app.contracts import InterviewResult
from interview_app.models import Evaluation, EvaluationStatus, Interview, InterviewStatus, TranscriptSegment, WebhookReceipt, utcnow
from interview_app.services.interviews import can_transition, is_inferred_failure, record_event, transition
from interview_app.services.storage import StorageError, storage_from_settings, transcript_key
from interview_app.services.webhooks import emit_interview_completed

logger = logging.getLogger(__name__)

#: WebhookReceipt.source for results; delivery_id is the interview id (one result per interview).
RESULT_SOURCE = "interview-result"


class ResultRejected(Exception):
    """The result cannot be accepted; ``code`` is the HTTP status a webhook answers with."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class AcceptOutcome:
    """What accept_result did: ``accepted`` (rows written) or ``duplicate`` (nothing changed)."""

    status: Literal["accepted", "duplicate"]
    interview_id: str
    interview_status: str
    transcript_uri: str | None = None
    segments: int = 0


def transcript_document(result: InterviewResult) -> bytes:
    """The transcript JSON stored beside the recording (same shape the agent writes)."""
    doc = {
        "interview_id": str(result.interview_id),
        "mode": result.mode,
        "started_at": result.started_at.isoformat() if result.started_at else None,
        "segments": [s.model_dump(mode="json") for s in result.segments],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


def _already_received(session: Session, interview: Interview) -> bool:
    if interview.result_received_at is not None:
        return True
    receipt = session.exec(
        select(WebhookReceipt).where(WebhookReceipt.source == RESULT_SOURCE, WebhookReceipt.delivery_id == str(interview.id))
    ).first()
    return receipt is not None


def accept_result(session: Session, result: InterviewResult, *, source: str) -> AcceptOutcome:
    """Store ``result`` for its interview, once; commits.

    Args:
        session: a database session (committed on success, rolled back on error).
        result: the validated InterviewResult.
        source: who delivered it, e.g. ``"webhook"`` or ``"text-interview"`` (kept in the audit trail).

    Raises:
        ResultRejected: 404 unknown interview; 422 duplicate segment numbers;
            503 the transcript could not be stored (retry later).
    """
    seqs = [seg.seq for seg in result.segments]
    if len(set(seqs)) != len(seqs):
        raise ResultRejected(422, "The transcript has two segments with the same seq; number them 0, 1, 2, ... and send it again.")
    stmt = select(Interview).where(Interview.id == result.interview_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()  # concurrent deliveries of one result queue up here
    interview = session.exec(stmt).first()
    if interview is None:
        session.rollback()
        raise ResultRejected(404, f"No interview {result.interview_id} exists; the result was not stored.")
    if _already_received(session, interview):
        session.rollback()
        return AcceptOutcome("duplicate", str(interview.id), interview.status, interview.s3_transcript_url)

    # Storage before the database: if it fails nothing is written and the sender retries.
    transcript_uri = result.transcript_uri
    if not transcript_uri and result.segments:
        try:
            transcript_uri = storage_from_settings().put(transcript_key(str(interview.id)), transcript_document(result), "application/json")
        except (StorageError, OSError) as err:  # OSError: e.g. two local writers racing on one key
            session.rollback()
            logger.error("transcript of %s not stored: %s", interview.id, err)
            raise ResultRejected(503, "The transcript could not be stored right now; deliver the result again later.") from err

    now = utcnow()
    late = is_inferred_failure(interview)  # failed only because this result had not arrived yet
    session.add(WebhookReceipt(source=RESULT_SOURCE, delivery_id=str(interview.id), received_at=now))
    for seg in sorted(result.segments, key=lambda s: s.seq):
        session.add(
            TranscriptSegment(
                interview_id=interview.id,
                seq=seg.seq,
                speaker=seg.speaker,
                text=seg.text,
                start_ms=seg.start_ms,
                end_ms=seg.end_ms,
                question_id=seg.question_id,
            )
        )
    interview.s3_transcript_url = transcript_uri or interview.s3_transcript_url
    interview.s3_recording_url = result.recording_uri or interview.s3_recording_url
    interview.egress_id = result.egress_id or interview.egress_id
    interview.latency = [t.model_dump(mode="json") for t in result.latency]
    interview.result_received_at = now
    if result.started_at and interview.started_at is None:
        interview.started_at = result.started_at
    if result.ended_at:
        interview.ended_at = result.ended_at
    interview.end_reason = (result.end_reason or interview.end_reason or "")[:500] or None

    status = InterviewStatus(interview.status)
    target = InterviewStatus.processing if result.outcome == "completed" else InterviewStatus.failed
    detail = {"source": source, "outcome": result.outcome}
    if status == InterviewStatus.invited and can_transition(status, InterviewStatus.in_progress) and target == InterviewStatus.processing:
        transition(session, interview, InterviewStatus.in_progress, reason="result received", detail=detail)
        status = InterviewStatus.in_progress
    if can_transition(status, target):
        transition(session, interview, target, reason=result.end_reason or result.outcome, detail=detail)
    elif late and target == InterviewStatus.processing:
        transition(
            session,
            interview,
            target,
            reason=result.end_reason or result.outcome,
            detail=detail | {"replaces": "inferred failure"},
            late_result=True,
        )
    elif late:
        pass  # failed either way; the interviewer's reason (set above) replaces the inferred one
    else:
        logger.warning("interview %s is %s; its result is stored but the status stays", interview.id, status.value)
    record_event(
        session,
        interview.id,
        "result_received",
        source=source,
        outcome=result.outcome,
        end_reason=result.end_reason,
        segments=len(result.segments),
        questions_covered=result.questions_covered,
        recording_uri=result.recording_uri,
        transcript_uri=transcript_uri,
        egress_id=result.egress_id,
        status_after=interview.status,
    )
    if result.outcome == "completed" and interview.status == InterviewStatus.processing.value:
        session.add(Evaluation(interview_id=interview.id, status=EvaluationStatus.pending.value))
    if result.outcome == "completed" and interview.status in (InterviewStatus.processing.value, InterviewStatus.completed.value):
        emit_interview_completed(session, interview)  # queued in this transaction: only if the result commits
    interview.updated_at = now
    session.add(interview)
    try:
        session.commit()
    except OperationalError as err:  # e.g. SQLite busy under concurrent writers: the sender retries
        session.rollback()
        logger.warning("result of %s not stored, database busy: %s", result.interview_id, err)
        raise ResultRejected(503, "The database is busy; deliver the result again in a moment.") from err
    except IntegrityError:
        # Another delivery of the same result won the race (receipt / segment uniqueness).
        session.rollback()
        fresh = session.get(Interview, result.interview_id)
        return AcceptOutcome(
            "duplicate", str(result.interview_id), fresh.status if fresh else "", fresh.s3_transcript_url if fresh else None
        )
    return AcceptOutcome("accepted", str(interview.id), interview.status, transcript_uri, len(result.segments))


def result_counts(session: Session, interview_id: object) -> dict[str, int]:
    """Rows a result wrote for one interview (for checks and the admin pages)."""
    return {
        "segments": session.exec(
            select(sa.func.count()).select_from(TranscriptSegment).where(TranscriptSegment.interview_id == interview_id)
        ).one(),
        "evaluations": session.exec(select(sa.func.count()).select_from(Evaluation).where(Evaluation.interview_id == interview_id)).one(),
    }


__all__ = ["AcceptOutcome", "ResultRejected", "accept_result", "result_counts", "transcript_document"]
