"""Data retention: recordings and transcripts go after RETENTION_DAYS; a candidate's data on request.

``apply_retention`` is what the ``retention`` CLI command runs (an operator schedules it,
e.g. daily from cron). It deletes the recording and transcript objects and the transcript
rows of interviews that ended more than RETENTION_DAYS ago, and keeps the interview row,
its status and its evaluation (no recording or quote is left in it: evidence quotes are
removed with the transcript).

It also deletes outbound webhook deliveries (``webhook_delivery``) created more than
RETENTION_DAYS ago, whatever their status: their payloads carry candidate names and scores.

``delete_candidate_data`` removes everything about one candidate: storage objects and
all rows, the webhook deliveries about their interviews included (sent or not; what an
endpoint already received is out of the app's reach). The audit event it leaves names what
was deleted by id and count only.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from interview_app.db import affected_rows
from interview_app.models import (
    TERMINAL_STATUSES,
    AccommodationRequest,
    Candidate,
    Evaluation,
    GreenhouseAssignment,
    Interview,
    InterviewEvent,
    Scorecard,
    TranscriptSegment,
    utcnow,
)
from interview_app.services.interviews import as_aware, record_event
from interview_app.services.scoring import read_scores, stored_scores
from interview_app.services.storage import StorageError, interview_prefix, storage_for_uri, storage_from_settings
from interview_app.services.webhooks import count_deliveries_before, delete_deliveries_about, delete_deliveries_before
from interview_app.settings import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass
class RetentionItem:
    interview_id: uuid.UUID
    ended_at: datetime
    objects: list[str]
    transcript_segments: int


@dataclass
class RetentionReport:
    cutoff: datetime | None
    items: list[RetentionItem] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: Webhook deliveries created before the cutoff that were deleted (with dry_run: would be).
    webhook_deliveries: int = 0


def _objects_of(interview: Interview, settings: Settings) -> list[str]:
    """Storage URIs of an interview: the ones on the row plus anything under its prefix."""
    uris = [u for u in (interview.s3_recording_url, interview.s3_transcript_url) if u]
    try:
        storage = storage_from_settings(settings)
        uris += [storage.uri(k) for k in storage.list_keys(interview_prefix(str(interview.id)))]
    except StorageError as err:
        log.warning("could not list objects of interview %s: %s", interview.id, err)
    return sorted(set(uris))


def _delete_objects(uris: list[str], settings: Settings) -> list[str]:
    """Delete each object; returns error sentences for those that could not be deleted."""
    errors = []
    for uri in uris:
        try:
            storage_for_uri(uri, settings).delete(uri)
        except StorageError as err:
            errors.append(f"{uri}: {err}")
    return errors


def due_interviews(session: Session, cutoff: datetime) -> list[Interview]:
    """Finished interviews that ended before ``cutoff`` and still hold a recording or transcript."""
    has_segments = sa.exists().where(col(TranscriptSegment.interview_id) == col(Interview.id))
    stmt = (
        select(Interview)
        .where(
            col(Interview.status).in_([s.value for s in TERMINAL_STATUSES]),
            col(Interview.ended_at).is_not(None),
            col(Interview.ended_at) < cutoff,
            sa.or_(col(Interview.s3_recording_url).is_not(None), col(Interview.s3_transcript_url).is_not(None), has_segments),
        )
        .order_by(col(Interview.ended_at))
    )
    return list(session.exec(stmt))


def apply_retention(
    session: Session, *, settings: Settings | None = None, dry_run: bool = False, now: datetime | None = None
) -> RetentionReport:
    """Delete recordings and transcripts older than RETENTION_DAYS (0 = keep everything)."""
    settings = settings or get_settings()
    if settings.retention_days <= 0:
        return RetentionReport(cutoff=None)
    cutoff = (now or utcnow()) - timedelta(days=settings.retention_days)
    report = RetentionReport(cutoff=cutoff)
    for interview in due_interviews(session, cutoff):
        count = session.exec(
            select(func.count()).select_from(TranscriptSegment).where(TranscriptSegment.interview_id == interview.id)
        ).one()
        assert interview.ended_at is not None, "due_interviews selects ended interviews"
        item = RetentionItem(interview.id, as_aware(interview.ended_at), _objects_of(interview, settings), count)
        report.items.append(item)
        if dry_run:
            continue
        errors = _delete_objects(item.objects, settings)
        if errors:  # keep the pointers so the next run tries again
            report.errors += errors
            continue
        session.execute(sa.delete(TranscriptSegment).where(col(TranscriptSegment.interview_id) == interview.id))
        for ev in session.exec(select(Evaluation).where(Evaluation.interview_id == interview.id)):
            ev.scores = stored_scores(s.model_copy(update={"evidence": []}) for s in read_scores(ev.scores))  # quotes are transcript text
            session.add(ev)
        interview.s3_recording_url = None
        interview.s3_transcript_url = None
        interview.recording_size_bytes = None
        session.add(interview)
        record_event(
            session,
            interview.id,
            "retention_deleted",
            actor="retention",
            objects=len(item.objects),
            transcript_segments=count,
            retention_days=settings.retention_days,
        )
        session.commit()
    if dry_run:
        report.webhook_deliveries = count_deliveries_before(session, cutoff)
    else:
        report.webhook_deliveries = delete_deliveries_before(session, cutoff)
        session.commit()
    return report


@dataclass
class DeletionReport:
    candidate_id: int
    interviews: int
    objects: int
    rows: dict[str, int]


class DeletionError(Exception):
    """Candidate data could not be deleted completely; the message says what to do."""


def delete_candidate_data(session: Session, candidate_id: int, *, actor: str, settings: Settings | None = None) -> DeletionReport:
    """Delete a candidate, their interviews and everything stored about them (commits).

    Storage objects go first: if one cannot be deleted, no row is touched, so nothing
    is left unreferenced. The audit event names ids and counts only.

    Raises:
        DeletionError: the candidate does not exist, or storage refused a delete.
    """
    settings = settings or get_settings()
    candidate = session.get(Candidate, candidate_id)
    if candidate is None:
        raise DeletionError("This candidate no longer exists; their data was already deleted.")
    interviews = list(session.exec(select(Interview).where(Interview.candidate_id == candidate_id)))
    ids = [i.id for i in interviews]
    uris = sorted({u for i in interviews for u in _objects_of(i, settings)})
    errors = _delete_objects(uris, settings)
    if errors:
        raise DeletionError(f"Storage refused to delete {len(errors)} file(s); nothing else was deleted. Try again later. ({errors[0]})")
    rows: dict[str, int] = {}
    if ids:
        for name, model in (
            ("transcript_segments", TranscriptSegment),
            ("evaluations", Evaluation),
            ("events", InterviewEvent),
            ("accommodation_requests", AccommodationRequest),
            ("scorecards", Scorecard),
            ("greenhouse_assignments", GreenhouseAssignment),
        ):
            rows[name] = affected_rows(session.execute(sa.delete(model).where(col(model.interview_id).in_(ids))))
        rows["webhook_deliveries"] = delete_deliveries_about(session, ids)
        rows["interviews"] = affected_rows(session.execute(sa.delete(Interview).where(col(Interview.id).in_(ids))))
    else:
        rows["interviews"] = 0
    session.delete(candidate)
    record_event(
        session,
        None,
        "candidate_data_deleted",
        actor=actor,
        candidate_id=candidate_id,
        interview_ids=[str(i) for i in ids],
        storage_objects=len(uris),
        rows=rows,
    )
    session.commit()
    return DeletionReport(candidate_id=candidate_id, interviews=len(ids), objects=len(uris), rows=rows)
