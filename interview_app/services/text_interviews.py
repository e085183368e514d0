"""Text interviews: what they write to the database.

The live conversation (the interviewer's ``AgentSession``, the tab's lease, the sweeper) runs in
:mod:`interview_app.text_host`; these are the steps it takes on the database, each in its own
transaction (sync: the host runs them in a worker thread):

- :func:`begin` starts an interview from its invite link (``invited → in_progress``, mode
  ``text``) and builds its plan, or says it is already running as a text interview (resume);
- :func:`persist_messages` stores every chat message as a ``text_message`` event and
  :func:`touch` keeps ``Interview.updated_at`` fresh while a session is alive — both fenced by
  ``Interview.text_host``, the id of the process driving the interview: a process that stalled
  past its lease and woke up after another took the interview over writes nothing and learns
  that it lost it;
- :func:`store_result` hands the :class:`InterviewResult` to the one result service
  (:func:`interview_app.services.results.accept_result`, source ``text-interview``);
- :func:`take_over` gives a live session to this process when the one driving it stopped
  renewing its lease (``Interview.updated_at``, touched by the owning process): a conditional
  UPDATE, so of two processes racing for it exactly one wins (and its id goes into
  ``text_host``); it returns what a session is rebuilt from (the plan, the stored messages, the
  start time);
- :func:`orphaned` and :func:`end_orphaned` find and end interviews nobody resumed for a long
  time, with :data:`ORPHAN_REASON` and the messages stored so far as their transcript
  (outcome ``failed``: the hiring team sees what was said and why it stopped).

Framework-free: imports neither reflex nor livekit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_
from sqlalchemy import update as sa_update
from sqlmodel import Session, col, select

from interview_app.contracts import InterviewPlan, InterviewResult
from interview_app.contracts import TranscriptSegment as SegmentContract
from interview_app.db import session_scope
from interview_app.models import Candidate, Interview, InterviewEvent, InterviewStatus, InterviewTemplate
from interview_app.services.accommodations import PENDING_MESSAGE, PENDING_REASON, accommodation_for
from interview_app.services.interviews import InviteError, as_aware, build_plan, check_invite, find_by_token, record_event, transition
from interview_app.services.results import accept_result
from interview_app.services.templates import as_run

#: Result source recorded by the result service for text interviews.
RESULT_SOURCE = "text-interview"
#: The end reason of an interview whose session was lost (app restart, crash).
ORPHAN_REASON = "The app restarted during the text interview; the conversation up to then is kept."


class TextInterviewError(Exception):
    """Why the text interview cannot do what was asked; ``message`` is for the candidate."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Begun:
    """A usable link: the interview, and its plan when it has just started (None: it was running)."""

    interview_id: str
    plan: InterviewPlan | None


def begin(raw_token: str, *, org_name: str, voice_configured: bool, host_id: str | None = None) -> Begun:
    """Start the text interview behind ``raw_token``, or find it running as one.

    ``host_id`` (the starting process's) becomes the interview's ``text_host``.

    Raises:
        TextInterviewError: the link cannot be used (unknown, expired, finished …), the interview
            runs or is set up as a voice interview, or it waits for an accommodation decision.
    """
    with session_scope() as session:
        for_update = session.get_bind().dialect.name == "postgresql"
        interview = find_by_token(session, raw_token, for_update=for_update)
        try:
            check_invite(interview)
        except InviteError as err:
            raise TextInterviewError(err.reason, err.message) from None
        assert interview is not None
        status = InterviewStatus(interview.status)
        if status == InterviewStatus.in_progress:
            if interview.mode != "text":
                raise TextInterviewError(
                    "voice_running", "This interview is already running as a voice interview. Go back to the interview room to continue."
                )
            return Begun(str(interview.id), None)
        template = session.get(InterviewTemplate, interview.template_id)
        if accommodation_for(session, interview, template=template).waiting:
            # The template waits for the hiring team's answer to the candidate's request (a resume never does).
            raise TextInterviewError(PENDING_REASON, PENDING_MESSAGE)
        if interview.mode != "text" and voice_configured:
            raise TextInterviewError(
                "voice", "This interview is set up as a voice interview. Reload the page and choose how you want to take part."
            )
        candidate = session.get(Candidate, interview.candidate_id)
        if candidate is None or template is None:
            raise TextInterviewError("incomplete", "This interview is not set up completely. Please contact the hiring team.")
        interview.mode = "text"
        interview.text_host = host_id
        transition(
            session, interview, InterviewStatus.in_progress, reason="text interview started", actor="candidate", detail={"mode": "text"}
        )
        record_event(session, interview.id, "text_interview_started", actor="candidate")
        plan = build_plan(interview, candidate, as_run(session, template, interview.template_version), org_name=org_name)
        return Begun(str(interview.id), plan)


@dataclass(frozen=True)
class Resumable:
    """What a live session is rebuilt from after this process took the interview over."""

    interview_id: str
    plan: InterviewPlan
    segments: list[SegmentContract]
    started_at: datetime


def take_over(interview_id: str, now: datetime, *, expired_before: datetime, org_name: str, host_id: str | None = None) -> Resumable | None:
    """Take the lease of an in-progress text interview whose owner stopped renewing it.

    The lease is ``Interview.updated_at``: the process driving a session touches it every few
    seconds. One conditional UPDATE (``… WHERE updated_at < expired_before``) moves it to ``now``;
    of two processes racing, the second finds the row no longer matching and gets None. None also
    when the lease is still live (another process drives the interview). The winner's ``host_id``
    becomes ``text_host``: from then on the process that lost the lease cannot write.

    Raises:
        TextInterviewError: ``gone`` — it is not a running text interview (any more).
    """
    iid = uuid.UUID(interview_id)
    with session_scope() as session:
        interview = session.get(Interview, iid)
        if interview is None or interview.status != InterviewStatus.in_progress.value or interview.mode != "text":
            raise TextInterviewError("gone", "This interview is no longer running. Reload the page to see where it stands.")
        taken = session.connection().execute(
            sa_update(Interview)
            .where(
                col(Interview.id) == iid,
                col(Interview.status) == InterviewStatus.in_progress.value,
                col(Interview.mode) == "text",
                col(Interview.updated_at) < expired_before,
            )
            .values(updated_at=now, text_host=host_id)
        )
        if taken.rowcount != 1:
            return None
    with session_scope() as session:
        interview = session.get(Interview, iid)
        assert interview is not None
        candidate = session.get(Candidate, interview.candidate_id)
        template = session.get(InterviewTemplate, interview.template_id)
        if candidate is None or template is None:
            return None
        plan = build_plan(interview, candidate, as_run(session, template, interview.template_version), org_name=org_name)
        record_event(session, iid, "text_interview_resumed", actor="system")
        return Resumable(
            interview_id=interview_id,
            plan=plan,
            segments=persisted_segments(session, iid),
            started_at=as_aware(interview.started_at or now),
        )


def _held_by(host_id: str) -> ColumnElement[bool]:
    """The interview's lease is this process's (or nobody's yet: rows from before migration 0014)."""
    return or_(col(Interview.text_host) == host_id, col(Interview.text_host).is_(None))


def persist_messages(interview_id: str, segments: list[SegmentContract], now: datetime, *, host_id: str | None = None) -> bool:
    """Store chat messages as ``text_message`` events (and touch the interview).

    With ``host_id``: only while the interview's ``text_host`` is that process (the UPDATE that
    checks it also locks the row until the messages are committed, so a take-over waits for
    them); False — nothing stored — when another process has taken the interview over.
    """
    with session_scope() as session:
        iid = uuid.UUID(interview_id)
        if host_id is not None:
            held = session.connection().execute(
                sa_update(Interview).where(col(Interview.id) == iid, _held_by(host_id)).values(text_host=host_id)
            )
            if held.rowcount != 1:
                return False
        for seg in segments:
            record_event(
                session,
                iid,
                "text_message",
                actor="candidate" if seg.speaker == "candidate" else "interviewer",
                seq=seg.seq,
                speaker=seg.speaker,
                text=seg.text,
                start_ms=seg.start_ms,
                end_ms=seg.end_ms,
                question_id=seg.question_id,
            )
        _touch(session, [iid], now)
    return True


def touch(interview_ids: list[str], now: datetime, *, host_id: str | None = None) -> list[str]:
    """Mark in-progress interviews as alive (other processes then do not count them as orphaned).

    With ``host_id`` only those whose ``text_host`` is that process; returns the ids another
    process has taken over (this one must stop driving them).
    """
    if not interview_ids:
        return []
    ids = [uuid.UUID(i) for i in interview_ids]
    with session_scope() as session:
        if host_id is None:
            _touch(session, ids, now)
            return []
        running = (col(Interview.id).in_(ids), col(Interview.status) == InterviewStatus.in_progress.value)
        session.connection().execute(sa_update(Interview).where(*running, _held_by(host_id)).values(updated_at=now, text_host=host_id))
        lost = session.exec(select(Interview.id).where(*running, col(Interview.text_host) != host_id)).all()
        return [str(i) for i in lost]


def _touch(session: Session, ids: list[uuid.UUID], now: datetime) -> None:
    for interview in session.exec(select(Interview).where(col(Interview.id).in_(ids))).all():
        if interview.status == InterviewStatus.in_progress.value:
            interview.updated_at = now
            session.add(interview)


def store_result(result: InterviewResult) -> str:
    """Hand the result to the result service; returns the interview's status after it.

    Raises:
        ResultRejected: the result service cannot store it now (e.g. storage is down); try again.
    """
    with session_scope() as session:
        return accept_result(session, result, source=RESULT_SOURCE).interview_status


def record(interview_id: str, kind: str, **detail: Any) -> None:
    """Record one event of the interview (e.g. ``text_candidate_idle``)."""
    with session_scope() as session:
        record_event(session, uuid.UUID(interview_id), kind, **detail)


def orphaned(hosted: set[str], stale_before: datetime) -> list[str]:
    """In-progress text interviews not in ``hosted`` and untouched since ``stale_before``."""
    with session_scope() as session:
        rows = session.exec(select(Interview).where(Interview.status == InterviewStatus.in_progress.value, Interview.mode == "text")).all()
        return [str(r.id) for r in rows if str(r.id) not in hosted and as_aware(r.updated_at) <= stale_before]


def persisted_segments(session: Session, interview_id: uuid.UUID) -> list[SegmentContract]:
    """The chat messages stored for an interview (``text_message`` events), in order."""
    events = session.exec(
        select(InterviewEvent)
        .where(InterviewEvent.interview_id == interview_id, InterviewEvent.kind == "text_message")
        .order_by(col(InterviewEvent.id))
    ).all()
    segments: list[SegmentContract] = []
    for ev in events:
        d = ev.detail or {}
        segments.append(
            SegmentContract(
                seq=len(segments),
                speaker="candidate" if d.get("speaker") == "candidate" else "agent",
                text=str(d.get("text", ""))[:20000],
                start_ms=max(0, int(d.get("start_ms") or 0)),
                end_ms=max(0, int(d.get("end_ms") or 0)),
                question_id=d.get("question_id"),
            )
        )
    return segments


def end_orphaned(interview_id: str, now: datetime) -> str:
    """End an interview whose session was lost, through the result service; returns its status."""
    with session_scope() as session:
        iid = uuid.UUID(interview_id)
        interview = session.get(Interview, iid)
        if interview is None or interview.status != InterviewStatus.in_progress.value:
            return interview.status if interview else ""
        result = InterviewResult(
            interview_id=iid,
            outcome="failed",
            end_reason=ORPHAN_REASON,
            mode="text",
            started_at=interview.started_at,
            ended_at=now,
            segments=persisted_segments(session, iid),
        )
        return accept_result(session, result, source=RESULT_SOURCE).interview_status


__all__ = [
    "ORPHAN_REASON",
    "RESULT_SOURCE",
    "Begun",
    "Resumable",
    "TextInterviewError",
    "begin",
    "end_orphaned",
    "orphaned",
    "persist_messages",
    "persisted_segments",
    "record",
    "store_result",
    "take_over",
    "touch",
]
