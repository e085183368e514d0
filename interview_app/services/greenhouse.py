"""Greenhouse's Assessment Partner API, partner side (issue 18, ATS integration).

Greenhouse calls endpoints we host (``api/greenhouse.py``, under ``/api/greenhouse/``) with HTTP
Basic auth: the username is the API key we issued (``GREENHOUSE_API_KEY``), the password is blank.
With no key set the integration is off and every endpoint answers 404.

- ``list_tests``: our tests are the active (non-archived) interview templates;
  ``partner_test_id`` is the template's id as a string (:func:`list_tests`).
- ``send_test``: creates (or reuses, by email) the candidate and an invitation through
  ``services/candidates.py`` and ``services/invitations.py``, emails the link as an admin's invite
  does, stores a ``greenhouse_assignment`` row with Greenhouse's callback ``url`` and answers
  ``partner_interview_id`` = the interview's UUID (:func:`send_test`). One transaction: a refusal,
  or an email the mail server refuses, leaves no row behind. Greenhouse's ``url`` names one test
  instance, so a second ``send_test`` with the same ``url`` returns the first interview's id and
  sends nothing.
- ``test_status``: :func:`test_status` maps the interview onto Greenhouse's answer. Greenhouse
  documents one ``partner_status`` value, ``complete`` ("completed and results are available"; it
  polls until it sees it); every interview that has ended for good is reported ``complete`` — with
  the AI's weighted score as ``partner_score`` (0–100) when the evaluation produced one, and the
  outcome in ``metadata`` — so Greenhouse stops waiting for an expired or withdrawn invitation too.
  Before that: ``invited``, ``in_progress``, ``scoring`` (transcript in, evaluation running) and
  ``awaiting_result`` (see :data:`INFERRED_FAILURE_GRACE`).
- ``response_error``: Greenhouse reports a response of ours it could not use; it is logged and
  kept in the audit trail (:func:`record_response_error`).
- Completion notice: Greenhouse's docs deprecate polling for new integrations in favour of a
  ``PATCH`` (no body, same Basic auth) to the ``url`` from ``send_test``, which makes Greenhouse
  fetch ``test_status`` at once. :func:`notify_due` (the lifespan task :func:`greenhouse_worker`)
  sends it once per finished interview, with :data:`MAX_NOTIFY_ATTEMPTS` attempts spaced by
  :data:`RETRY_DELAYS_SECONDS`; each attempt is claimed with a conditional UPDATE of
  ``notify_attempts`` (one sender per attempt across processes) and recorded in the audit trail,
  whose timestamps pace the retries.

Framework-free: no reflex import.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from interview_app import routes
from interview_app.db import affected_rows
from interview_app.models import (
    TERMINAL_STATUSES,
    Candidate,
    Evaluation,
    EvaluationStatus,
    GreenhouseAssignment,
    Interview,
    InterviewEvent,
    InterviewStatus,
    InterviewTemplate,
    Scorecard,
    utcnow,
)
from interview_app.services.auth import AccountError, normalize_email
from interview_app.services.candidates import CandidateError, create_candidate
from interview_app.services.email import EmailError
from interview_app.services.evaluation import latest_evaluation
from interview_app.services.interviews import INFERRED_FAILURE_REASONS, as_aware, record_event
from interview_app.services.invitations import InvitationError, email_link, invite
from interview_app.services.outbound import open_client, send_once, short
from interview_app.services.polling import poll_forever
from interview_app.services.scoring import RECOMMENDATION_LABELS, read_scores, weighted_score
from interview_app.settings import Settings, get_settings

log = logging.getLogger(__name__)

#: The actor of every audit event Greenhouse causes.
ACTOR = "greenhouse"
#: Greenhouse's one documented ``partner_status`` value: results are available, stop polling.
COMPLETE = "complete"
#: Our ``partner_status`` before that (Greenhouse documents no others; it keeps polling on them).
PARTNER_STATUS: dict[str, str] = {
    InterviewStatus.invited.value: "invited",
    InterviewStatus.in_progress.value: "in_progress",
    InterviewStatus.processing.value: "scoring",
}
AWAITING_RESULT = "awaiting_result"
#: An interview failed only because its room ended without a result (INFERRED_FAILURE_REASONS)
#: may still get that result: it counts as finished only this long after the failure.
INFERRED_FAILURE_GRACE = timedelta(minutes=15)

#: Wait after failed attempt 1, 2, …; attempt MAX_NOTIFY_ATTEMPTS is the last (≈ 45 h in all).
RETRY_DELAYS_SECONDS: tuple[int, ...] = (60, 300, 1800, 7200, 6 * 3600, 12 * 3600, 24 * 3600)
MAX_NOTIFY_ATTEMPTS = len(RETRY_DELAYS_SECONDS) + 1
#: How often the in-app worker looks for finished interviews to report.
POLL_SECONDS = 30.0
USER_AGENT = "ai-interview-greenhouse/1"
MAX_URL_CHARS = 1000  # greenhouse_assignment.callback_url
MAX_TEST_ID_CHARS = 64  # greenhouse_assignment.partner_test_id
MAX_ERROR_CHARS = 500  # greenhouse_assignment.last_error
#: response_error: at most this many of Greenhouse's error strings are kept, each this long.
MAX_REPORTED_ERRORS = 20
MAX_REPORTED_ERROR_CHARS = 300

EVENT_TEST_SENT = "greenhouse_test_sent"
EVENT_NOTIFY_ATTEMPT = "greenhouse_notify_attempt"
EVENT_NOTIFIED = "greenhouse_notified"
EVENT_NOTIFY_FAILED = "greenhouse_notify_failed"
EVENT_RESPONSE_ERROR = "greenhouse_response_error"

DECISION_LABELS = {"advance": "Advance", "hold": "Hold", "decline": "Decline"}
_EVALUATION_NOTES = {
    EvaluationStatus.pending.value: "Not scored yet",
    EvaluationStatus.running.value: "Not scored yet",
    EvaluationStatus.needs_llm.value: "Not scored: no AI model is configured",
    EvaluationStatus.insufficient_evidence.value: "Not scored: too little usable speech from the candidate",
    EvaluationStatus.failed.value: "Not scored: the evaluation failed",
}
ADVISORY_NOTE = "Score and recommendation come from the AI's rubric evaluation and are advisory; people make the hiring decision."


class GreenhouseError(Exception):
    """A request Greenhouse sent cannot be served; ``code`` is the HTTP status, ``message`` a sentence."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- authentication ---------------------------------------------------------------------


def basic_credentials(api_key: str) -> str:
    """The ``Authorization`` value Greenhouse sends (and our PATCH sends): Basic base64("<key>:")."""
    return "Basic " + base64.b64encode(f"{api_key}:".encode()).decode("ascii")


def authorized(authorization: str | None, api_key: str) -> bool:
    """True when ``authorization`` is HTTP Basic with ``api_key`` as the user name (the password is not checked: Greenhouse sends none)."""
    if not api_key or not authorization:
        return False
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    username = decoded.split(b":", 1)[0]
    return hmac.compare_digest(hashlib.sha256(username).digest(), hashlib.sha256(api_key.encode()).digest())


# --- list_tests --------------------------------------------------------------------------


def list_tests(session: Session) -> list[dict[str, str]]:
    """Greenhouse's test list: every active template, ``{"partner_test_id", "partner_test_name"}``, oldest first."""
    templates = session.exec(
        select(InterviewTemplate).where(col(InterviewTemplate.archived).is_(False)).order_by(col(InterviewTemplate.id))
    )
    return [{"partner_test_id": str(t.id), "partner_test_name": t.title} for t in templates]


# --- send_test ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SentTest:
    """What ``send_test`` did: the interview Greenhouse knows as ``partner_interview_id``."""

    interview_id: uuid.UUID
    created: bool  # False: the same ``url`` was sent before; nothing new was written or emailed

    @property
    def partner_interview_id(self) -> str:
        return str(self.interview_id)


def _field(payload: Mapping[str, Any], key: str, where: str = "") -> str:
    """A string field, trimmed ("" when absent or null); numbers are accepted as their text."""
    value = payload.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise GreenhouseError(422, f"{where}{key} must be a string.")
    return str(value).strip()


def validate_callback_url(url: str, settings: Settings) -> str:
    """Greenhouse's ``url`` (where the completion PATCH goes), or GreenhouseError(422) saying what is wrong."""
    if not url:
        raise GreenhouseError(422, "url is missing: send the URL Greenhouse wants the completion PATCH sent to.")
    if len(url) > MAX_URL_CHARS:
        raise GreenhouseError(422, f"url is longer than {MAX_URL_CHARS} characters.")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise GreenhouseError(422, "url contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise GreenhouseError(422, "url is not a valid URL.") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise GreenhouseError(422, "url must be an http(s) URL with a host name.")
    if settings.production and parts.scheme.lower() != "https":
        raise GreenhouseError(422, "url must use https: the completion PATCH carries the API key.")
    if parts.username is not None or parts.password is not None:
        raise GreenhouseError(422, "url must not contain a user name or password.")
    return url


def _external_ref(candidate: Mapping[str, Any]) -> str:
    """Greenhouse's link to the candidate's application, kept as the candidate's external reference when it fits."""
    profile = _field(candidate, "greenhouse_profile_url", "candidate.")
    return profile if len(profile) <= 200 else ""


def _test_template(session: Session, partner_test_id: str) -> InterviewTemplate:
    if not partner_test_id:
        raise GreenhouseError(422, "partner_test_id is missing: send one of the ids list_tests returns.")
    template = session.get(InterviewTemplate, int(partner_test_id)) if partner_test_id.isdigit() and len(partner_test_id) < 10 else None
    if template is None:
        raise GreenhouseError(
            404, f"There is no test with partner_test_id {partner_test_id[:MAX_TEST_ID_CHARS]!r}; list_tests shows the tests on offer."
        )
    if template.archived:
        raise GreenhouseError(404, f"The test {partner_test_id!r} (“{template.title}”) is no longer offered; choose one list_tests shows.")
    return template


def _serialize_on(session: Session, url: str) -> None:
    """Make concurrent send_test calls for one ``url`` take turns (the second then finds the first's row).

    PostgreSQL: a transaction-scoped advisory lock on the URL's hash. SQLite: ``BEGIN IMMEDIATE``
    takes the database's write lock before anything is read.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(b"greenhouse:" + url.encode()).digest()[:8], "big", signed=True)
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    elif connection.dialect.name == "sqlite":
        sqlite_connection = connection.connection.driver_connection
        assert sqlite_connection is not None, "a connection in use has its sqlite3 connection"
        if not sqlite_connection.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def send_test(session: Session, settings: Settings, payload: object) -> SentTest:
    """Serve Greenhouse's ``send_test``: candidate, invitation, email, assignment and audit event (caller commits).

    Call it at the start of a transaction: it first serialises on the callback URL.

    Raises:
        GreenhouseError: 422 a missing or malformed field, 404 an unknown or archived test,
            503 the invitation email could not be sent (the caller rolls back: nothing is kept).
    """
    if not isinstance(payload, Mapping):
        raise GreenhouseError(422, "The body must be a JSON object with partner_test_id, candidate and url.")
    candidate_data = payload.get("candidate")
    if not isinstance(candidate_data, Mapping):
        raise GreenhouseError(422, "candidate is missing: send an object with first_name, last_name and email.")
    partner_test_id = _field(payload, "partner_test_id")
    url = validate_callback_url(_field(payload, "url"), settings)
    first, last = _field(candidate_data, "first_name", "candidate."), _field(candidate_data, "last_name", "candidate.")
    name = " ".join(part for part in (first, last) if part)
    if not name:
        raise GreenhouseError(422, "candidate.first_name and candidate.last_name are missing: the invitation greets the candidate by name.")
    email = _field(candidate_data, "email", "candidate.")
    if not email:
        raise GreenhouseError(422, "candidate.email is missing: the test is sent to that address.")
    try:
        email = normalize_email(email)
    except AccountError as err:
        raise GreenhouseError(422, f"candidate.email: {err}") from None

    _serialize_on(session, url)
    earlier = session.exec(
        select(GreenhouseAssignment).where(GreenhouseAssignment.callback_url == url).order_by(col(GreenhouseAssignment.id))
    ).first()
    if earlier is not None:
        return SentTest(earlier.interview_id, created=False)
    template = _test_template(session, partner_test_id)
    candidate = session.exec(select(Candidate).where(Candidate.email == email).order_by(col(Candidate.id))).first()
    try:
        if candidate is None:
            candidate = create_candidate(session, name, email, _external_ref(candidate_data))
        assert candidate.id is not None and template.id is not None, "both are saved rows"
        issued = invite(session, settings, candidate.id, template.id, actor=ACTOR)
    except (CandidateError, InvitationError) as err:
        raise GreenhouseError(422, str(err)) from None
    session.add(GreenhouseAssignment(interview_id=issued.interview_id, partner_test_id=partner_test_id, callback_url=url))
    record_event(session, issued.interview_id, EVENT_TEST_SENT, actor=ACTOR, partner_test_id=partner_test_id, callback_url=url)
    session.flush()
    try:
        email_link(session, settings, issued, actor=ACTOR)
    except EmailError as err:
        reason = str(err).split(". ")[0].rstrip(".")  # the mail server's part; the rest of the sentence is for an admin
        raise GreenhouseError(
            503, f"The invitation email could not be sent ({reason}), so nothing was saved; send the test again later."
        ) from None
    return SentTest(issued.interview_id, created=True)


# --- test_status -------------------------------------------------------------------------


def _assignment(session: Session, partner_interview_id: str) -> tuple[GreenhouseAssignment, Interview]:
    """The interview Greenhouse ordered under this id; any other interview is unknown to Greenhouse."""
    unknown = GreenhouseError(404, f"There is no test instance with partner_interview_id {partner_interview_id[:64]!r}.")
    try:
        interview_id = uuid.UUID(partner_interview_id)
    except (ValueError, AttributeError, TypeError):
        raise unknown from None
    row = session.exec(
        select(GreenhouseAssignment, Interview)
        .join(Interview, col(Interview.id) == col(GreenhouseAssignment.interview_id))
        .where(GreenhouseAssignment.interview_id == interview_id)
    ).first()
    if row is None:
        raise unknown
    return row[0], row[1]


def finished(interview: Interview, *, now: datetime | None = None) -> bool:
    """The interview has ended for good: Greenhouse is told ``complete``.

    Terminal statuses, except a failure inferred from a room that ended without a result during
    :data:`INFERRED_FAILURE_GRACE` (the result may still arrive and replace it).
    """
    if interview.status not in TERMINAL_STATUSES:
        return False
    if interview.status == InterviewStatus.failed.value and (interview.end_reason or "") in INFERRED_FAILURE_REASONS:
        return as_aware(interview.updated_at) + INFERRED_FAILURE_GRACE <= (now or utcnow())
    return True


def _when(value: datetime | None) -> str | None:
    return as_aware(value).strftime("%Y-%m-%d %H:%M UTC") if value is not None else None


def _outcome(interview: Interview) -> str:
    status, reason = interview.status, (interview.end_reason or "").strip()
    if status == InterviewStatus.completed.value:
        return "Completed"
    if status == InterviewStatus.expired.value:
        return "Not taken: the invitation expired before the candidate started"
    if status == InterviewStatus.cancelled.value:
        return "Cancelled: the invitation was withdrawn" + (f" ({reason})" if reason else "")
    return "Not completed: " + (reason or "the interview could not be finished")


def partner_score(evaluation: Evaluation | None) -> int | None:
    """The AI evaluation's weighted rubric score on 0–100, or None when it produced none (yet)."""
    if evaluation is None or evaluation.status != EvaluationStatus.done.value:
        return None
    score = weighted_score(read_scores(evaluation.scores))
    return None if score is None else round(score * 100)


def _metadata(session: Session, interview: Interview, evaluation: Evaluation | None) -> dict[str, str | int]:
    """Greenhouse's flat ``metadata`` (string and number values only) for a finished interview."""
    data: dict[str, str | int] = {"Outcome": _outcome(interview)}
    for key, value in (("Started At", _when(interview.started_at)), ("Ended At", _when(interview.ended_at))):
        if value is not None:
            data[key] = value
    if interview.status == InterviewStatus.completed.value:
        if evaluation is not None and evaluation.status == EvaluationStatus.done.value:
            label = RECOMMENDATION_LABELS.get(evaluation.recommendation)
            if label:
                data["AI Recommendation (advisory)"] = label
            data["Notes"] = ADVISORY_NOTE
        else:
            data["AI Evaluation"] = _EVALUATION_NOTES.get(evaluation.status if evaluation else "", "Not scored")
    if interview.decision:
        data["Decision"] = DECISION_LABELS.get(interview.decision, interview.decision)
    data["Human Scorecards"] = session.exec(select(func.count()).select_from(Scorecard).where(Scorecard.interview_id == interview.id)).one()
    return data


def test_status(session: Session, settings: Settings, partner_interview_id: str, *, now: datetime | None = None) -> dict[str, Any]:
    """Greenhouse's ``test_status`` answer: ``partner_status``, ``partner_profile_url``, ``partner_score``, ``metadata``.

    The profile URL (the interview's admin page) is given in every state; score and metadata only
    once the interview has :func:`finished` (null before, as Greenhouse's conventions ask).

    Raises:
        GreenhouseError: 404 when no interview was ordered through Greenhouse under this id.
    """
    _, interview = _assignment(session, partner_interview_id)
    profile_url = routes.interview_review_url(settings.app_url, str(interview.id))
    if not finished(interview, now=now):
        status = PARTNER_STATUS.get(interview.status, AWAITING_RESULT)
        return {"partner_status": status, "partner_profile_url": profile_url, "partner_score": None, "metadata": None}
    evaluation = latest_evaluation(session, interview.id) if interview.status == InterviewStatus.completed.value else None
    return {
        "partner_status": COMPLETE,
        "partner_profile_url": profile_url,
        "partner_score": partner_score(evaluation),
        "metadata": _metadata(session, interview, evaluation),
    }


# --- response_error ----------------------------------------------------------------------


def record_response_error(session: Session, payload: object) -> InterviewEvent:
    """Keep Greenhouse's report of a response it could not use: a warning in the log and an audit event (caller commits).

    The event is on the interview when ``partner_interview_id`` names one Greenhouse ordered. The
    candidate's email in the report is not kept (the interview already leads to the candidate).

    Raises:
        GreenhouseError: 422 when the body is not an object with ``api_call`` and ``errors``.
    """
    if not isinstance(payload, Mapping):
        raise GreenhouseError(422, "The body must be a JSON object with api_call and errors.")
    api_call = _field(payload, "api_call")
    errors = payload.get("errors")
    if not api_call or not isinstance(errors, list):
        raise GreenhouseError(422, "api_call (a string) and errors (a list of strings) are required.")
    messages = [" ".join(str(e).split())[:MAX_REPORTED_ERROR_CHARS] for e in errors[:MAX_REPORTED_ERRORS]]
    partner_interview_id = _field(payload, "partner_interview_id")[:64]
    interview_id: uuid.UUID | None = None
    if partner_interview_id:
        try:
            interview_id = _assignment(session, partner_interview_id)[1].id
        except GreenhouseError:
            interview_id = None
    detail = {
        "api_call": api_call[:64],
        "errors": messages,
        "partner_test_id": _field(payload, "partner_test_id")[:MAX_TEST_ID_CHARS],
        "partner_test_name": _field(payload, "partner_test_name")[:200],
        "partner_interview_id": partner_interview_id,
    }
    log.warning(
        "Greenhouse could not use our %s response (%s): %s", detail["api_call"], partner_interview_id or "no test instance", messages
    )
    event = record_event(session, interview_id, EVENT_RESPONSE_ERROR, actor=ACTOR, **detail)
    session.flush()
    return event


# --- completion PATCH --------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeClaim:
    """One completion PATCH attempt this process holds."""

    assignment_id: int
    interview_id: uuid.UUID
    url: str
    attempt: int


def _due(now: datetime) -> Any:
    """Assignments whose interview has finished and whose next PATCH attempt is due at ``now``."""
    last_attempt = (
        sa.select(sa.func.max(col(InterviewEvent.at)))
        .where(col(InterviewEvent.interview_id) == col(GreenhouseAssignment.interview_id), col(InterviewEvent.kind) == EVENT_NOTIFY_ATTEMPT)
        .scalar_subquery()
    )
    retry_due = sa.or_(
        col(GreenhouseAssignment.notify_attempts) == 0,
        *(
            sa.and_(col(GreenhouseAssignment.notify_attempts) == n, last_attempt <= now - timedelta(seconds=delay))
            for n, delay in enumerate(RETRY_DELAYS_SECONDS, start=1)
        ),
    )
    inferred_failure_young = sa.and_(
        col(Interview.status) == InterviewStatus.failed.value,
        col(Interview.end_reason).in_(sorted(INFERRED_FAILURE_REASONS)),
        col(Interview.updated_at) > now - INFERRED_FAILURE_GRACE,
    )
    return sa.and_(
        col(GreenhouseAssignment.notified_at).is_(None),
        col(GreenhouseAssignment.notify_attempts) < MAX_NOTIFY_ATTEMPTS,
        col(GreenhouseAssignment.callback_url) != "",
        col(Interview.status).in_(sorted(s.value for s in TERMINAL_STATUSES)),
        sa.not_(inferred_failure_young),
        retry_due,
    )


def claim_next(engine: Engine, *, now: datetime | None = None) -> NoticeClaim | None:
    """Take the next due PATCH attempt (``notify_attempts`` + 1, an audit event); None when none is due.

    A conditional UPDATE that only matches the row as it was read: each attempt has one sender,
    across threads and processes, on SQLite and PostgreSQL alike.
    """
    now = now or utcnow()
    with Session(engine, expire_on_commit=False) as session:
        rows = session.exec(
            select(
                GreenhouseAssignment.id,
                GreenhouseAssignment.interview_id,
                GreenhouseAssignment.callback_url,
                GreenhouseAssignment.notify_attempts,
            )
            .join(Interview, col(Interview.id) == col(GreenhouseAssignment.interview_id))
            .where(_due(now))
            .order_by(col(GreenhouseAssignment.id))
            .limit(10)
        ).all()
        for assignment_id, interview_id, url, attempts in rows:
            assert assignment_id is not None, "a primary key read back"
            claimed = affected_rows(
                session.execute(
                    sa.update(GreenhouseAssignment)
                    .where(
                        col(GreenhouseAssignment.id) == assignment_id,
                        col(GreenhouseAssignment.notify_attempts) == attempts,
                        col(GreenhouseAssignment.notified_at).is_(None),
                    )
                    .values(notify_attempts=attempts + 1)
                )
            )
            if claimed != 1:
                session.rollback()
                continue
            event = record_event(session, interview_id, EVENT_NOTIFY_ATTEMPT, actor=ACTOR, attempt=attempts + 1, url=url)
            event.at = now
            session.commit()
            return NoticeClaim(assignment_id, interview_id, url, attempts + 1)
    return None


def patch_callback(client: httpx.Client, url: str, api_key: str) -> tuple[int | None, str]:
    """Send Greenhouse's "Mark Test as Completed" PATCH; (HTTP status or None, "" or a sentence on what went wrong)."""
    headers = {"Authorization": basic_credentials(api_key), "User-Agent": USER_AGENT, "Accept": "application/json"}
    return send_once(client, "PATCH", url, recipient="Greenhouse", headers=headers)


def _record(engine: Engine, claim: NoticeClaim, code: int | None, error: str, *, now: datetime) -> str:
    """Store one attempt's outcome; returns "notified", "retrying" or "gave_up"."""
    delivered = code is not None and 200 <= code < 300
    gave_up = not delivered and claim.attempt >= MAX_NOTIFY_ATTEMPTS
    if delivered:
        values: dict[str, Any] = {"notified_at": now, "last_error": ""}
    else:
        sentence = f"{error} Gave up after {claim.attempt} attempts." if gave_up else error
        values = {"last_error": short(sentence, MAX_ERROR_CHARS)}
    with Session(engine) as session:
        session.execute(
            sa.update(GreenhouseAssignment)
            .where(col(GreenhouseAssignment.id) == claim.assignment_id, col(GreenhouseAssignment.notify_attempts) == claim.attempt)
            .values(**values)
        )
        if delivered:
            event = record_event(session, claim.interview_id, EVENT_NOTIFIED, actor=ACTOR, attempt=claim.attempt, status_code=code)
        else:
            event = record_event(
                session,
                claim.interview_id,
                EVENT_NOTIFY_FAILED,
                actor=ACTOR,
                attempt=claim.attempt,
                error=values["last_error"],
                gave_up=gave_up,
            )
        event.at = now
        session.commit()
    if gave_up:
        log.warning(
            "Greenhouse completion PATCH for interview %s: gave up after %s attempts (%s)", claim.interview_id, claim.attempt, error
        )
    return "notified" if delivered else "gave_up" if gave_up else "retrying"


def notify_due(
    engine: Engine | None = None,
    *,
    settings: Settings | None = None,
    transport: httpx.BaseTransport | None = None,
    now: datetime | None = None,
    limit: int | None = None,
) -> list[tuple[uuid.UUID, str]]:
    """PATCH Greenhouse's callback for every finished interview that is due; (interview id, outcome) pairs.

    Does nothing while ``GREENHOUSE_API_KEY`` is unset. ``transport`` replaces httpx's network
    transport and ``now`` the clock (tests). Safe to run in several threads and processes at once.
    """
    settings = settings or get_settings()
    if not settings.greenhouse_enabled:
        return []
    if engine is None:
        from interview_app.db import get_engine

        engine = get_engine()
    done: list[tuple[uuid.UUID, str]] = []
    with open_client(transport) as client:
        while limit is None or len(done) < limit:
            claim = claim_next(engine, now=now)
            if claim is None:
                break
            code, error = patch_callback(client, claim.url, settings.greenhouse_api_key)
            done.append((claim.interview_id, _record(engine, claim, code, error, now=now or utcnow())))
    return done


async def greenhouse_worker(poll_seconds: float = POLL_SECONDS) -> None:
    """Runs in the app (Reflex lifespan task): tells Greenhouse about finished interviews until the app stops."""
    await poll_forever(notify_due, poll_seconds, log, "greenhouse worker")


__all__ = [
    "ACTOR",
    "COMPLETE",
    "INFERRED_FAILURE_GRACE",
    "MAX_NOTIFY_ATTEMPTS",
    "PARTNER_STATUS",
    "RETRY_DELAYS_SECONDS",
    "GreenhouseError",
    "NoticeClaim",
    "SentTest",
    "authorized",
    "basic_credentials",
    "claim_next",
    "finished",
    "greenhouse_worker",
    "list_tests",
    "notify_due",
    "partner_score",
    "patch_callback",
    "record_response_error",
    "send_test",
    "test_status",
    "validate_callback_url",
]
