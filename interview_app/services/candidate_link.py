"""What the candidate page shows for an invite link, and what the candidate's choices record."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from interview_app.models import Candidate, Interview, InterviewEvent, InterviewStatus, InterviewTemplate, utcnow
from interview_app.services.interviews import INTERVIEWER_LOST_REASON, InviteError, check_invite, find_by_token, record_event, transition
from interview_app.settings import Settings, get_settings

#: Invite tokens are ``secrets.token_urlsafe``; anything else cannot be one (and is never hashed).
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,200}")


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
    mode: str = "voice"


def describe_link(session: Session, raw_token: str) -> LinkView:
    interview = find_by_token(session, raw_token) if TOKEN_SHAPE.fullmatch(raw_token or "") else None
    try:
        check_invite(interview)
    except InviteError as err:
        return LinkView(state=err.reason, message=err.message)
    assert interview is not None
    candidate = session.get(Candidate, interview.candidate_id)
    template = session.get(InterviewTemplate, interview.template_id)
    return LinkView(
        state="valid",
        message="",
        candidate_name=candidate.name if candidate else "",
        role_title=template.title if template else "",
        duration_minutes=template.duration_limit_minutes if template else 0,
        interview_id=str(interview.id),
        allow_text_mode=bool(template and template.allow_text_mode),
        status=interview.status,
        mode=interview.mode,
    )


#: Integrity signals the candidate page reports (for human review; never an automatic decision).
INTEGRITY_SIGNALS = frozenset({"tab_hidden", "window_blur"})
#: Integrity events kept per interview.
MAX_INTEGRITY_EVENTS = 500


def _usable(session: Session, raw_token: str) -> Interview | None:
    if not TOKEN_SHAPE.fullmatch(raw_token or ""):
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
