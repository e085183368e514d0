"""LiveKit for the app: candidate tokens, rooms, agent dispatch, webhook verification.

One place for the candidate's grants and token lifetime. The server API calls are
synchronous wrappers around livekit-api (each runs its own short event loop), so
they can be made while a database row lock is held in a worker thread without
blocking an event loop that other requests share.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import aiohttp
from livekit import api
from livekit.protocol.webhook import WebhookEvent

from interview_app.settings import Settings

T = TypeVar("T")

#: Track sources a candidate may publish (LiveKit TrackSource names).
CANDIDATE_SOURCES = ["microphone", "camera"]
#: Seconds LiveKit keeps a room after the candidate drops, so a reconnect finds the same room and agent.
ROOM_DEPARTURE_TIMEOUT_SECONDS = 120
#: Seconds an empty room (nobody joined yet) stays open.
ROOM_EMPTY_TIMEOUT_SECONDS = 600
#: Per-call timeout of server API requests.
API_TIMEOUT_SECONDS = 10.0


class LiveKitUnavailable(Exception):
    """The LiveKit server could not be reached or refused a call; the message is for a person."""


@dataclass(frozen=True)
class CandidateToken:
    jwt: str
    identity: str
    expires_at: datetime


def candidate_identity(interview_id: uuid.UUID | str) -> str:
    return f"candidate-{interview_id}"


def is_candidate_identity(identity: str) -> bool:
    return identity.startswith("candidate-")


def mint_candidate_token(settings: Settings, *, room_name: str, interview_id: uuid.UUID | str, display_name: str = "") -> CandidateToken:
    """A join token for that room only: publish mic/camera, subscribe, data; TTL ≤ 15 minutes."""
    ttl = timedelta(seconds=min(settings.candidate_token_ttl_seconds, 900))
    identity = candidate_identity(interview_id)
    grants = api.VideoGrants(
        room_join=True,
        room=room_name,
        can_publish=True,
        can_publish_sources=list(CANDIDATE_SOURCES),
        can_subscribe=True,
        can_publish_data=True,
    )
    token = (
        api.AccessToken(settings.livekit_api_key, settings.livekit_api_secret)
        .with_identity(identity)
        .with_name(display_name or "Candidate")
        .with_ttl(ttl)
        .with_grants(grants)
    )
    expires_at = datetime.now(UTC).replace(microsecond=0) + ttl
    return CandidateToken(jwt=token.to_jwt(), identity=identity, expires_at=expires_at)


def browser_url(settings: Settings) -> str:
    """The URL the browser's LiveKit client connects to (ws/wss)."""
    url = settings.livekit_url
    if url.startswith("http://"):
        return "ws://" + url.removeprefix("http://")
    if url.startswith("https://"):
        return "wss://" + url.removeprefix("https://")
    return url


def _run_coroutine(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from synchronous code, even if this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())  # type: ignore[arg-type]
    with ThreadPoolExecutor(max_workers=1) as pool:  # a caller inside a loop: use a fresh thread
        return pool.submit(lambda: asyncio.run(factory())).result()  # type: ignore[arg-type]


class LiveKitRooms:
    """The server API calls the start flow makes (synchronous; one short loop per call)."""

    def __init__(self, settings: Settings) -> None:
        settings.require_livekit()
        self._settings = settings

    def _run(self, call: Callable[[api.LiveKitAPI], Awaitable[T]], what: str) -> T:
        async def go() -> T:
            timeout = aiohttp.ClientTimeout(total=API_TIMEOUT_SECONDS)
            lk = api.LiveKitAPI(
                self._settings.livekit_url, self._settings.livekit_api_key, self._settings.livekit_api_secret, timeout=timeout
            )
            try:
                return await call(lk)
            finally:
                await lk.aclose()

        try:
            return _run_coroutine(go)
        except api.TwirpError as err:
            raise LiveKitUnavailable(f"The LiveKit server refused to {what} ({err.code}: {err.message}).") from err
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            raise LiveKitUnavailable(f"The LiveKit server could not be reached to {what} ({err.__class__.__name__}).") from err

    def room_exists(self, room_name: str) -> bool:
        res = self._run(lambda lk: lk.room.list_rooms(api.ListRoomsRequest(names=[room_name])), "look the room up")
        return any(r.name == room_name for r in res.rooms)

    def create_room(self, room_name: str, metadata: str) -> None:
        """Create the room (livekit-server returns the existing one for a known name)."""
        req = api.CreateRoomRequest(
            name=room_name,
            metadata=metadata,
            empty_timeout=ROOM_EMPTY_TIMEOUT_SECONDS,
            departure_timeout=ROOM_DEPARTURE_TIMEOUT_SECONDS,
            max_participants=4,
        )
        self._run(lambda lk: lk.room.create_room(req), "create the interview room")

    def dispatch_agent(self, room_name: str, agent_name: str, metadata: str) -> str:
        """Explicitly dispatch the interviewer to the room; returns the dispatch id."""
        req = api.CreateAgentDispatchRequest(agent_name=agent_name, room=room_name, metadata=metadata)
        dispatch = self._run(lambda lk: lk.agent_dispatch.create_dispatch(req), "dispatch the interviewer")
        return dispatch.id


class WebhookRejected(Exception):
    """A LiveKit webhook whose signature, body hash or format does not check out."""


def verify_webhook(settings: Settings, body: str, authorization: str) -> WebhookEvent:
    """Verify a LiveKit webhook (JWT signed with our API secret, sha256 of the body) and parse it."""
    if not authorization:
        raise WebhookRejected("no Authorization header")
    token = authorization.removeprefix("Bearer ").strip()
    receiver = api.WebhookReceiver(api.TokenVerifier(settings.livekit_api_key, settings.livekit_api_secret))
    try:
        return receiver.receive(body, token)
    except Exception as err:  # noqa: BLE001 - jwt, hash and parse errors all mean "refuse"
        raise WebhookRejected(f"{err.__class__.__name__}: {err}") from None


__all__ = [
    "CANDIDATE_SOURCES",
    "CandidateToken",
    "LiveKitRooms",
    "LiveKitUnavailable",
    "WebhookRejected",
    "browser_url",
    "candidate_identity",
    "is_candidate_identity",
    "mint_candidate_token",
    "verify_webhook",
]
