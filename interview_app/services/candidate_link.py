"""What the candidate page shows for an invite link, and what the candidate's choices record."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import Session, col, select

from interview_app.contracts import InterviewMode
from interview_app.db import affected_rows
from interview_app.models import Candidate, Interview, InterviewEvent, InterviewStatus, InterviewTemplate, utcnow
from interview_app.services.accommodations import accommodation_for
from interview_app.services.interviews import (
    INTERVIEWER_LOST_REASON,
    InviteError,
    check_invite,
    find_by_token,
    interview_language,
    plan_duration_seconds,
    record_event,
    transition,
)
from interview_app.services.templates import offered_languages
from interview_app.settings import Settings, get_settings

#: Invite tokens are ``secrets.token_urlsafe``; anything else cannot be one (and is never hashed).
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,200}")
#: Longest language code a candidate can send (the column's length).
MAX_LANGUAGE_LENGTH = 16


@dataclass(frozen=True)
class LinkView:
    """The facts the candidate page needs about a link, or why it cannot be used."""

    state: str  # valid | unknown | expired | revoked | finished | failed
    message: str
    candidate_name: str = ""
    role_title: str = ""
    duration_minutes: int = 0
    interview_id: str = ""
    allow_text_mode: bool = True
    status: str = ""
    mode: InterviewMode = "voice"
    #: Languages the candidate may choose (the template's language first); empty for an unusable link.
    languages: tuple[str, ...] = ()
    #: The interview's language: the candidate's choice, else the template's ("" for an unusable link).
    language: str = ""
    #: The candidate has chosen ``language`` (choose_language); False while it is the template's by default.
    language_chosen: bool = False
    #: The candidate's accommodation request (services/accommodations.py): "" (none) | requested | granted | declined.
    accommodation_status: str = ""
    #: What was asked for (of accommodations.KINDS, in that order).
    accommodation_kinds: tuple[str, ...] = ()
    #: The start is held until the hiring team answers (template policy "wait", request open).
    accommodation_waiting: bool = False
    #: Extra time granted, in percent; ``duration_minutes`` already includes it.
    extra_time_percent: int = 0
    #: The template's accommodation policy: "proceed" (may start while a request is open) or "wait".
    accommodation_policy: str = "proceed"


def describe_link(session: Session, raw_token: str) -> LinkView:
    interview = find_by_token(session, raw_token) if TOKEN_SHAPE.fullmatch(raw_token or "") else None
    try:
        check_invite(interview)
    except InviteError as err:
        return LinkView(state=err.reason, message=err.message)
    assert interview is not None
    candidate = session.get(Candidate, interview.candidate_id)
    template = session.get(InterviewTemplate, interview.template_id)
    accommodation = accommodation_for(session, interview, template=template)
    return LinkView(
        state="valid",
        message="",
        candidate_name=candidate.name if candidate else "",
        role_title=template.title if template else "",
        # The plan's time limit (extra time granted included), in whole minutes rounded up.
        duration_minutes=-(-plan_duration_seconds(interview, template) // 60) if template else 0,
        interview_id=str(interview.id),
        allow_text_mode=bool(template and template.allow_text_mode),
        status=interview.status,
        mode=interview.mode,
        languages=tuple(offered_languages(template)) if template else (),
        language=interview_language(interview, template),
        language_chosen=interview.language is not None,
        accommodation_status=accommodation.status,
        accommodation_kinds=accommodation.kinds,
        accommodation_waiting=accommodation.waiting,
        extra_time_percent=interview.extra_time_percent or 0,
        accommodation_policy=accommodation.policy,
    )


#: Integrity signals the candidate page reports (for human review; never an automatic decision).
INTEGRITY_SIGNALS = frozenset({"tab_hidden", "window_blur"})
#: Integrity events kept per interview.
MAX_INTEGRITY_EVENTS = 500


def _usable(session: Session, raw_token: str) -> Interview | None:
    if not isinstance(raw_token, str) or not TOKEN_SHAPE.fullmatch(raw_token):
        return None
    interview = find_by_token(session, raw_token)
    try:
        return check_invite(interview)
    except InviteError:
        return None


def record_consent(session: Session, raw_token: str, consent_text: str) -> bool:
    """Store that the candidate accepted ``consent_text`` (the exact wording, hashed and quoted)."""
    interview = _usable(session, raw_token)
    if interview is None:
        return False
    digest = hashlib.sha256(consent_text.encode("utf-8")).hexdigest()
    given = session.exec(
        select(InterviewEvent.detail).where(InterviewEvent.interview_id == interview.id, InterviewEvent.kind == "consent_given")
    ).all()
    if any((detail or {}).get("text_sha256") == digest for detail in given):
        return True  # this wording was already accepted: a repeated click (or a script) stores nothing more
    record_event(session, interview.id, "consent_given", actor="candidate", text=consent_text, text_sha256=digest)
    session.commit()
    return True


def choose_text_mode(session: Session, raw_token: str) -> bool:
    """Switch a not-yet-started interview to text mode, if its template allows it."""
    interview = _usable(session, raw_token)
    if interview is None or interview.status != InterviewStatus.invited.value:
        return False
    template = session.get(InterviewTemplate, interview.template_id)
    if template is None or not template.allow_text_mode:
        return False
    if interview.mode != "text":
        interview.mode = "text"
        interview.updated_at = utcnow()
        session.add(interview)
        record_event(session, interview.id, "text_mode_chosen", actor="candidate")
    session.commit()
    return True


def choose_language(session: Session, raw_token: str, language: str) -> bool:
    """The candidate chose ``language`` for a not-yet-started interview (one its template offers).

    True when the link is usable and the interview is (now) in ``language``: the choice is stored
    while the interview is ``invited``, with a ``language_chosen`` event when it changes (a
    repeated call writes nothing). Once the interview has started its language is fixed: then
    only the language it already has answers True. Anything else (not a string, too long, not
    offered, unusable link) is False and writes nothing.
    """
    if not isinstance(language, str) or not 0 < len(language) <= MAX_LANGUAGE_LENGTH:
        return False
    code = language.strip().lower()
    interview = _usable(session, raw_token)
    if interview is None:
        return False
    template = session.get(InterviewTemplate, interview.template_id)
    if template is None or code not in offered_languages(template):
        return False
    if interview.status == InterviewStatus.invited.value and interview.language != code:
        # One conditional UPDATE: a start or another tab that got there first leaves it unmatched.
        changed = affected_rows(
            session.execute(
                sa.update(Interview)
                .where(
                    col(Interview.id) == interview.id,
                    col(Interview.status) == InterviewStatus.invited.value,
                    sa.or_(col(Interview.language).is_(None), col(Interview.language) != code),
                )
                .values(language=code, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
        )
        if changed == 1:
            record_event(session, interview.id, "language_chosen", actor="candidate", language=code)
        session.commit()
        session.refresh(interview)
    return interview_language(interview, template) == code


def record_integrity_signal(session: Session, raw_token: str, signal: str, duration_ms: int, count: int) -> bool:
    """One tab-hidden or window-blur period, stored as an ``integrity`` event for reviewers."""
    if signal not in INTEGRITY_SIGNALS:
        return False
    interview = _usable(session, raw_token)
    if interview is None:
        return False
    stored = session.exec(
        select(func.count())
        .select_from(InterviewEvent)
        .where(InterviewEvent.interview_id == interview.id, InterviewEvent.kind == "integrity")
    ).one()
    if stored >= MAX_INTEGRITY_EVENTS:
        return False  # enough evidence for a reviewer; a looping client cannot grow the table
    duration_ms = max(0, min(int(duration_ms), 24 * 3600 * 1000))
    record_event(session, interview.id, "integrity", actor="candidate", signal=signal, duration_ms=duration_ms, count=count)
    session.commit()
    return True


def report_interviewer_lost(raw_token: str, settings: Settings | None = None) -> str:
    """The candidate page saw the interviewer leave and no result arrive: fail the interview if so.

    Trusts nothing from the page: LiveKit is asked whether an interviewer is still in the room,
    and only an interview still ``in_progress`` with no result is failed. Returns ``finished``
    (the result arrived meanwhile), ``marked failed``, ``present`` (an interviewer is in the
    room), ``unknown`` (LiveKit cannot be asked; nothing changed) or the link's state.
    """
    from interview_app.db import session_scope
    from interview_app.services.livekit import LiveKitRooms, LiveKitUnavailable

    settings = settings or get_settings()
    with session_scope() as session:
        interview = _usable(session, raw_token)
        if interview is None:
            view = describe_link(session, raw_token)
            return view.state
        if interview.status != InterviewStatus.in_progress.value or not interview.room_name or not settings.livekit_configured:
            return "unknown"
        interview_id, room_name = interview.id, interview.room_name
    try:
        if LiveKitRooms(settings).agent_in_room(room_name):
            return "present"
    except LiveKitUnavailable:
        return "unknown"
    with session_scope() as session:
        interview = session.get(Interview, interview_id, with_for_update=True)
        if interview is None or interview.status != InterviewStatus.in_progress.value or interview.result_received_at is not None:
            return "finished" if interview is not None and interview.status in ("processing", "completed") else "unknown"
        transition(session, interview, InterviewStatus.failed, reason=INTERVIEWER_LOST_REASON, actor="candidate_page")
    return "marked failed"
