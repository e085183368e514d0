"""Signed outbound webhooks (issue 18, ATS integration): endpoints, events, signing, delivery.

An admin adds **endpoints** (``webhook_endpoint``: URL, the event types it wants, a signing
secret the app generates and shows once). When something happens, :func:`enqueue` adds one
``webhook_delivery`` row per active endpoint subscribed to that event type, in the caller's
transaction: an event is queued exactly when the change that caused it commits, never for a
change that was rolled back.

Events (:data:`EVENT_TYPES`):

- ``interview.completed`` — :func:`emit_interview_completed`, called by
  ``services/results.accept_result`` when a completed result moves the interview to
  ``processing`` (the transcript is in; the evaluation follows).
- ``evaluation.ready`` — :func:`emit_evaluation_ready`, called by ``services/evaluation.process``
  when an evaluation job ends ``done`` or ``insufficient``.
- ``decision.made`` — :func:`emit_decision_made`, called by ``services/scorecards.decide`` when a
  person records (or changes) the hiring decision on an interview: advance, hold or decline.

The body is the JSON envelope ``{"id", "type", "created_at", "data"}``. Each request carries
``Interview-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, b"<t>." + body)>``,
``Interview-Event``, ``Interview-Delivery`` (the event id, the recipient's deduplication key),
``Content-Type: application/json`` and ``User-Agent: ai-interview-webhooks/1``. Recipients check
it with :func:`verify_signature` (or the same few lines in their language).

Delivery: :func:`deliver_due` (the app's lifespan task :func:`webhook_worker` runs it every
:data:`POLL_SECONDS`) claims due rows exactly once across processes — ``SELECT … FOR UPDATE SKIP
LOCKED`` on PostgreSQL, a conditional UPDATE on SQLite (``services/job_claim.py``) — and POSTs
them with ``services/outbound.py`` (10 s per network operation, redirects not followed). A 2xx
answer is delivered; anything else is tried again after :data:`RETRY_DELAYS_SECONDS` (30 s,
2 min, 10 min, 1 h, 6 h, 12 h); attempt :data:`MAX_ATTEMPTS` that fails ends ``failed``. A row
left ``delivering`` by a process that died is claimed again after :data:`LEASE_SECONDS`, so
delivery is at least once: recipients deduplicate on ``Interview-Delivery``. Deliveries of an
inactive endpoint wait until it is active again. Deleting an endpoint deletes its deliveries.

Framework-free: no reflex import.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from interview_app import routes
from interview_app.db import affected_rows
from interview_app.models import (
    Candidate,
    Evaluation,
    Interview,
    InterviewTemplate,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    utcnow,
)
from interview_app.services.interviews import as_aware, interview_language, record_event
from interview_app.services.job_claim import claim_due
from interview_app.services.outbound import open_client, send_once, short
from interview_app.services.polling import poll_forever
from interview_app.services.scoring import read_scores, weighted_score
from interview_app.settings import Settings, get_settings

log = logging.getLogger(__name__)

INTERVIEW_COMPLETED = "interview.completed"
EVALUATION_READY = "evaluation.ready"
DECISION_MADE = "decision.made"
#: Every event type an endpoint may subscribe to, in the order the admin page lists them.
EVENT_TYPES: tuple[str, ...] = (INTERVIEW_COMPLETED, EVALUATION_READY, DECISION_MADE)
EVENT_LABELS: dict[str, str] = {
    INTERVIEW_COMPLETED: "Interview completed (transcript received)",
    EVALUATION_READY: "Evaluation ready",
    DECISION_MADE: "Decision made (advance, hold or decline)",
}

SIGNATURE_HEADER = "Interview-Signature"
EVENT_HEADER = "Interview-Event"
DELIVERY_HEADER = "Interview-Delivery"
USER_AGENT = "ai-interview-webhooks/1"

#: A ``delivering`` row older than this belongs to a process that died; it is claimed again.
LEASE_SECONDS = 60
#: How often the in-app worker looks for due deliveries.
POLL_SECONDS = 5.0
#: Wait after failed attempt 1, 2, … 6; attempt 7 is the last.
RETRY_DELAYS_SECONDS: tuple[int, ...] = (30, 120, 600, 3600, 6 * 3600, 12 * 3600)
MAX_ATTEMPTS = len(RETRY_DELAYS_SECONDS) + 1
#: How far the signature's timestamp may be from the recipient's clock (replay window).
SIGNATURE_TOLERANCE_SECONDS = 300
#: Random bytes in a signing secret (urlsafe base64: 43 characters).
SECRET_BYTES = 32
MAX_URL_CHARS = 500
MAX_DESCRIPTION_CHARS = 200
MAX_EVENT_ID_CHARS = 64
MAX_ERROR_CHARS = 500
#: Rows the admin page's delivery log shows.
LOG_LIMIT = 100

D = WebhookDeliveryStatus
#: Deliveries an admin may send again.
SENDABLE_AGAIN = frozenset({D.failed.value, D.delivered.value})


class WebhookError(ValueError):
    """Bad input for an endpoint or an action the row's state does not allow; the message is a sentence for the admin."""


# --- endpoints ------------------------------------------------------------------


def new_secret() -> str:
    """A fresh signing secret: :data:`SECRET_BYTES` random bytes, urlsafe base64 (the HMAC key as is)."""
    return secrets.token_urlsafe(SECRET_BYTES)


def validate_url(url: str, *, settings: Settings | None = None) -> str:
    """The endpoint URL, trimmed, or :class:`WebhookError` saying what is wrong with it.

    http or https with a host, at most :data:`MAX_URL_CHARS` characters, no user name or password
    and no ``#fragment``; https only when ``APP_ENV=production``. Where the host points (a private
    or loopback address, say) is not checked: see docs/SECURITY.md.
    """
    settings = settings or get_settings()
    url = (url or "").strip()
    if not url:
        raise WebhookError("Enter the URL the events should be posted to, e.g. https://ats.example.com/hooks/interviews.")
    if len(url) > MAX_URL_CHARS:
        raise WebhookError(f"The URL is longer than {MAX_URL_CHARS} characters; use a shorter one.")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise WebhookError("The URL contains spaces or control characters; copy it again without them.")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number
    except ValueError:
        raise WebhookError("That is not a valid URL; it should look like https://ats.example.com/hooks/interviews.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise WebhookError("The URL must start with https:// (or http:// outside production).")
    if settings.production and scheme != "https":
        raise WebhookError("In production the URL must use https://, so events and their signatures travel encrypted.")
    if not parts.hostname:
        raise WebhookError("The URL has no host name; it should look like https://ats.example.com/hooks/interviews.")
    if parts.username is not None or parts.password is not None:
        raise WebhookError("Put no user name or password in the URL: it is shown on the admin page. Requests are signed instead.")
    if parts.fragment:
        raise WebhookError("Remove the #fragment from the URL; it is never sent to the server.")
    if port == 0:
        raise WebhookError("The URL's port must be between 1 and 65535.")
    return url


def validate_event_types(event_types: Iterable[str]) -> list[str]:
    """The chosen event types in :data:`EVENT_TYPES` order, or :class:`WebhookError` (none chosen, or an unknown one)."""
    chosen = [str(t).strip() for t in event_types]
    unknown = [t for t in chosen if t not in EVENT_TYPES]
    if unknown:
        raise WebhookError(f"Unknown event type “{unknown[0]}”; choose from {', '.join(EVENT_TYPES)}.")
    ordered = [t for t in EVENT_TYPES if t in chosen]
    if not ordered:
        raise WebhookError("Choose at least one event type to send to this endpoint.")
    return ordered


def _description(description: str) -> str:
    text = " ".join((description or "").split())
    if len(text) > MAX_DESCRIPTION_CHARS:
        raise WebhookError(f"The description is longer than {MAX_DESCRIPTION_CHARS} characters; shorten it.")
    return text


def get_endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    """The endpoint, or :class:`WebhookError` when it no longer exists."""
    endpoint = session.get(WebhookEndpoint, endpoint_id, populate_existing=True)
    if endpoint is None:
        raise WebhookError("That webhook endpoint no longer exists. Reload the page.")
    return endpoint


def create_endpoint(
    session: Session,
    url: str,
    event_types: Iterable[str],
    description: str = "",
    *,
    actor: str = "system",
    settings: Settings | None = None,
) -> WebhookEndpoint:
    """Add an active endpoint with a new secret (caller commits); its ``secret`` is shown to the admin once.

    Raises:
        WebhookError: the URL, the event types or the description is not acceptable (a sentence).
    """
    endpoint = WebhookEndpoint(
        url=validate_url(url, settings=settings),
        secret=new_secret(),
        event_types=validate_event_types(event_types),
        description=_description(description),
        active=True,
    )
    session.add(endpoint)
    session.flush()
    record_event(
        session, None, "webhook_endpoint_created", actor=actor, endpoint_id=endpoint.id, url=endpoint.url, event_types=endpoint.event_types
    )
    return endpoint


def update_endpoint(
    session: Session,
    endpoint_id: int,
    *,
    url: str | None = None,
    event_types: Iterable[str] | None = None,
    description: str | None = None,
    actor: str = "system",
    settings: Settings | None = None,
) -> WebhookEndpoint:
    """Change an endpoint's URL, event types or description (what is None stays; caller commits).

    Deliveries already queued keep the payload they were queued with and go to the new URL.

    Raises:
        WebhookError: unknown endpoint, or a value that is not acceptable.
    """
    endpoint = get_endpoint(session, endpoint_id)
    if url is not None:
        endpoint.url = validate_url(url, settings=settings)
    if event_types is not None:
        endpoint.event_types = validate_event_types(event_types)
    if description is not None:
        endpoint.description = _description(description)
    endpoint.updated_at = utcnow()
    session.add(endpoint)
    session.flush()
    record_event(
        session, None, "webhook_endpoint_updated", actor=actor, endpoint_id=endpoint.id, url=endpoint.url, event_types=endpoint.event_types
    )
    return endpoint


def set_active(session: Session, endpoint_id: int, active: bool, *, actor: str = "system") -> WebhookEndpoint:
    """Pause or resume an endpoint (caller commits). A paused endpoint gets no new events; its queued ones wait.

    Raises:
        WebhookError: unknown endpoint.
    """
    endpoint = get_endpoint(session, endpoint_id)
    endpoint.active = bool(active)
    endpoint.updated_at = utcnow()
    session.add(endpoint)
    session.flush()
    record_event(session, None, "webhook_endpoint_activated" if active else "webhook_endpoint_paused", actor=actor, endpoint_id=endpoint.id)
    return endpoint


def rotate_secret(session: Session, endpoint_id: int, *, actor: str = "system") -> WebhookEndpoint:
    """Give the endpoint a new secret (caller commits); deliveries from now on are signed with it.

    Raises:
        WebhookError: unknown endpoint.
    """
    endpoint = get_endpoint(session, endpoint_id)
    endpoint.secret = new_secret()
    endpoint.updated_at = utcnow()
    session.add(endpoint)
    session.flush()
    record_event(session, None, "webhook_secret_rotated", actor=actor, endpoint_id=endpoint.id)
    return endpoint


def delete_endpoint(session: Session, endpoint_id: int, *, actor: str = "system") -> int:
    """Delete an endpoint **and all of its deliveries**, sent or not (caller commits); returns how many deliveries went.

    Raises:
        WebhookError: unknown endpoint.
    """
    endpoint = get_endpoint(session, endpoint_id)
    deleted = affected_rows(
        session.execute(
            sa.delete(WebhookDelivery).where(col(WebhookDelivery.endpoint_id) == endpoint_id).execution_options(synchronize_session=False)
        )
    )
    url = endpoint.url
    session.delete(endpoint)
    session.flush()
    record_event(session, None, "webhook_endpoint_deleted", actor=actor, endpoint_id=endpoint_id, url=url, deliveries=deleted)
    return deleted


def list_endpoints(session: Session) -> list[WebhookEndpoint]:
    """Every endpoint, oldest first."""
    return list(session.exec(select(WebhookEndpoint).order_by(col(WebhookEndpoint.id))))


@dataclass(frozen=True)
class DeliveryLogRow:
    """One line of the admin page's delivery log."""

    delivery: WebhookDelivery
    endpoint_url: str


def delivery_log(session: Session, limit: int = LOG_LIMIT) -> list[DeliveryLogRow]:
    """The latest ``limit`` deliveries, newest first, with their endpoint's URL."""
    rows = session.exec(
        select(WebhookDelivery, WebhookEndpoint.url)
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
        .order_by(col(WebhookDelivery.id).desc())
        .limit(limit)
        .execution_options(populate_existing=True)  # the worker changes them in another session
    ).all()
    return [DeliveryLogRow(delivery, url) for delivery, url in rows]


# --- events -----------------------------------------------------------------------


def subscribers(session: Session, event_type: str) -> list[WebhookEndpoint]:
    """Active endpoints subscribed to ``event_type`` (endpoints are few: filtered here, not in JSON SQL)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    active = session.exec(select(WebhookEndpoint).where(col(WebhookEndpoint.active).is_(True)).order_by(col(WebhookEndpoint.id)))
    return [e for e in active if event_type in (e.event_types or [])]


def _iso(value: datetime | None) -> str | None:
    return as_aware(value).isoformat() if value is not None else None


def _enqueue(
    session: Session,
    event_type: str,
    data: Mapping[str, Any],
    endpoints: Sequence[WebhookEndpoint],
    *,
    event_id: str | None,
    now: datetime | None,
) -> list[WebhookDelivery]:
    if not endpoints:
        return []
    event_id = event_id or str(uuid.uuid4())
    if len(event_id) > MAX_EVENT_ID_CHARS:
        raise ValueError(f"a webhook event id has at most {MAX_EVENT_ID_CHARS} characters")
    now = now or utcnow()
    envelope = json.loads(json.dumps({"id": event_id, "type": event_type, "created_at": now.isoformat(), "data": dict(data)}))
    already = set(
        session.exec(
            select(WebhookDelivery.endpoint_id).where(
                WebhookDelivery.event_id == event_id, col(WebhookDelivery.endpoint_id).in_([e.id for e in endpoints])
            )
        )
    )
    rows = [
        WebhookDelivery(
            endpoint_id=e.id,
            event_id=event_id,
            event_type=event_type,
            payload=envelope,
            status=D.pending.value,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        for e in endpoints
        # Saved endpoints (an id); the same event id queued twice for an endpoint is queued once.
        if e.id is not None and e.id not in already
    ]
    session.add_all(rows)
    return rows


def enqueue(
    session: Session, event_type: str, data: Mapping[str, Any], *, event_id: str | None = None, now: datetime | None = None
) -> list[WebhookDelivery]:
    """Queue ``event_type`` with ``data`` for every active endpoint subscribed to it, in the caller's transaction.

    Nothing is committed here: the deliveries exist exactly when the caller's change commits.
    The stored payload is ``{"id": event_id, "type": event_type, "created_at": <ISO 8601>, "data": data}``;
    ``event_id`` defaults to a new UUID and is shared by the event's deliveries. ``data`` must be JSON.

    Nothing is flushed either (the queries here run without autoflush), so the caller's pending
    rows meet their constraints at the caller's commit, where the caller handles them.

    Raises:
        ValueError: an unknown event type, or an event id over :data:`MAX_EVENT_ID_CHARS` characters.
    """
    with session.no_autoflush:
        return _enqueue(session, event_type, data, subscribers(session, event_type), event_id=event_id, now=now)


def _review_url(settings: Settings, interview_id: uuid.UUID) -> str:
    return routes.interview_review_url(settings.app_url, str(interview_id))


def interview_completed_data(session: Session, interview: Interview, *, settings: Settings | None = None) -> dict[str, Any]:
    """``data`` of ``interview.completed``: the interview, its candidate and template, and the link to review it."""
    settings = settings or get_settings()
    candidate = session.get(Candidate, interview.candidate_id)
    template = session.get(InterviewTemplate, interview.template_id)
    return {
        "interview_id": str(interview.id),
        "candidate": (
            {"name": candidate.name, "email": candidate.email, "external_ref": candidate.external_ref} if candidate is not None else None
        ),
        "template": {"id": template.id, "title": template.title} if template is not None else None,
        "status": interview.status,
        "started_at": _iso(interview.started_at),
        "ended_at": _iso(interview.ended_at),
        "mode": interview.mode,
        "language": interview_language(interview, template),
        "end_reason": interview.end_reason,
        "review_url": _review_url(settings, interview.id),
    }


def evaluation_ready_data(evaluation: Evaluation, *, settings: Settings | None = None) -> dict[str, Any]:
    """``data`` of ``evaluation.ready``: status, overall score (0..1), recommendation and per-criterion scores."""
    settings = settings or get_settings()
    scores = read_scores(evaluation.scores)
    overall = weighted_score(scores)
    return {
        "interview_id": str(evaluation.interview_id),
        "evaluation_id": evaluation.id,
        "status": evaluation.status,
        "overall_score": round(overall, 4) if overall is not None else None,
        "recommendation": evaluation.recommendation or None,
        "criteria": [
            {"name": s.criterion, "score": None if s.insufficient_evidence else s.score, "insufficient_evidence": s.insufficient_evidence}
            for s in scores
        ],
        "review_url": _review_url(settings, evaluation.interview_id),
    }


def emit_interview_completed(session: Session, interview: Interview, *, settings: Settings | None = None) -> list[WebhookDelivery]:
    """Queue ``interview.completed`` for ``interview`` in the caller's transaction (nothing is built without subscribers).

    No autoflush: the caller's pending rows (a result's transcript) are flushed at its commit, not here.
    """
    with session.no_autoflush:
        endpoints = subscribers(session, INTERVIEW_COMPLETED)
        if not endpoints:
            return []
        data = interview_completed_data(session, interview, settings=settings)
        return _enqueue(session, INTERVIEW_COMPLETED, data, endpoints, event_id=None, now=None)


def emit_evaluation_ready(session: Session, evaluation: Evaluation, *, settings: Settings | None = None) -> list[WebhookDelivery]:
    """Queue ``evaluation.ready`` for a finished evaluation in the caller's transaction (no autoflush)."""
    with session.no_autoflush:
        endpoints = subscribers(session, EVALUATION_READY)
        if not endpoints:
            return []
        return _enqueue(session, EVALUATION_READY, evaluation_ready_data(evaluation, settings=settings), endpoints, event_id=None, now=None)


def decision_made_data(interview: Interview, *, previous: str | None, settings: Settings | None = None) -> dict[str, Any]:
    """``data`` of ``decision.made``: the decision, who made it and when, the one it replaced, the review link."""
    settings = settings or get_settings()
    return {
        "interview_id": str(interview.id),
        "decision": interview.decision,
        "previous_decision": previous,
        "decided_by": interview.decision_by,
        "decided_at": _iso(interview.decision_at),
        "note": interview.decision_note,
        "template_version": interview.template_version,
        "review_url": _review_url(settings, interview.id),
    }


def emit_decision_made(
    session: Session, interview: Interview, *, previous: str | None, settings: Settings | None = None
) -> list[WebhookDelivery]:
    """Queue ``decision.made`` for the interview's (new) decision in the caller's transaction (no autoflush)."""
    with session.no_autoflush:
        endpoints = subscribers(session, DECISION_MADE)
        if not endpoints:
            return []
        data = decision_made_data(interview, previous=previous, settings=settings)
        return _enqueue(session, DECISION_MADE, data, endpoints, event_id=None, now=None)


# --- signing ------------------------------------------------------------------------


def body_of(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes posted (and signed) for a stored payload: compact UTF-8 JSON."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The ``Interview-Signature`` value for ``body``: ``t=<unix seconds>,v1=<hex HMAC-SHA256>``."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={t},v1={_mac(secret, t, body)}"


def verify_signature(
    secret: str, header: str, body: bytes | str, *, tolerance_seconds: int = SIGNATURE_TOLERANCE_SECONDS, now: float | None = None
) -> bool:
    """Whether ``header`` (an ``Interview-Signature`` value) signs ``body`` with ``secret`` — the recipient's check.

    ``body`` must be the raw request body, byte for byte (not re-serialised JSON). False for a
    malformed header, a timestamp more than ``tolerance_seconds`` from ``now`` (default: this
    machine's clock) either way — the replay window — or no matching ``v1`` (compared in constant
    time). Several ``v1`` entries are allowed; one match is enough.
    """
    if isinstance(body, str):
        body = body.encode("utf-8")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in (header or "").split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            return False
        if key == "t":
            if timestamp is not None or not value.isascii() or not value.isdigit():
                return False
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        return False
    expected = _mac(secret, timestamp, body)
    return any(hmac.compare_digest(expected.encode(), c.encode("utf-8", "replace")) for c in candidates)


def request_headers(secret: str, body: bytes, *, event_type: str, event_id: str, timestamp: int | None = None) -> dict[str, str]:
    """Every header a delivery carries."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: event_type,
        DELIVERY_HEADER: event_id,
        SIGNATURE_HEADER: sign(secret, body, timestamp=timestamp),
    }


# --- delivery -----------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A delivery this process holds (status ``delivering``) and what it needs to post it."""

    id: int
    attempts: int
    url: str
    secret: str
    event_type: str
    event_id: str
    payload: dict[str, Any]


def _due(now: datetime, lease_seconds: int) -> Any:
    endpoint_active = (
        sa.select(sa.literal(1))
        .where(col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id), col(WebhookEndpoint.active).is_(True))
        .exists()
    )
    return sa.and_(
        sa.or_(
            sa.and_(col(WebhookDelivery.status) == D.pending.value, col(WebhookDelivery.next_attempt_at) <= now),
            sa.and_(
                col(WebhookDelivery.status) == D.delivering.value, col(WebhookDelivery.updated_at) <= now - timedelta(seconds=lease_seconds)
            ),
        ),
        endpoint_active,
    )


def _claim_of(session: Session, delivery: WebhookDelivery) -> Claim | None:
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is None:
        return None
    assert delivery.id is not None, "a delivery read from the database"
    return Claim(
        id=delivery.id,
        attempts=delivery.attempts,
        url=endpoint.url,
        secret=endpoint.secret,
        event_type=delivery.event_type,
        event_id=delivery.event_id,
        payload=dict(delivery.payload),
    )


def claim_next(engine: Engine, *, now: datetime | None = None, lease_seconds: int = LEASE_SECONDS) -> Claim | None:
    """Mark the next due delivery ``delivering`` for this process (attempts + 1); None when none is due.

    Due: ``pending`` with ``next_attempt_at`` reached, or ``delivering`` for longer than the lease,
    and its endpoint active. Each row is claimed by one caller only, across threads and processes.
    """
    now = now or utcnow()
    order = (col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
    with Session(engine, expire_on_commit=False) as session:
        row = claim_due(session, WebhookDelivery, _due(now, lease_seconds), order, status=D.delivering.value, now=now)
        return _claim_of(session, row) if row is not None else None


def post(client: httpx.Client, claim: Claim, *, now: datetime | None = None) -> tuple[int | None, str]:
    """POST one claimed delivery; (HTTP status or None, "" or a short sentence on what went wrong)."""
    body = body_of(claim.payload)
    timestamp = int((now or utcnow()).timestamp())
    headers = request_headers(claim.secret, body, event_type=claim.event_type, event_id=claim.event_id, timestamp=timestamp)
    return send_once(
        client,
        "POST",
        claim.url,
        recipient="The endpoint",
        headers=headers,
        content=body,
        redirect_advice="set the endpoint's URL to where it redirects",
    )


def _record(engine: Engine, claim: Claim, code: int | None, error: str, *, now: datetime) -> str:
    """Store the outcome of one attempt, if this process still holds the claim; the row's status after it."""
    values: dict[str, Any] = {"last_status_code": code, "updated_at": now}
    if code is not None and 200 <= code < 300:
        values |= {"status": D.delivered.value, "delivered_at": now, "last_error": ""}
    elif claim.attempts >= MAX_ATTEMPTS:
        values |= {"status": D.failed.value, "last_error": short(f"{error} Gave up after {claim.attempts} attempts.", MAX_ERROR_CHARS)}
    else:
        delay = RETRY_DELAYS_SECONDS[max(claim.attempts, 1) - 1]
        values |= {
            "status": D.pending.value,
            "next_attempt_at": now + timedelta(seconds=delay),
            "last_error": short(error, MAX_ERROR_CHARS),
        }
    with Session(engine) as session:
        result = session.execute(
            sa.update(WebhookDelivery)
            .where(
                col(WebhookDelivery.id) == claim.id,
                col(WebhookDelivery.status) == D.delivering.value,
                col(WebhookDelivery.attempts) == claim.attempts,
            )
            .values(**values)
        )
        session.commit()
        if affected_rows(result) == 1:
            return str(values["status"])
        # The lease ran out and another process took the row over (or it was deleted): its outcome counts.
        current = session.exec(select(WebhookDelivery.status).where(WebhookDelivery.id == claim.id)).first()
        log.warning("webhook delivery %s: attempt %s finished after its lease; not recorded", claim.id, claim.attempts)
        return current or "deleted"


def deliver_due(
    engine: Engine | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    limit: int | None = None,
    now: datetime | None = None,
) -> list[tuple[int, str]]:
    """Claim and post due deliveries until none is left (or ``limit``); returns (delivery id, status after) pairs.

    ``transport`` replaces httpx's network transport (tests); ``now`` replaces the clock for due
    times, backoff and the signature's timestamp. Safe to run in several threads and processes at once.
    """
    if engine is None:
        from interview_app.db import get_engine

        engine = get_engine()
    done: list[tuple[int, str]] = []
    with open_client(transport) as client:
        while limit is None or len(done) < limit:
            claim = claim_next(engine, now=now)
            if claim is None:
                break
            try:
                code, error = post(client, claim, now=now)
                done.append((claim.id, _record(engine, claim, code, error, now=now or utcnow())))
            except Exception:  # the row stays delivering; the lease hands it to the next try
                log.exception("webhook delivery %s crashed", claim.id)
                done.append((claim.id, D.delivering.value))
    return done


def send_again(session: Session, delivery_id: int, *, actor: str = "system", now: datetime | None = None) -> WebhookDelivery:
    """Queue a failed or delivered delivery again: same event id and payload, attempts from 0 (caller commits).

    Recorded in the audit trail (``webhook_resent``, actor = the admin), on the interview the
    event is about when it still exists.

    Raises:
        WebhookError: unknown delivery, or one that is still queued or being delivered.
    """
    delivery = session.get(WebhookDelivery, delivery_id, populate_existing=True)  # the worker changes it elsewhere
    if delivery is None:
        raise WebhookError("That delivery no longer exists. Reload the page.")
    if delivery.status not in SENDABLE_AGAIN:
        raise WebhookError("This delivery is still queued or being sent; it can be sent again once it has been delivered or has failed.")
    now = now or utcnow()
    previous = delivery.status
    delivery.status, delivery.attempts, delivery.next_attempt_at = D.pending.value, 0, now
    delivery.delivered_at, delivery.updated_at = None, now
    session.add(delivery)
    interview_id = _interview_of(delivery.payload)
    if interview_id is not None and session.get(Interview, interview_id) is None:
        interview_id = None
    record_event(
        session,
        interview_id,
        "webhook_resent",
        actor=actor,
        delivery_id=delivery.id,
        endpoint_id=delivery.endpoint_id,
        event_type=delivery.event_type,
        event_id=delivery.event_id,
        previous_status=previous,
    )
    session.flush()
    return delivery


def _interview_of(payload: Mapping[str, Any]) -> uuid.UUID | None:
    data = payload.get("data") if isinstance(payload, Mapping) else None
    raw = data.get("interview_id") if isinstance(data, Mapping) else None
    try:
        return uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None


# --- retention ----------------------------------------------------------------------


def _payload_interview_id() -> Any:
    return col(WebhookDelivery.payload)[("data", "interview_id")].as_string()


def delete_deliveries_about(session: Session, interview_ids: Sequence[uuid.UUID]) -> int:
    """Delete the deliveries whose payload is about one of ``interview_ids`` (``data.interview_id``), sent or not."""
    if not interview_ids:
        return 0
    keys = [str(i) for i in interview_ids]
    return affected_rows(
        session.execute(sa.delete(WebhookDelivery).where(_payload_interview_id().in_(keys)).execution_options(synchronize_session=False))
    )


def count_deliveries_before(session: Session, cutoff: datetime) -> int:
    """Deliveries created before ``cutoff`` (what :func:`delete_deliveries_before` would delete)."""
    return session.exec(select(sa.func.count()).select_from(WebhookDelivery).where(col(WebhookDelivery.created_at) < cutoff)).one()


def delete_deliveries_before(session: Session, cutoff: datetime) -> int:
    """Delete every delivery created before ``cutoff``, whatever its status (RETENTION_DAYS)."""
    return affected_rows(
        session.execute(
            sa.delete(WebhookDelivery).where(col(WebhookDelivery.created_at) < cutoff).execution_options(synchronize_session=False)
        )
    )


# --- the in-app worker --------------------------------------------------------------


async def webhook_worker(poll_seconds: float = POLL_SECONDS) -> None:
    """Runs in the app (Reflex lifespan task): posts due deliveries until the app stops."""
    await poll_forever(deliver_due, poll_seconds, log, "webhook worker")


__all__ = [
    "DECISION_MADE",
    "EVALUATION_READY",
    "EVENT_LABELS",
    "EVENT_TYPES",
    "INTERVIEW_COMPLETED",
    "MAX_ATTEMPTS",
    "RETRY_DELAYS_SECONDS",
    "SIGNATURE_HEADER",
    "Claim",
    "DeliveryLogRow",
    "WebhookError",
    "body_of",
    "claim_next",
    "count_deliveries_before",
    "create_endpoint",
    "delete_deliveries_about",
    "delete_deliveries_before",
    "delete_endpoint",
    "deliver_due",
    "delivery_log",
    "emit_evaluation_ready",
    "emit_interview_completed",
    "enqueue",
    "evaluation_ready_data",
    "get_endpoint",
    "interview_completed_data",
    "list_endpoints",
    "new_secret",
    "post",
    "request_headers",
    "rotate_secret",
    "send_again",
    "set_active",
    "sign",
    "subscribers",
    "update_endpoint",
    "validate_event_types",
    "validate_url",
    "verify_signature",
    "webhook_worker",
]
