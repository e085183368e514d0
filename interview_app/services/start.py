"""Starting (or rejoining) a voice interview from an invite link.

Used by the candidate page and by ``POST /api/interview/start``. Concurrent
starts for one interview are serialised on the interview's row (PostgreSQL:
``SELECT ... FOR UPDATE``; SQLite: ``BEGIN IMMEDIATE``), plus a striped
in-process lock so threads of one worker queue instead of spinning on the
database lock. The first start creates the room and dispatches the agent and
stores ``Interview.dispatch_id``; later starts see it and only mint a token.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from interview_app.db import get_engine
from interview_app.models import AccommodationRequest, Candidate, Interview, InterviewEvent, InterviewStatus, InterviewTemplate
from interview_app.services import interviews
from interview_app.services.accommodations import PENDING_MESSAGE, PENDING_REASON, policy_of, waits
from interview_app.services.candidate_link import TOKEN_SHAPE
from interview_app.services.livekit import LiveKitRooms, LiveKitUnavailable, browser_url, mint_candidate_token
from interview_app.services.templates import as_run
from interview_app.settings import Settings, get_settings

log = logging.getLogger(__name__)

_LOCK_STRIPES = [threading.Lock() for _ in range(64)]


class StartError(Exception):
    """Why an interview cannot start; ``code`` is the HTTP status, ``message`` a sentence for the candidate."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class StartedInterview:
    interview_id: str
    room_name: str
    token: str
    server_url: str
    expires_at: datetime
    rejoined: bool

    def response(self) -> dict[str, str]:
        """The body of a 200 from ``POST /api/interview/start``."""
        return {
            "room_name": self.room_name,
            "token": self.token,
            "server_url": self.server_url,
            "expires_at": self.expires_at.isoformat(),
        }


def _stripe(raw_token: str) -> threading.Lock:
    digest = hashlib.sha256(raw_token.encode("utf-8", "replace")).digest()
    return _LOCK_STRIPES[digest[0] % len(_LOCK_STRIPES)]


_INTERVIEW = Interview.__table__  # type: ignore[attr-defined]
_CANDIDATE = Candidate.__table__  # type: ignore[attr-defined]
_TEMPLATE = InterviewTemplate.__table__  # type: ignore[attr-defined]
_EVENT = InterviewEvent.__table__  # type: ignore[attr-defined]
_ACCOMMODATION = AccommodationRequest.__table__  # type: ignore[attr-defined]
# What the start writes back to the interview row (the status machine's fields and the room's).
_WRITTEN = ("status", "updated_at", "started_at", "ended_at", "end_reason", "room_name", "dispatch_id", "template_version")


def _find_statement(*, for_update: bool) -> sa.Select:
    """The interview behind a token hash with its candidate and template columns, one round trip.

    Only the interview row is locked (``FOR UPDATE OF interview``); the outer joins keep a
    missing candidate or template distinguishable from an unknown link. The status of the
    interview's accommodation request (at most one per interview) comes along, for the
    template's "wait" policy. Built once: SQLAlchemy then reuses its compiled form.
    """
    stmt = (
        sa.select(
            *_INTERVIEW.c,
            *(c.label(f"candidate__{c.name}") for c in _CANDIDATE.c),
            *(c.label(f"template__{c.name}") for c in _TEMPLATE.c),
            _ACCOMMODATION.c.status.label("accommodation__status"),
        )
        .select_from(
            _INTERVIEW.outerjoin(_CANDIDATE, _CANDIDATE.c.id == _INTERVIEW.c.candidate_id)
            .outerjoin(_TEMPLATE, _TEMPLATE.c.id == _INTERVIEW.c.template_id)
            .outerjoin(_ACCOMMODATION, _ACCOMMODATION.c.interview_id == _INTERVIEW.c.id)
        )
        .where(_INTERVIEW.c.invite_token_hash == sa.bindparam("token_hash"))
    )
    return stmt.with_for_update(of=_INTERVIEW) if for_update else stmt


_FIND = {True: _find_statement(for_update=True), False: _find_statement(for_update=False)}
_UPDATE = _INTERVIEW.update().where(_INTERVIEW.c.id == sa.bindparam("interview_id")).values({k: sa.bindparam(f"new_{k}") for k in _WRITTEN})
_INSERT_EVENTS = _EVENT.insert()


def _load(
    conn: sa.Connection, raw_token: str, *, for_update: bool
) -> tuple[Interview | None, Candidate | None, InterviewTemplate | None, str]:
    """The interview, candidate and template behind a link, as detached model objects, and its
    accommodation request's status ("" when there is none)."""
    row = conn.execute(_FIND[for_update], {"token_hash": interviews.hash_token(raw_token)}).mappings().first()
    if row is None:
        return None, None, None, ""
    interview = Interview(**{c.name: row[c.name] for c in _INTERVIEW.c})
    candidate = Candidate(**{c.name: row[f"candidate__{c.name}"] for c in _CANDIDATE.c}) if row["candidate__id"] is not None else None
    template = InterviewTemplate(**{c.name: row[f"template__{c.name}"] for c in _TEMPLATE.c}) if row["template__id"] is not None else None
    return interview, candidate, template, row["accommodation__status"] or ""


def _event(interview_id: uuid.UUID, kind: str, *, actor: str = "system", **detail: Any) -> InterviewEvent:
    return InterviewEvent(interview_id=interview_id, kind=kind, actor=actor, detail=detail)


def start_interview(
    invite_token: str,
    *,
    settings: Settings | None = None,
    rooms: LiveKitRooms | None = None,
    engine: Engine | None = None,
) -> StartedInterview:
    """Validate the link, ensure room + one agent dispatch, move to in_progress, mint a token.

    Raises:
        StartError: 404 unknown link, 410 expired/finished/revoked, 409 a text-mode
            interview (no voice room) or ``accommodation_pending`` (the template waits for the
            hiring team's answer to an open accommodation request), 503 LiveKit not
            configured or not reachable. Nothing is written when it is raised.
    """
    settings = settings or get_settings()
    if not isinstance(invite_token, str) or not TOKEN_SHAPE.fullmatch(invite_token):
        raise StartError(404, "unknown", "This interview link is not valid. Check that you copied the whole link.")
    engine = engine or get_engine()
    sqlite = engine.dialect.name == "sqlite"
    # SQLAlchemy Core, not the ORM session: the same statements for a fraction of the CPU on the
    # busiest request of the app (bench P2). The status machine still decides what changes
    # (interviews.apply_transition); the rows are detached model objects written back below.
    with _stripe(invite_token), engine.connect() as conn:
        try:
            if sqlite:
                # Take SQLite's write lock now, so a second process waits here, not after reading.
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            interview, candidate, template, accommodation = _load(conn, invite_token, for_update=not sqlite)
            try:
                interviews.check_invite(interview)
            except interviews.InviteError as err:
                raise StartError(err.code, err.reason, err.message) from None
            assert interview is not None
            if interview.mode == "text":
                raise StartError(409, "text_mode", "This interview runs as a text chat: open your interview link to continue it there.")
            if interview.status == InterviewStatus.invited.value and waits(policy_of(template), accommodation):
                # A first start only: a candidate rejoining a running interview is never held.
                raise StartError(409, PENDING_REASON, PENDING_MESSAGE)
            if not settings.livekit_configured:
                raise StartError(
                    503,
                    "livekit_not_configured",
                    f"Voice interviews are not set up on this server yet. Please contact {settings.support_email}.",
                )
            rooms = rooms or LiveKitRooms(settings)
            if candidate is None or template is None:
                raise StartError(410, "broken", f"This interview is missing its details. Please contact {settings.support_email}.")
            room_name = interview.room_name or f"interview-{interview.id}"
            interview.room_name = room_name
            template = as_run(conn, template, interview.template_version)  # a rejoin keeps the version it started with
            plan = interviews.build_plan(interview, candidate, template, org_name=settings.org_name).model_dump_json()
            rejoined = interview.status == InterviewStatus.in_progress.value
            events: list[InterviewEvent] = []
            try:
                if interview.dispatch_id is None:
                    interview.dispatch_id = rooms.open_room_with_agent(room_name, settings.agent_name, plan)
                    events.append(
                        _event(
                            interview.id,
                            "agent_dispatched",
                            room=room_name,
                            dispatch_id=interview.dispatch_id,
                            agent_name=settings.agent_name,
                        )
                    )
                elif not rooms.room_exists(room_name):
                    # The room closed (everyone left past its departure timeout) and took the agent's job
                    # with it: open it again with a new interviewer for the candidate who came back.
                    previous = interview.dispatch_id
                    interview.dispatch_id = rooms.open_room_with_agent(room_name, settings.agent_name, plan)
                    events.append(
                        _event(interview.id, "agent_redispatched", room=room_name, dispatch_id=interview.dispatch_id, previous=previous)
                    )
            except LiveKitUnavailable as err:
                log.warning("start of interview %s failed: %s", interview.id, err)
                raise StartError(
                    503,
                    "livekit_unavailable",
                    "The interview room could not be prepared right now. Please try again in a minute; "
                    f"if it keeps failing, contact {settings.support_email}.",
                ) from err
            if rejoined:
                events.append(_event(interview.id, "candidate_rejoined", actor="candidate", room=room_name))
            else:
                events.append(
                    interviews.apply_transition(interview, InterviewStatus.in_progress, actor="candidate", detail={"room": room_name})
                )
            token = mint_candidate_token(settings, room_name=room_name, interview_id=interview.id, display_name=candidate.name)
            conn.execute(_UPDATE, {"interview_id": interview.id, **{f"new_{k}": getattr(interview, k) for k in _WRITTEN}})
            conn.execute(
                _INSERT_EVENTS,
                [{"interview_id": e.interview_id, "kind": e.kind, "actor": e.actor, "detail": e.detail, "at": e.at} for e in events],
            )
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
    return StartedInterview(
        interview_id=str(interview.id),
        room_name=room_name,
        token=token.jwt,
        server_url=browser_url(settings),
        expires_at=token.expires_at,
        rejoined=rejoined,
    )


__all__ = ["StartError", "StartedInterview", "start_interview"]
