"""Accommodations and an alternative: what a candidate asks for before starting, and the hiring team's answer.

Before the interview starts, a candidate may ask for extra time, the text format instead of
voice, or a human interviewer, with a note (:func:`request_accommodation`). The request is one
``accommodation_request`` row per interview: while it is ``requested`` the candidate may change
it (the new kinds and note replace the old ones); once the hiring team has granted or declined it
(:func:`decide_accommodation`) it is the record of that decision, and a new request from the
candidate is refused (they contact the team instead).

The template's ``accommodation_policy`` says what an open request means for the start:
``proceed`` — the candidate may start while the team decides; ``wait`` — the voice start
(services/start.py) and the text start (services/text_interviews.py) refuse with
:data:`PENDING_MESSAGE` until the team has decided. Rejoining a running interview is never refused.

Extra time granted is stored on the interview (``Interview.extra_time_percent``);
``services/interviews.build_plan`` lengthens the time limit and the question budgets by it, so the
voice worker and the text interview host both get it.

Both sides are told by email (services/email.py): the hiring team at ``SUPPORT_EMAIL`` on each
new or changed request, the candidate on the decision. A failed email is logged and recorded in
the event's detail, never raised. Framework-free: no reflex import.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from interview_app import routes
from interview_app.db import affected_rows
from interview_app.models import (
    AccommodationRequest,
    AccommodationStatus,
    Candidate,
    Interview,
    InterviewStatus,
    InterviewTemplate,
    utcnow,
)
from interview_app.sanitize import candidate_text
from interview_app.services.email import EmailError, send_email
from interview_app.services.interviews import InviteError, as_aware, check_invite, find_by_token, record_event
from interview_app.settings import Settings

log = logging.getLogger(__name__)

#: What a candidate may ask for, in the order they are stored and shown.
KINDS: tuple[str, ...] = ("extra_time", "text", "human")
#: Extra time the hiring team may grant, in percent of the template's limits.
EXTRA_TIME_CHOICES: tuple[int, ...] = (25, 50, 100)
#: ``InterviewTemplate.accommodation_policy`` values; anything else is read as "proceed".
POLICIES: tuple[str, ...] = ("proceed", "wait")
#: Longest note a candidate can leave (characters; longer notes are cut).
MAX_NOTE_CHARS = 2000
#: What each kind means, in words (emails, the admin pages).
KIND_WORDS: dict[str, str] = {
    "extra_time": "extra time",
    "text": "the text format instead of voice",
    "human": "a human interviewer",
}
#: Why a start is refused while the hiring team has not answered (StartError / TextInterviewError reason).
PENDING_REASON = "accommodation_pending"
PENDING_MESSAGE = "Your request for an adjustment is with the hiring team; you can start once they have answered. They will contact you."


class AccommodationError(Exception):
    """The hiring team's decision cannot be recorded; ``message`` is a sentence for the admin."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class AccommodationView:
    """An interview's accommodation request as the pages show it (``status`` "" when there is none)."""

    status: str = ""  # "" | requested | granted | declined
    kinds: tuple[str, ...] = ()
    note: str = ""
    extra_time_percent: int = 0
    #: The start is held: the template's policy is "wait" and the request is still open.
    waiting: bool = False
    policy: str = "proceed"
    decided_by: str = ""
    #: ``2026-12-02 10:15 UTC`` once decided, else "".
    decided_at: str = ""
    #: What the email sent by this call did (its sentence or the error); "" when none was sent.
    email: str = ""
    #: For the admin, after :func:`decide_accommodation`: what was decided and who was told.
    message: str = ""


def policy_of(template: InterviewTemplate | None) -> str:
    """The template's accommodation policy ("proceed" for an unknown value or no template)."""
    policy = getattr(template, "accommodation_policy", "") or ""
    return policy if policy in POLICIES else "proceed"


def waits(policy: str, status: str) -> bool:
    """True when a start must wait: policy "wait" and a request that is still open."""
    return policy == "wait" and status == AccommodationStatus.requested.value


def kinds_in_words(kinds: Sequence[str]) -> str:
    """``extra time and a human interviewer``: the kinds as a phrase."""
    words = [KIND_WORDS.get(k, k) for k in kinds]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _clean_kinds(kinds: object) -> tuple[str, ...] | None:
    """The known kinds asked for, in :data:`KINDS` order; None unless a non-empty list of known kinds."""
    if not isinstance(kinds, list | tuple) or not 0 < len(kinds) <= 2 * len(KINDS):
        return None
    if any(not isinstance(k, str) or k not in KINDS for k in kinds):
        return None
    return tuple(k for k in KINDS if k in kinds)


def _view(row: AccommodationRequest | None, policy: str) -> AccommodationView:
    if row is None:
        return AccommodationView(policy=policy)
    return AccommodationView(
        status=row.status,
        kinds=tuple(k for k in KINDS if k in (row.kinds or [])),
        note=row.note,
        extra_time_percent=row.extra_time_percent,
        waiting=waits(policy, row.status),
        policy=policy,
        decided_by=row.decided_by,
        decided_at=as_aware(row.decided_at).strftime("%Y-%m-%d %H:%M UTC") if row.decided_at else "",
    )


def _row_for(session: Session, interview_id: uuid.UUID) -> AccommodationRequest | None:
    return session.exec(select(AccommodationRequest).where(AccommodationRequest.interview_id == interview_id)).first()


def accommodation_for(session: Session, interview: Interview, *, template: InterviewTemplate | None = None) -> AccommodationView:
    """The interview's request as it stands (status "" when the candidate asked for nothing)."""
    template = template if template is not None else session.get(InterviewTemplate, interview.template_id)
    return _view(_row_for(session, interview.id), policy_of(template))


def _send(settings: Settings, to: str, subject: str, body: str) -> str:
    """Send one email; the outcome sentence, or the error's sentence (logged, never raised)."""
    try:
        return send_email(settings, to, " ".join(subject.split()), body)
    except EmailError as err:
        log.warning("accommodation email to %s was not sent: %s", to, err)
        return str(err)


def _team_email(
    settings: Settings, interview_id: uuid.UUID, candidate: Candidate, template: InterviewTemplate, kinds: Sequence[str], note: str
) -> tuple[str, str]:
    """Subject and body of the email that tells the hiring team about a request."""
    link = settings.app_url.rstrip("/") + routes.interview_detail(str(interview_id))
    if policy_of(template) == "wait":
        start = "The candidate cannot start until you have granted or declined the request."
    else:
        start = "The candidate may start the interview before you answer (the template lets them proceed)."
    subject = f"Accommodation request: {candidate.name} for {template.title}"
    body = (
        f"{candidate.name} <{candidate.email}> asked for an adjustment to their interview for {template.title}.\n\n"
        f"They ask for: {kinds_in_words(kinds)}.\n\n"
        "Their note:\n"
        f"{note or '(no note)'}\n\n"
        f"{start}\n"
        f"Grant or decline it on the interview's page: {link}\n"
    )
    return subject, body


def request_accommodation(session: Session, raw_token: str, kinds: object, note: object, *, settings: Settings) -> AccommodationView | None:
    """The candidate behind ``raw_token`` asks for ``kinds`` (of :data:`KINDS`) with ``note``; commits.

    None (nothing written) when the link cannot be used, the interview is no longer ``invited``,
    ``kinds`` is not a non-empty list of known kinds, or the hiring team has already decided a
    request for this interview. The note becomes valid text without control characters
    (``sanitize.candidate_text``), cut to :data:`MAX_NOTE_CHARS`. A new request, or a change of an
    open one, records an ``accommodation_requested`` event (the kinds and the note's length, not
    the note) and emails the hiring team at ``settings.support_email``; the same request again
    writes and sends nothing. The interview's mode is not changed here: a candidate asking for the
    text format switches with ``candidate_link.choose_text_mode``.
    """
    from interview_app.services.candidate_link import TOKEN_SHAPE  # candidate_link imports this module

    wanted = _clean_kinds(kinds)
    if wanted is None or not isinstance(raw_token, str) or not TOKEN_SHAPE.fullmatch(raw_token):
        return None
    text = candidate_text(note, limit=MAX_NOTE_CHARS).text.strip()[:MAX_NOTE_CHARS]
    try:
        return _request(session, raw_token, wanted, text, settings)
    except IntegrityError:  # another tab stored the first request a moment earlier: compare with it
        session.rollback()
        return _request(session, raw_token, wanted, text, settings)


def _request(session: Session, raw_token: str, wanted: tuple[str, ...], text: str, settings: Settings) -> AccommodationView | None:
    for_update = session.get_bind().dialect.name == "postgresql"
    interview = find_by_token(session, raw_token, for_update=for_update)
    try:
        check_invite(interview)
    except InviteError:
        session.rollback()  # releases the row lock
        return None
    assert interview is not None
    template = session.get(InterviewTemplate, interview.template_id)
    candidate = session.get(Candidate, interview.candidate_id)
    if interview.status != InterviewStatus.invited.value or template is None or candidate is None:
        session.rollback()
        return None
    policy = policy_of(template)
    row = _row_for(session, interview.id)
    now = utcnow()
    if row is None:
        session.add(AccommodationRequest(interview_id=interview.id, kinds=list(wanted), note=text, created_at=now, updated_at=now))
        session.flush()
    elif row.status != AccommodationStatus.requested.value:
        session.rollback()
        return None
    elif tuple(row.kinds or ()) == wanted and row.note == text:
        view = _view(row, policy)
        session.rollback()
        return view
    else:
        # Conditional: a decision that got there first leaves it unmatched (then the candidate is refused).
        changed = affected_rows(
            session.execute(
                sa.update(AccommodationRequest)
                .where(col(AccommodationRequest.id) == row.id, col(AccommodationRequest.status) == AccommodationStatus.requested.value)
                .values(kinds=list(wanted), note=text, updated_at=now)
                .execution_options(synchronize_session=False)
            )
        )
        if changed != 1:
            session.rollback()
            return None
    event = record_event(session, interview.id, "accommodation_requested", actor="candidate", kinds=list(wanted), note_chars=len(text))
    subject, body = _team_email(settings, interview.id, candidate, template, wanted, text)
    view = AccommodationView(
        status=AccommodationStatus.requested.value, kinds=wanted, note=text, waiting=waits(policy, "requested"), policy=policy
    )
    session.commit()  # stored before the mail server is asked (no row lock held while it answers)
    outcome = _send(settings, settings.support_email, subject, body)
    event.detail = {**event.detail, "email": outcome}
    session.add(event)
    session.commit()
    if row is not None:
        session.expire(row)  # the conditional UPDATE bypassed the loaded object
    return replace(view, email=outcome)


def _candidate_email(
    settings: Settings, candidate: Candidate, template: InterviewTemplate, kinds: Sequence[str], granted: bool, percent: int
) -> tuple[str, str]:
    """Subject and body of the email that tells the candidate the hiring team's answer."""
    subject = f"Your request for an adjustment: {template.title}"
    if granted:
        parts = []
        if percent:
            parts.append(f"{percent} % more time for the interview and for each question")
        if "text" in kinds:
            parts.append("the text format instead of voice (choose it on your interview page)")
        if "human" in kinds:
            parts.append("a human interviewer (they will contact you to arrange it)")
        if "extra_time" in kinds and not percent:
            parts.append("without extra time")
        sentence = "The hiring team has granted your request: " + "; ".join(parts) + "."
    else:
        sentence = (
            "The hiring team could not grant your request for an adjustment; you can still take the interview with your "
            f"link, or write to {settings.support_email} to talk about it."
        )
    body = (
        f"Hello {candidate.name},\n\n"
        f"{sentence}\n\n"
        f"Open your interview link for {template.title} when you are ready. Questions? Write to {settings.support_email}.\n"
    )
    return subject, body


def _decision_message(granted: bool, percent: int, kinds: Sequence[str], interview: Interview, template: InterviewTemplate) -> str:
    if not granted:
        text = "Declined; the candidate can take the interview without an adjustment."
    elif percent:
        text = f"Granted +{percent} % extra time: the time limit and each question's time budget are {percent} % longer."
    else:
        text = f"Granted ({kinds_in_words([k for k in kinds if k != 'extra_time'])}): marked as arranged."
        if "extra_time" in kinds:
            text += " No extra time was granted."
    if granted and "text" in kinds and template.allow_text_mode:
        text += " The candidate can choose the text format on their page."
    if granted and "text" in kinds and not template.allow_text_mode:
        text += (
            " This template does not allow a text interview, so the candidate cannot switch to text on their page; arrange it with them."
        )
    if granted and "human" in kinds:
        text += " Contact the candidate to arrange the interview with a person."
    if interview.status != InterviewStatus.invited.value:
        text += f" The interview is already {interview.status.replace('_', ' ')}, so it keeps the time it started with."
    return text


def decide_accommodation(
    session: Session,
    interview_id: uuid.UUID | str,
    *,
    grant: bool,
    extra_time_percent: int,
    admin_email: str,
    settings: Settings,
) -> AccommodationView:
    """Grant or decline the interview's open request (commits), and email the candidate.

    Granting with ``extra_time_percent`` (one of :data:`EXTRA_TIME_CHOICES`) sets
    ``Interview.extra_time_percent``, which the plan uses; 0 grants a request without extra time
    ("arranged": the text format or a human interviewer). Records ``accommodation_granted`` or
    ``accommodation_declined`` with the percentage and who decided, and emails the candidate
    (an email failure is logged and recorded in the event, not raised).

    Raises:
        AccommodationError: no such interview, no open request, a percentage not offered, extra
            time the candidate did not ask for, or a grant of nothing.
    """
    if (
        isinstance(extra_time_percent, bool)
        or not isinstance(extra_time_percent, int)
        or extra_time_percent not in (0, *EXTRA_TIME_CHOICES)
    ):
        raise AccommodationError("Extra time can be +25 %, +50 % or +100 %; choose one of them.")
    try:
        key = interview_id if isinstance(interview_id, uuid.UUID) else uuid.UUID(str(interview_id))
    except ValueError:
        raise AccommodationError("That interview does not exist. Reload the page.") from None
    interview = session.get(Interview, key)
    if interview is None:
        raise AccommodationError("That interview does not exist. Reload the page.")
    row = _row_for(session, key)
    no_open_request = "There is no open adjustment request for this interview; it may have been answered already. Reload the page."
    if row is None or row.status != AccommodationStatus.requested.value:
        raise AccommodationError(no_open_request)
    kinds = tuple(k for k in KINDS if k in (row.kinds or []))
    percent = extra_time_percent if grant else 0
    if grant and percent and "extra_time" not in kinds:
        raise AccommodationError("The candidate did not ask for extra time, so none can be granted; grant the request without it.")
    if grant and not percent and kinds == ("extra_time",):
        raise AccommodationError("Choose how much extra time to grant (+25 %, +50 % or +100 %), or decline the request.")
    template = session.get(InterviewTemplate, interview.template_id)
    candidate = session.get(Candidate, interview.candidate_id)
    if template is None or candidate is None:
        raise AccommodationError("This interview is missing its candidate or template; nothing was changed.")
    now = utcnow()
    status = AccommodationStatus.granted.value if grant else AccommodationStatus.declined.value
    # Conditional: of two admins deciding at once, one decides and the other is told.
    changed = affected_rows(
        session.execute(
            sa.update(AccommodationRequest)
            .where(col(AccommodationRequest.id) == row.id, col(AccommodationRequest.status) == AccommodationStatus.requested.value)
            .values(status=status, extra_time_percent=percent, decided_by=admin_email[:320], decided_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if changed != 1:
        session.rollback()
        raise AccommodationError(no_open_request)
    if grant:
        interview.extra_time_percent = percent
        interview.updated_at = now
        session.add(interview)
    event = record_event(
        session, key, f"accommodation_{status}", actor=admin_email[:320] or "admin", extra_time_percent=percent, by=admin_email
    )
    policy = policy_of(template)
    message = _decision_message(grant, percent, kinds, interview, template)
    to = candidate.email
    subject, body = _candidate_email(settings, candidate, template, kinds, grant, percent)
    view = AccommodationView(
        status=status,
        kinds=kinds,
        note=row.note,
        extra_time_percent=percent,
        waiting=False,
        policy=policy,
        decided_by=admin_email,
        decided_at=as_aware(now).strftime("%Y-%m-%d %H:%M UTC"),
    )
    session.commit()
    outcome = _send(settings, to, subject, body)
    event.detail = {**event.detail, "email": outcome}
    session.add(event)
    session.commit()
    session.expire(row)
    return replace(view, email=outcome, message=f"{message} {outcome}")


__all__ = [
    "EXTRA_TIME_CHOICES",
    "KINDS",
    "KIND_WORDS",
    "MAX_NOTE_CHARS",
    "PENDING_MESSAGE",
    "PENDING_REASON",
    "POLICIES",
    "AccommodationError",
    "AccommodationView",
    "accommodation_for",
    "decide_accommodation",
    "kinds_in_words",
    "policy_of",
    "request_accommodation",
    "waits",
]
