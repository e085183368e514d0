"""Database tables (SQLModel). Importable without reflex: the agent imports it.

Enumerations are stored as short strings, not database enum types, so that a
new status is a code change and a data migration, never an ALTER TYPE.
"""

from __future__ import annotations

import uuid
import warnings
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, AutoString, Column, Field, SQLModel

from interview_app.contracts import InterviewMode

# SQLite cannot reflect expression indexes, so each schema comparison on SQLite (Reflex's
# start-up check, alembic autogenerate) warns twice that it skips ix_candidate_name_trgm.
# PostgreSQL, where the index matters, compares it (tests/test_migrations.py).
warnings.filterwarnings("ignore", message=r".*expression-based index '?ix_candidate_name_trgm\b")


def utcnow() -> datetime:
    """Timezone-aware now (sqlmodel rejects naive datetimes)."""
    return datetime.now(UTC)


def _ts(**kwargs: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=sa.DateTime(timezone=True), **kwargs)


def _opt_ts(**kwargs: Any) -> Any:
    return Field(default=None, sa_type=sa.DateTime(timezone=True), **kwargs)


class AdminRole(StrEnum):
    admin = "admin"
    reviewer = "reviewer"


class InterviewStatus(StrEnum):
    invited = "invited"
    in_progress = "in_progress"
    processing = "processing"
    completed = "completed"
    expired = "expired"
    failed = "failed"
    cancelled = "cancelled"


TERMINAL_STATUSES = frozenset({InterviewStatus.completed, InterviewStatus.expired, InterviewStatus.failed, InterviewStatus.cancelled})


class AdminUser(SQLModel, table=True):
    __tablename__ = "admin_user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    name: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=255)
    role: str = Field(default=AdminRole.admin.value, max_length=20)
    active: bool = Field(default=True)
    created_at: datetime = _ts()
    last_login_at: datetime | None = _opt_ts()


class AdminSession(SQLModel, table=True):
    """A logged-in browser; the cookie/state carries the raw token, we keep its hash."""

    __tablename__ = "admin_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="admin_user.id", index=True)
    created_at: datetime = _ts()
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    revoked_at: datetime | None = _opt_ts()
    client: str = Field(default="", max_length=200)


class LoginAttempt(SQLModel, table=True):
    """Failed and successful logins, for throttling per known device, account and client (services/auth.py)."""

    __tablename__ = "login_attempt"
    __table_args__ = (sa.Index("ix_login_attempt_email_at", "email", "at"), sa.Index("ix_login_attempt_client_at", "client", "at"))

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320)
    client: str = Field(default="", max_length=200)
    #: Device id of a valid device cookie for this account; "" for an untrusted attempt.
    device: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})
    success: bool = False
    at: datetime = _ts()


class Candidate(SQLModel, table=True):
    __tablename__ = "candidate"
    __table_args__ = (
        sa.Index("ix_candidate_created_at", "created_at"),
        # The admin list's search is an infix LIKE; PostgreSQL answers it from trigram indexes
        # instead of reading every candidate (bench P3). SQLite ignores the gin options.
        sa.Index(
            "ix_candidate_name_trgm",
            sa.func.lower(sa.column("name")).label("name_lower"),
            postgresql_using="gin",
            postgresql_ops={"name_lower": "gin_trgm_ops"},
        ),
        sa.Index("ix_candidate_email_trgm", "email", postgresql_using="gin", postgresql_ops={"email": "gin_trgm_ops"}),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    email: str = Field(max_length=320, index=True)
    external_ref: str = Field(default="", max_length=200)
    created_at: datetime = _ts()


class InterviewTemplate(SQLModel, table=True):
    """What to ask and how to judge it.

    ``questions`` is a list of contracts.PlanQuestion dicts (ordered);
    ``rubric`` is a list of contracts.RubricCriterion dicts.
    """

    __tablename__ = "interview_template"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    job_description: str = Field(default="", sa_type=sa.Text)
    language: str = Field(default="en", max_length=16)
    duration_limit_minutes: int = Field(default=30)
    persona: str = Field(default="", sa_type=sa.Text)
    greeting: str = Field(default="", sa_type=sa.Text)
    questions: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rubric: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: Languages a candidate may choose for this template's interviews (codes of i18n.LANGUAGE_NAMES,
    #: ``language`` first); empty means only ``language`` (services/templates.offered_languages).
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    allow_text_mode: bool = Field(default=True)
    #: The current rubric version (services/templates.py): a save that changes ``questions`` or
    #: ``rubric`` adds a ``template_version`` row and moves this on; interviews and scores keep theirs.
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    #: Blind review: reviewers (role reviewer) see no candidate name, email or external reference
    #: until they have submitted their own scorecard for the interview (services/scorecards.py).
    blind_review: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    #: What an open accommodation request means for the start: "proceed" (the candidate may start
    #: while the hiring team decides) or "wait" (no start until they have decided).
    accommodation_policy: str = Field(default="proceed", max_length=10, sa_column_kwargs={"server_default": "proceed"})
    archived: bool = Field(default=False, index=True)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class TemplateVersion(SQLModel, table=True):
    """One version of a template's questions and rubric, as interviews were run and scored against it.

    Version 1 is the template as it was created (or as it was when versions began, migration 0013);
    each save that changes the questions or the rubric adds the next one. Rows are never edited.
    """

    __tablename__ = "template_version"
    __table_args__ = (sa.UniqueConstraint("template_id", "version", name="uq_template_version_template_version"),)

    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="interview_template.id", index=True)
    version: int
    questions: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rubric: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by: str = Field(default="", max_length=320)
    created_at: datetime = _ts()


class Interview(SQLModel, table=True):
    __tablename__ = "interview"
    __table_args__ = (
        sa.Index("ix_interview_status_created", "status", "created_at", "id"),
        sa.Index("ix_interview_created_id", "created_at", "id"),
        sa.Index("ix_interview_template_created", "template_id", "created_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    template_id: int = Field(foreign_key="interview_template.id")
    status: str = Field(default=InterviewStatus.invited.value, max_length=20)
    #: voice | text; a VARCHAR(10) column (sa_type: SQLModel derives no column type from a Literal).
    mode: InterviewMode = Field(default="voice", sa_type=AutoString(length=10))
    #: The language the candidate chose (one the template offers); None until chosen = the template's.
    language: str | None = Field(default=None, max_length=16)
    #: Extra time the hiring team granted (percent of the template's limits; 0 = none); build_plan applies it.
    extra_time_percent: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    invite_token_hash: str = Field(max_length=64, unique=True, index=True)
    invite_expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    room_name: str | None = Field(default=None, max_length=128)
    dispatch_id: str | None = Field(default=None, max_length=128)
    egress_id: str | None = Field(default=None, max_length=128)
    #: The app process driving this text interview (its host id; the fence of its lease, migration 0014).
    text_host: str | None = Field(default=None, max_length=80)
    started_at: datetime | None = _opt_ts()
    ended_at: datetime | None = _opt_ts()
    end_reason: str | None = Field(default=None, max_length=500)
    s3_recording_url: str | None = Field(default=None, max_length=1000)
    s3_transcript_url: str | None = Field(default=None, max_length=1000)
    recording_size_bytes: int | None = Field(default=None, sa_type=sa.BigInteger)
    result_received_at: datetime | None = _opt_ts()
    latency: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    #: The template version the interview was run against (set when it starts; None = before versions).
    template_version: int | None = None
    #: The hiring decision, always a human's (services/scorecards.decide): advance | hold | decline.
    decision: str | None = Field(default=None, max_length=10)
    decision_by: str = Field(default="", max_length=320, sa_column_kwargs={"server_default": ""})
    decision_note: str = Field(default="", sa_type=sa.Text, sa_column_kwargs={"server_default": ""})
    decision_at: datetime | None = _opt_ts()
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Scorecard(SQLModel, table=True):
    """One reviewer's scores of one interview on the rubric, beside the AI's (services/scorecards.py).

    ``scores`` is a list of ``contracts.ReviewerScore`` dicts (criterion, score, scale, weight, note)
    in the rubric's order; ``score`` is None for a criterion the reviewer could not judge.
    ``recommendation`` is the reviewer's own advance | hold | decline; the interview's decision is
    separate (``Interview.decision``).
    """

    __tablename__ = "scorecard"
    __table_args__ = (sa.UniqueConstraint("interview_id", "reviewer_id", name="uq_scorecard_interview_reviewer"),)

    id: int | None = Field(default=None, primary_key=True)
    interview_id: uuid.UUID = Field(foreign_key="interview.id", index=True)
    reviewer_id: int = Field(foreign_key="admin_user.id", index=True)
    reviewer_email: str = Field(max_length=320)
    #: The template version the scores are against (the interview's).
    template_version: int | None = None
    scores: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    recommendation: str = Field(default="", max_length=10)
    note: str = Field(default="", sa_type=sa.Text)
    submitted_at: datetime = _ts()
    updated_at: datetime = _ts()


class AccommodationStatus(StrEnum):
    requested = "requested"
    granted = "granted"
    declined = "declined"


class AccommodationRequest(SQLModel, table=True):
    """A candidate's request for an adjustment (extra time, text instead of voice, a human interviewer).

    At most one per interview (services/accommodations.py): while ``requested`` the candidate may
    change it; once granted or declined it is the record of the decision.
    """

    __tablename__ = "accommodation_request"

    id: int | None = Field(default=None, primary_key=True)
    interview_id: uuid.UUID = Field(foreign_key="interview.id", unique=True, index=True)
    #: Subset of services.accommodations.KINDS, in that order.
    kinds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: The candidate's note (candidate_text, at most 2000 characters); plain text, never markup.
    note: str = Field(default="", sa_type=sa.Text)
    status: str = Field(default=AccommodationStatus.requested.value, max_length=20)
    extra_time_percent: int = 0
    decided_by: str = Field(default="", max_length=320)
    decided_at: datetime | None = _opt_ts()
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class TranscriptSegment(SQLModel, table=True):
    __tablename__ = "transcript_segment"
    __table_args__ = (sa.UniqueConstraint("interview_id", "seq", name="uq_transcript_segment_interview_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    interview_id: uuid.UUID = Field(foreign_key="interview.id", index=True)
    seq: int
    speaker: str = Field(max_length=20)
    text: str = Field(sa_type=sa.Text)
    start_ms: int = 0
    end_ms: int = 0
    question_id: str | None = Field(default=None, max_length=64)


class EvaluationStatus(StrEnum):
    pending = "pending"
    running = "running"
    done = "done"
    failed = "failed"
    needs_llm = "needs_llm"
    #: Insufficient evidence: too little usable candidate speech to score (services/scoring.assess_evidence),
    #: so no model was asked. The value is short because ``evaluation.status`` is VARCHAR(20).
    insufficient_evidence = "insufficient"


class Evaluation(SQLModel, table=True):
    """The rubric evaluation of one interview; the row is also the durable job."""

    __tablename__ = "evaluation"

    id: int | None = Field(default=None, primary_key=True)
    interview_id: uuid.UUID = Field(foreign_key="interview.id", index=True)
    status: str = Field(default=EvaluationStatus.pending.value, max_length=20, index=True)
    #: contracts.CriterionScore entries as JSON dicts (services/scoring.stored_scores / read_scores).
    scores: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    summary: str = Field(default="", sa_type=sa.Text)
    recommendation: str = Field(default="", max_length=40)
    model: str = Field(default="", max_length=200)
    #: The language of the transcript it scored (the interview's); rationales are written in English.
    language: str = Field(default="en", max_length=16, sa_column_kwargs={"server_default": "en"})
    #: The template version whose rubric it scored against (the interview's; None = before versions).
    template_version: int | None = None
    attempts: int = 0
    error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class InterviewEvent(SQLModel, table=True):
    """Audit trail: status changes, webhooks received, recording views, integrity signals."""

    __tablename__ = "interview_event"
    __table_args__ = (sa.Index("ix_interview_event_interview_at", "interview_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    interview_id: uuid.UUID | None = Field(default=None, foreign_key="interview.id")
    kind: str = Field(max_length=60)
    actor: str = Field(default="system", max_length=320)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = _ts()


class WebhookReceipt(SQLModel, table=True):
    """Deliveries already processed, so a replayed webhook changes nothing."""

    __tablename__ = "webhook_receipt"
    __table_args__ = (sa.UniqueConstraint("source", "delivery_id", name="uq_webhook_receipt_source_delivery"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=40)
    delivery_id: str = Field(max_length=200)
    received_at: datetime = _ts()


class WebhookDeliveryStatus(StrEnum):
    pending = "pending"
    delivering = "delivering"
    delivered = "delivered"
    failed = "failed"


class WebhookEndpoint(SQLModel, table=True):
    """An outbound webhook receiver (e.g. an ATS) an admin added (services/webhooks.py).

    ``secret`` is kept as generated (urlsafe, 32 random bytes): it signs every delivery, so it must
    be usable, not hashed. ``event_types`` is a non-empty subset of services.webhooks.EVENT_TYPES.
    One organisation per deployment, so there is no organisation column.
    """

    __tablename__ = "webhook_endpoint"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=500)
    secret: str = Field(max_length=200)
    event_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = Field(default=True)
    description: str = Field(default="", max_length=200)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint; the row is also the durable delivery job.

    ``pending → delivering → delivered``, or back to ``pending`` with a later ``next_attempt_at``
    after a failed attempt, and ``failed`` after the last one. ``event_id`` is the event's id, the
    same for every endpoint that gets the event (the recipient's deduplication key).
    """

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        sa.UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_delivery_endpoint_event"),
        sa.Index("ix_webhook_delivery_status_next", "status", "next_attempt_at"),
        sa.Index("ix_webhook_delivery_created_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: int = Field(foreign_key="webhook_endpoint.id")
    event_id: str = Field(max_length=64)
    event_type: str = Field(max_length=40)
    #: What is posted: ``{"id", "type", "created_at", "data"}`` (services/webhooks.enqueue).
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=WebhookDeliveryStatus.pending.value, max_length=20)
    attempts: int = 0
    next_attempt_at: datetime = _ts()
    last_status_code: int | None = None
    #: A short sentence about the last failed attempt (never more than 200 characters of the answer's body).
    last_error: str = Field(default="", max_length=500)
    delivered_at: datetime | None = _opt_ts()
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class GreenhouseAssignment(SQLModel, table=True):
    """An interview Greenhouse ordered through its Assessment Partner API (services/greenhouse.py).

    ``callback_url`` is the ``url`` Greenhouse sent with ``send_test``: the app PATCHes it once the
    interview is done so Greenhouse need not wait for its hourly ``test_status`` poll.
    """

    __tablename__ = "greenhouse_assignment"

    id: int | None = Field(default=None, primary_key=True)
    interview_id: uuid.UUID = Field(foreign_key="interview.id", unique=True, index=True)
    partner_test_id: str = Field(max_length=64)
    callback_url: str = Field(default="", max_length=1000)
    notified_at: datetime | None = _opt_ts()
    notify_attempts: int = 0
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = _ts()


ALL_TABLES = (
    AdminUser,
    AdminSession,
    LoginAttempt,
    Candidate,
    InterviewTemplate,
    TemplateVersion,
    Interview,
    Scorecard,
    AccommodationRequest,
    TranscriptSegment,
    Evaluation,
    InterviewEvent,
    WebhookReceipt,
    WebhookEndpoint,
    WebhookDelivery,
    GreenhouseAssignment,
)
