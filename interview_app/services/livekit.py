"""LiveKit for the app: candidate tokens, rooms, agent dispatch, webhook verification.

One place for the candidate's grants and token lifetime. The server API calls are
synchronous wrappers around livekit-api, run on one background event loop per
process that owns one keep-alive HTTP session, so they can be made while a
database row lock is held in a worker thread without blocking an event loop
that other requests share.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import threading
import uuid
from collections.abc import Awaitable, Callable, Coroutine
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


class _ApiClient:
    """One event loop thread and one keep-alive aiohttp session for one LiveKit server, in one process.

    Every ``LiveKitRooms`` of the process with the same URL and key shares it, so a start pays
    neither a loop start-up nor a TCP handshake per server call. Synchronous callers (a request's
    worker thread, possibly holding a row lock) submit coroutines to the loop and wait.
    """

    def __init__(self, url: str, api_key: str, api_secret: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="livekit-api", daemon=True)
        self._thread.start()
        self.lk: api.LiveKitAPI
        #: The same session without livekit-api's own region failover, which replays a request after a
        #: transport error or 5xx: used for calls that must not run twice (agent dispatch).
        self.lk_once: api.LiveKitAPI

        async def build() -> None:
            session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=API_TIMEOUT_SECONDS))
            self.lk = api.LiveKitAPI(url, api_key, api_secret, session=session)
            self.lk_once = api.LiveKitAPI(url, api_key, api_secret, session=session, failover=False)
            self._session = session

        self.submit(build())

    def submit(self, coro: Coroutine[object, object, T]) -> T:
        if threading.current_thread() is self._thread:  # pragma: no cover - would deadlock; no caller does this
            raise RuntimeError("LiveKit server API called from its own loop thread")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout=2 * API_TIMEOUT_SECONDS + 5)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError("LiveKit server API call timed out") from None

    def close(self) -> None:
        try:
            self.submit(self._session.close())
        except Exception:  # noqa: BLE001 - best effort at process exit
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=2)


_CLIENTS: dict[tuple[int, str, str, str], _ApiClient] = {}
_CLIENTS_LOCK = threading.Lock()


def _client(settings: Settings) -> _ApiClient:
    """This process's client for the configured server (a forked child builds its own)."""
    key = (os.getpid(), settings.livekit_url, settings.livekit_api_key, settings.livekit_api_secret)
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            client = _CLIENTS[key] = _ApiClient(settings.livekit_url, settings.livekit_api_key, settings.livekit_api_secret)
        return client


@atexit.register
def _close_clients() -> None:
    with _CLIENTS_LOCK:
        mine = [c for (pid, *_), c in _CLIENTS.items() if pid == os.getpid()]
        _CLIENTS.clear()
    for client in mine:
        client.close()


#: Errors raised when nothing reached the server: safe to retry any call once.
_NOT_SENT = (aiohttp.ClientConnectorError,)
#: Errors of a reused keep-alive connection that broke (the server may have closed it while idle —
#: or after it read the request): retried once only for calls that are idempotent.
_CONNECTION_LOST = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)


#: What a failed server call raises: the server's refusal, or no usable answer.
_FAILURES = (api.TwirpError, aiohttp.ClientError, TimeoutError, OSError)


def _unavailable(err: BaseException, what: str) -> LiveKitUnavailable:
    if isinstance(err, api.TwirpError):
        return LiveKitUnavailable(f"The LiveKit server refused to {what} ({err.code}: {err.message}).")
    return LiveKitUnavailable(f"The LiveKit server could not be reached to {what} ({err.__class__.__name__}).")


class LiveKitRooms:
    """The server API calls the start flow makes (synchronous; one shared client per process).

    Retry rule: a call whose connection could not be opened is retried once (nothing was sent).
    ``room_exists`` and ``create_room`` (livekit-server returns the existing room) are also retried
    once when a reused connection drops. ``dispatch_agent`` is not replayed blindly: after a dropped
    connection it first lists the room's dispatches and returns the one it may already have made.
    Timeouts and server errors are never retried here.
    """

    def __init__(self, settings: Settings) -> None:
        settings.require_livekit()
        self._settings = settings
        self._client = _client(settings)

    def _call(self, call: Callable[[], Awaitable[T]], what: str) -> T:
        async def go() -> T:
            return await call()

        try:
            return self._client.submit(go())
        except _FAILURES as err:
            raise _unavailable(err, what) from err

    @staticmethod
    async def _retry_once(call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await call()
        except (*_NOT_SENT, *_CONNECTION_LOST):
            return await call()

    def _idempotent(self, call: Callable[[], Awaitable[T]], what: str) -> T:
        return self._call(lambda: self._retry_once(call), what)

    def room_exists(self, room_name: str) -> bool:
        lk = self._client.lk
        res = self._idempotent(lambda: lk.room.list_rooms(api.ListRoomsRequest(names=[room_name])), "look the room up")
        return any(r.name == room_name for r in res.rooms)

    def _create_room_request(self, room_name: str, metadata: str) -> api.CreateRoomRequest:
        return api.CreateRoomRequest(
            name=room_name,
            metadata=metadata,
            empty_timeout=ROOM_EMPTY_TIMEOUT_SECONDS,
            departure_timeout=ROOM_DEPARTURE_TIMEOUT_SECONDS,
            max_participants=4,
        )

    def create_room(self, room_name: str, metadata: str) -> None:
        """Create the room (livekit-server returns the existing one for a known name)."""
        req = self._create_room_request(room_name, metadata)
        lk = self._client.lk
        self._idempotent(lambda: lk.room.create_room(req), "create the interview room")

    def open_room_with_agent(self, room_name: str, agent_name: str, metadata: str) -> str:
        """``create_room`` then ``dispatch_agent`` in one trip to the client's loop; the dispatch id.

        The same calls and retry rules as the two methods, minus one hand-over between threads
        (the start path's hot spot, bench P2). A failure names the step that failed.
        """
        req = self._create_room_request(room_name, metadata)
        lk = self._client.lk

        async def both() -> api.AgentDispatch:
            try:
                await self._retry_once(lambda: lk.room.create_room(req))
            except _FAILURES as err:
                raise _unavailable(err, "create the interview room") from err
            return await self._dispatch(room_name, agent_name, metadata)

        return self._call(both, "dispatch the interviewer").id

    def dispatch_agent(self, room_name: str, agent_name: str, metadata: str) -> str:
        """Explicitly dispatch the interviewer to the room; returns the dispatch id.

        Never creates a second dispatch for one call: a request that may have reached the server
        is only repeated after ``ListDispatch`` shows the room has no dispatch of ``agent_name``
        with this metadata.
        """
        dispatch = self._call(lambda: self._dispatch(room_name, agent_name, metadata), "dispatch the interviewer")
        return dispatch.id

    async def _dispatch(self, room_name: str, agent_name: str, metadata: str) -> api.AgentDispatch:
        lk = self._client.lk_once
        req = api.CreateAgentDispatchRequest(agent_name=agent_name, room=room_name, metadata=metadata)
        try:
            return await lk.agent_dispatch.create_dispatch(req)
        except _NOT_SENT:
            pass
        except _CONNECTION_LOST:
            for existing in await lk.agent_dispatch.list_dispatch(room_name):
                if existing.agent_name == agent_name and existing.metadata == metadata:
                    return existing
        return await lk.agent_dispatch.create_dispatch(req)


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
