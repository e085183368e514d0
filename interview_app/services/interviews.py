"""The interview lifecycle: invitations, the status machine, plans.

:func:`transition` owns every change of ``Interview.status``; nothing else
assigns it.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from interview_app.contracts import MAX_DURATION_SECONDS, MAX_TIME_BUDGET_SECONDS, InterviewPlan, PlanQuestion
from interview_app.models import (
    TERMINAL_STATUSES,
    Candidate,
    Interview,
    InterviewEvent,
    InterviewStatus,
    InterviewTemplate,
    utcnow,
)

S = InterviewStatus

#: Legal moves of the status machine. Anything else is refused.
TRANSITIONS: dict[InterviewStatus, frozenset[InterviewStatus]] = {
    S.invited: frozenset({S.in_progress, S.expired, S.failed, S.cancelled}),
    S.in_progress: frozenset({S.processing, S.failed, S.cancelled}),
    S.processing: frozenset({S.completed, S.failed, S.cancelled}),
    S.completed: frozenset(),
    S.expired: frozenset(),
    S.failed: frozenset(),
    S.cancelled: frozenset(),
}


#: Failures the app infers from an absence — LiveKit closed the room with no result, or the interviewer
#: left and never reported — rather than ones the interviewer reported. The interviewer's result is the
#: authority on how an interview went, and webhooks and results can arrive in any order: a result that
#: arrives after such a failure replaces it (``failed → processing``, the only move out of ``failed``).
ABANDONED_REASON = "candidate left"
INTERVIEWER_LOST_REASON = "the interviewer disconnected before the interview finished"
INFERRED_FAILURE_REASONS = frozenset({ABANDONED_REASON, INTERVIEWER_LOST_REASON})


def is_inferred_failure(interview: Interview) -> bool:
    """``failed`` only because no result had arrived yet (see INFERRED_FAILURE_REASONS)."""
    return interview.status == S.failed.value and (interview.end_reason or "") in INFERRED_FAILURE_REASONS


class IllegalTransition(Exception):
    """A status change the machine does not allow."""

    def __init__(self, current: InterviewStatus, target: InterviewStatus) -> None:
        super().__init__(f"An interview that is {current.value} cannot become {target.value}.")
        self.current = current
        self.target = target


class InviteError(Exception):
    """An invite link that cannot be used; ``code`` is the HTTP status the API answers."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message


def can_transition(current: InterviewStatus | str, target: InterviewStatus | str) -> bool:
    return S(target) in TRANSITIONS[S(current)]


def transition(
    session: Session,
    interview: Interview,
    target: InterviewStatus | str,
    *,
    reason: str = "",
    actor: str = "system",
    detail: dict[str, Any] | None = None,
    late_result: bool = False,
) -> InterviewEvent:
    """Move ``interview`` to ``target`` and record the event (caller commits).

    ``late_result``: the interviewer's result arrived after an inferred failure
    (:func:`is_inferred_failure`, checked by the caller before it changed any field);
    the only way out of ``failed``, and only to ``processing``.

    Raises:
        IllegalTransition: the machine does not allow this move.
    """
    event = apply_transition(interview, target, reason=reason, actor=actor, detail=detail, late_result=late_result)
    session.add(interview)
    session.add(event)
    return event


def apply_transition(
    interview: Interview,
    target: InterviewStatus | str,
    *,
    reason: str = "",
    actor: str = "system",
    detail: dict[str, Any] | None = None,
    late_result: bool = False,
) -> InterviewEvent:
    """The status machine without a session: change ``interview``'s fields, return the event to store.

    :func:`transition` adds both to a session; the start path (services/start.py) writes them
    with one UPDATE and one INSERT.

    Raises:
        IllegalTransition: the machine does not allow this move.
    """
    current, target = S(interview.status), S(target)
    correcting = late_result and current == S.failed and target == S.processing
    if target not in TRANSITIONS[current] and not correcting:
        raise IllegalTransition(current, target)
    now = utcnow()
    interview.status = target.value
    interview.updated_at = now
    if target == S.in_progress and interview.started_at is None:
        interview.started_at = now
    ending = target in TERMINAL_STATUSES or target == S.processing
    if ending:
        interview.ended_at = interview.ended_at or now
    # Only an ending move gives the interview its end reason ("text interview started" is not one).
    if reason and ending and (target in (S.failed, S.cancelled, S.expired) or not interview.end_reason):
        interview.end_reason = reason[:500]
    return InterviewEvent(
        interview_id=interview.id,
        kind="status_changed",
        actor=actor,
        detail={"from": current.value, "to": target.value, "reason": reason, **(detail or {})},
    )


def record_event(session: Session, interview_id: uuid.UUID | None, kind: str, *, actor: str = "system", **detail: Any) -> InterviewEvent:
    event = InterviewEvent(interview_id=interview_id, kind=kind, actor=actor, detail=detail)
    session.add(event)
    return event


def hash_token(raw_token: str) -> str:
    """The stored form of an invite token (the link carries the raw one)."""
    return hashlib.sha256(raw_token.encode("utf-8")).hexdigest()


def new_invite_token() -> str:
    return secrets.token_urlsafe(32)


def create_invitation(
    session: Session,
    candidate: Candidate,
    template: InterviewTemplate,
    *,
    ttl: timedelta,
    actor: str = "system",
) -> tuple[Interview, str]:
    """Create an invited interview; returns it with the raw token (shown once)."""
    if template.archived:
        raise ValueError(f"The template “{template.title}” is archived; restore it before inviting.")
    assert candidate.id is not None and template.id is not None, "an invitation joins a saved candidate and template"
    raw = new_invite_token()
    interview = Interview(
        candidate_id=candidate.id,
        template_id=template.id,
        invite_token_hash=hash_token(raw),
        invite_expires_at=utcnow() + ttl,
    )
    interview.room_name = f"interview-{interview.id}"
    session.add(interview)
    session.flush()
    record_event(session, interview.id, "invited", actor=actor, expires_at=interview.invite_expires_at.isoformat())
    return interview, raw


def find_by_token(session: Session, raw_token: str, *, for_update: bool = False) -> Interview | None:
    if not raw_token or len(raw_token) > 200:
        return None
    stmt = select(Interview).where(Interview.invite_token_hash == hash_token(raw_token))
    if for_update:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def as_aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def check_invite(interview: Interview | None, *, now: datetime | None = None) -> Interview:
    """The interview behind a link, or InviteError saying why the link cannot be used."""
    if interview is None:
        raise InviteError(404, "unknown", "This interview link is not valid. Check that you copied the whole link.")
    status = S(interview.status)
    if status == S.cancelled:
        raise InviteError(410, "revoked", "This interview invitation was withdrawn.")
    if status in (S.processing, S.completed):
        raise InviteError(410, "finished", "This interview is already finished. Thank you for taking part!")
    if status == S.failed:
        raise InviteError(410, "failed", "This interview could not be completed.")
    now = now or utcnow()
    if status == S.expired or (status == S.invited and as_aware(interview.invite_expires_at) <= now):
        raise InviteError(410, "expired", "This interview link has expired.")
    return interview


def interview_language(interview: Interview, template: InterviewTemplate | None) -> str:
    """The language an interview is held in: the candidate's choice, else its template's (else English)."""
    return interview.language or (template.language if template is not None else "") or "en"


def extended(seconds: int, extra_time_percent: int, cap: int) -> int:
    """``seconds`` with ``extra_time_percent`` more (rounded up), at most ``cap`` (never shortened)."""
    percent = max(0, int(extra_time_percent or 0))
    if not percent:
        return seconds
    return max(seconds, min(cap, -(-seconds * (100 + percent) // 100)))


def plan_duration_seconds(interview: Interview, template: InterviewTemplate) -> int:
    """The interview's time limit: the template's minutes plus the extra time granted, at most 4 h."""
    return extended(max(60, template.duration_limit_minutes * 60), interview.extra_time_percent, MAX_DURATION_SECONDS)


def build_plan(interview: Interview, candidate: Candidate, template: InterviewTemplate, *, org_name: str = "") -> InterviewPlan:
    """The InterviewPlan the agent runs, from the template and candidate (in the candidate's chosen language, else the template's).

    Extra time granted to the candidate (``Interview.extra_time_percent``) lengthens the time
    limit and each question's time budget by that percentage, up to the contract's maxima.
    The plan is room metadata, which every participant's browser receives: the reviewers' note of
    what a strong answer covers stays out of it (the interviewer never needs it).

    The first plan of an interview records the template version it runs (``template_version``);
    callers pass the template as of that version on later plans (``services/templates.as_run``),
    so a candidate who rejoins after the template was edited gets the same questions.
    """
    if interview.template_version is None:
        interview.template_version = template.version
    questions = [PlanQuestion.model_validate({**q, "strong_answer": ""}) for q in template.questions]
    if interview.extra_time_percent:
        questions = [
            q.model_copy(
                update={"time_budget_seconds": extended(q.time_budget_seconds, interview.extra_time_percent, MAX_TIME_BUDGET_SECONDS)}
            )
            if q.time_budget_seconds
            else q
            for q in questions
        ]
    return InterviewPlan(
        interview_id=interview.id,
        candidate_name=candidate.name,
        role_title=template.title,
        job_description=template.job_description,
        language=interview_language(interview, template),
        duration_limit_seconds=plan_duration_seconds(interview, template),
        persona=template.persona,
        greeting=template.greeting,
        org_name=org_name,
        questions=questions,
        mode=interview.mode,
    )


def expire_overdue_invitations(session: Session, *, now: datetime | None = None, limit: int = 500) -> int:
    """Move invited interviews whose link has expired to ``expired`` (caller commits).

    The candidate page already refuses such links; this makes the admin list and overview
    count them as expired too. Returns how many were moved.
    """
    now = now or utcnow()
    overdue = session.exec(
        select(Interview)
        .where(Interview.status == S.invited.value, Interview.invite_expires_at <= now)
        .order_by(col(Interview.invite_expires_at))
        .limit(limit)
    ).all()
    for interview in overdue:
        transition(session, interview, S.expired, reason="invitation link expired")
    return len(overdue)


async def invitation_expiry_worker(poll_seconds: float = 60.0) -> None:
    """App lifespan task: expire overdue invitations once a minute."""
    import asyncio
    import logging

    from interview_app.db import session_scope

    def run_once() -> int:
        with session_scope() as session:
            return expire_overdue_invitations(session)

    while True:
        try:
            await asyncio.to_thread(run_once)
        except asyncio.CancelledError:
            raise
        except Exception:  # a database hiccup must not end the task
            logging.getLogger(__name__).exception("invitation expiry: a round failed")
        await asyncio.sleep(poll_seconds)
