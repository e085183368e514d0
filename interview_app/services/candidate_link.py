"""What the candidate page shows for an invite link (read-only lookup)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from interview_app.models import Candidate, InterviewTemplate
from interview_app.services.interviews import InviteError, check_invite, find_by_token


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


def describe_link(session: Session, raw_token: str) -> LinkView:
    from interview_app.services.start import TOKEN_SHAPE

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
    )
