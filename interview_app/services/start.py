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
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from interview_app.db import get_engine
from interview_app.models import Candidate, Interview, InterviewStatus, InterviewTemplate
from interview_app.services import interviews
from interview_app.services.candidate_link import TOKEN_SHAPE
from interview_app.services.livekit import LiveKitRooms, LiveKitUnavailable, browser_url, mint_candidate_token
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


def _find_with_details(
    session: Session, raw_token: str, *, for_update: bool
) -> tuple[Interview | None, Candidate | None, InterviewTemplate | None]:
    """The interview behind a link, its candidate and its template in one round trip.

    Only the interview row is locked (``FOR UPDATE OF interview``); the outer joins keep a
    missing candidate or template distinguishable from an unknown link.
    """
    if not raw_token or len(raw_token) > 200:
        return None, None, None
    stmt = (
        select(Interview, Candidate, InterviewTemplate)
        .outerjoin(Candidate, Candidate.id == Interview.candidate_id)  # type: ignore[arg-type]
        .outerjoin(InterviewTemplate, InterviewTemplate.id == Interview.template_id)  # type: ignore[arg-type]
        .where(Interview.invite_token_hash == interviews.hash_token(raw_token))
    )
    if for_update:
        stmt = stmt.with_for_update(of=Interview)  # type: ignore[arg-type]
    row = session.exec(stmt).first()
    return (row[0], row[1], row[2]) if row else (None, None, None)


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
            interview (no voice room), 503 LiveKit not
            configured or not reachable. Nothing is written when it is raised.
    """
    settings = settings or get_settings()
    if not isinstance(invite_token, str) or not TOKEN_SHAPE.fullmatch(invite_token):
        raise StartError(404, "unknown", "This interview link is not valid. Check that you copied the whole link.")
    engine = engine or get_engine()
    sqlite = engine.dialect.name == "sqlite"
    with _stripe(invite_token), Session(engine, expire_on_commit=False) as session:
        try:
            if sqlite:
                # Take SQLite's write lock now, so a second process waits here, not after reading.
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            interview, candidate, template = _find_with_details(session, invite_token, for_update=not sqlite)
            try:
                interviews.check_invite(interview)
            except interviews.InviteError as err:
                raise StartError(err.code, err.reason, err.message) from None
            assert interview is not None
            if interview.mode == "text":
                raise StartError(409, "text_mode", "This interview runs as a text chat: open your interview link to continue it there.")
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
            plan = interviews.build_plan(interview, candidate, template, org_name=settings.org_name).model_dump_json()
            rejoined = interview.status == InterviewStatus.in_progress.value
            try:
                if interview.dispatch_id is None:
                    rooms.create_room(room_name, plan)
                    interview.dispatch_id = rooms.dispatch_agent(room_name, settings.agent_name, plan)
                    interviews.record_event(
                        session,
                        interview.id,
                        "agent_dispatched",
                        room=room_name,
                        dispatch_id=interview.dispatch_id,
                        agent_name=settings.agent_name,
                    )
                elif not rooms.room_exists(room_name):
                    # The room closed (everyone left past its departure timeout) and took the agent's job
                    # with it: open it again with a new interviewer for the candidate who came back.
                    rooms.create_room(room_name, plan)
                    previous = interview.dispatch_id
                    interview.dispatch_id = rooms.dispatch_agent(room_name, settings.agent_name, plan)
                    interviews.record_event(
                        session, interview.id, "agent_redispatched", room=room_name, dispatch_id=interview.dispatch_id, previous=previous
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
                interviews.record_event(session, interview.id, "candidate_rejoined", actor="candidate", room=room_name)
            else:
                interviews.transition(session, interview, InterviewStatus.in_progress, actor="candidate", detail={"room": room_name})
            token = mint_candidate_token(settings, room_name=room_name, interview_id=interview.id, display_name=candidate.name)
            session.commit()
        except BaseException:
            session.rollback()
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
