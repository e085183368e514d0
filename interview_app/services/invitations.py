"""Invitations from the admin's side: create (link shown once), email, revoke, resend with a new link."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session

from interview_app import routes
from interview_app.models import Candidate, Interview, InterviewStatus, InterviewTemplate, utcnow
from interview_app.services.email import invitation_email, send_email
from interview_app.services.interviews import (
    IllegalTransition,
    as_aware,
    create_invitation,
    hash_token,
    new_invite_token,
    record_event,
    transition,
)
from interview_app.settings import Settings


class InvitationError(ValueError):
    """The invitation action cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class IssuedLink:
    """A freshly issued invite link: the raw token exists only here, never in the database."""

    interview_id: uuid.UUID
    link: str
    candidate_email: str
    candidate_name: str
    role_title: str
    expires_at: str


def _issued(settings: Settings, interview: Interview, candidate: Candidate, template: InterviewTemplate, raw: str) -> IssuedLink:
    return IssuedLink(
        interview_id=interview.id,
        link=routes.candidate_link(settings.app_url, raw),
        candidate_email=candidate.email,
        candidate_name=candidate.name,
        role_title=template.title,
        expires_at=as_aware(interview.invite_expires_at).strftime("%Y-%m-%d %H:%M UTC"),
    )


def invite(session: Session, settings: Settings, candidate_id: int, template_id: int, *, actor: str) -> IssuedLink:
    """Create an invited interview (caller commits); the returned link is the only copy of the token."""
    candidate = session.get(Candidate, candidate_id)
    template = session.get(InterviewTemplate, template_id)
    if candidate is None:
        raise InvitationError("Choose a candidate first (that one no longer exists).")
    if template is None:
        raise InvitationError("Choose an interview template first (that one no longer exists).")
    try:
        interview, raw = create_invitation(session, candidate, template, ttl=timedelta(hours=settings.invite_ttl_hours), actor=actor)
    except ValueError as err:
        raise InvitationError(str(err)) from None
    return _issued(settings, interview, candidate, template, raw)


def _load(session: Session, interview_id: uuid.UUID | str) -> tuple[Interview, Candidate, InterviewTemplate]:
    try:
        key = interview_id if isinstance(interview_id, uuid.UUID) else uuid.UUID(str(interview_id))
    except ValueError:
        raise InvitationError("That interview does not exist. Reload the page.") from None
    interview = session.get(Interview, key)
    if interview is None:
        raise InvitationError("That interview does not exist. Reload the page.")
    candidate = session.get(Candidate, interview.candidate_id)
    template = session.get(InterviewTemplate, interview.template_id)
    if candidate is None or template is None:
        raise InvitationError("This interview is missing its candidate or template; nothing was changed.")
    return interview, candidate, template


def revoke(session: Session, interview_id: uuid.UUID | str, *, actor: str) -> Interview:
    """Cancel an interview that has not finished; its link stops working (caller commits)."""
    interview, _, _ = _load(session, interview_id)
    try:
        transition(session, interview, InterviewStatus.cancelled, reason="revoked by an admin", actor=actor)
    except IllegalTransition:
        raise InvitationError(f"This interview is already {interview.status}; there is nothing to revoke.") from None
    session.flush()
    return interview


def reissue(session: Session, settings: Settings, interview_id: uuid.UUID | str, *, actor: str) -> IssuedLink:
    """A new link for an invitation not yet used; the old link dies at once (caller commits)."""
    interview, candidate, template = _load(session, interview_id)
    if interview.status != InterviewStatus.invited.value:
        raise InvitationError(f"This interview is {interview.status.replace('_', ' ')}; only an unused invitation gets a new link.")
    raw = new_invite_token()
    interview.invite_token_hash = hash_token(raw)
    interview.invite_expires_at = utcnow() + timedelta(hours=settings.invite_ttl_hours)
    interview.updated_at = utcnow()
    session.add(interview)
    record_event(session, interview.id, "invite_reissued", actor=actor, expires_at=interview.invite_expires_at.isoformat())
    session.flush()
    return _issued(settings, interview, candidate, template, raw)


def email_link(session: Session, settings: Settings, issued: IssuedLink, *, actor: str) -> str:
    """Send the invitation email for a just-issued link; records the event. Raises EmailError."""
    subject, body = invitation_email(
        candidate_name=issued.candidate_name,
        role_title=issued.role_title,
        org_name=settings.org_name,
        link=issued.link,
        expires=issued.expires_at,
        support_email=settings.support_email,
    )
    outcome = send_email(settings, issued.candidate_email, subject, body)
    record_event(session, issued.interview_id, "invite_emailed", actor=actor, to=issued.candidate_email, backend=settings.email_backend)
    return outcome
