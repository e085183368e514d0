"""LiveKit for the app: candidate tokens, rooms, agent dispatch, webhook verification.

One place for the candidate's grants and token lifetime. The server API calls are
synchronous wrappers around livekit-api's ``LiveKitAPI``, which runs on one event loop
thread per process owning one keep-alive aiohttp session: they can be made from any
thread — a request's worker thread holding a database row lock included — without
blocking an event loop that other requests share.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import aiohttp
from livekit import api
from livekit.api.room_service import RoomService
from livekit.protocol.webhook import WebhookEvent

from interview_app.settings import Settings

T = TypeVar("T")

#: Track sources a candidate may publish (LiveKit TrackSource names).
CANDIDATE_SOURCES = ["microphone", "camera"]
#: Seconds LiveKit keeps a room after the candidate drops, so a reconnect finds the same room and agent.
ROOM_DEPARTURE_TIMEOUT_SECONDS = 120
#: Seconds an empty room (nobody joined yet) stays open.
ROOM_EMPTY_TIMEOUT_SECONDS = 600
#: Seconds to open a connection to the server API (a refused connection fails at once).
CONNECT_TIMEOUT_SECONDS = 5.0
#: Seconds one request to the server API may take (livekit-api's failover tries up to 3 regions).
API_TIMEOUT_SECONDS = 10.0
#: Seconds one server API call may take in all, its retry and livekit-api's failover included (the
#: start makes two while it holds the interview's row lock).
CALL_DEADLINE_SECONDS = 25.0


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


class _ServerApi:
    """livekit-api's ``LiveKitAPI`` on one keep-alive aiohttp session, owned by an event loop thread.

    One per process and server, shared by every caller: aiohttp sessions belong to the loop they
    were made on, and the app's callers are threads (a request's worker thread holding the
    interview's row lock, ``asyncio.to_thread`` from a Reflex event handler, tests and the CLI),
    some of them without a loop and none with one that outlives them. So the loop lives on a
    daemon thread of its own, and ``run`` hands a coroutine to it and waits for the answer.
    """

    #: Seconds a server token that names no room is reused (it is valid twice as long).
    SHARED_TOKEN_SECONDS = 300

    def __init__(self, url: str, api_key: str, api_secret: str) -> None:
        self._url, self._api_key, self._api_secret = url, api_key, api_secret
        self._shared: dict[tuple[bool, bool], tuple[RoomService, float]] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="livekit-api", daemon=True)
        self._thread.start()
        self._session: aiohttp.ClientSession | None = None
        self.lk: api.LiveKitAPI
        #: The same session without livekit-api's region failover, which replays a request after a
        #: transport error or a 5xx: for the call that must not run twice (agent dispatch).
        self.lk_once: api.LiveKitAPI
        self.lk, self.lk_once = self.run(self._open(url, api_key, api_secret), "connect")

    async def _open(self, url: str, api_key: str, api_secret: str) -> tuple[api.LiveKitAPI, api.LiveKitAPI]:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=API_TIMEOUT_SECONDS, sock_connect=CONNECT_TIMEOUT_SECONDS),
            cookie_jar=aiohttp.DummyCookieJar(),  # the server API sets none; spares a cookie match per call
        )
        return (
            api.LiveKitAPI(url, api_key, api_secret, session=self._session),
            api.LiveKitAPI(url, api_key, api_secret, session=self._session, failover=False),
        )

    def room_service(self, grants: api.VideoGrants) -> RoomService:
        """livekit-api's RoomService for calls whose grants name no room (create, list), on the loop.

        livekit-api signs a token for every call (≈ 0.1–0.15 ms of CPU each, bench P2). One that
        names no room is the same for every call, so it is signed once per ``SHARED_TOKEN_SECONDS``
        and given to livekit-api's token mode (``LiveKitAPI.with_token``, same session). A token
        for one room (dispatch, participants) is still signed by livekit-api per call.
        """
        key, now = (bool(grants.room_create), bool(grants.room_list)), time.monotonic()
        cached = self._shared.get(key)
        if cached is None or cached[1] <= now:
            ttl = timedelta(seconds=2 * self.SHARED_TOKEN_SECONDS)
            token = api.AccessToken(self._api_key, self._api_secret).with_grants(grants).with_ttl(ttl).to_jwt()
            service = api.LiveKitAPI.with_token(token, self._url, session=self._session).room
            self._shared[key] = cached = (service, now + self.SHARED_TOKEN_SECONDS)
        return cached[0]

    def run(self, coro: Coroutine[Any, Any, T], what: str) -> T:
        """Run ``coro`` on the client's loop and wait for it.

        Its steps keep their own deadlines (``_step``); the wait here only bounds a loop that stopped
        answering, as ``LiveKitUnavailable`` naming ``what``. A task and a plain lock rather than
        ``run_coroutine_threadsafe``'s chained futures and condition: half the CPU of the hand-over
        and back (≈ 35 against 70 µs measured), which every start pays once.
        """
        if threading.current_thread() is self._thread:  # pragma: no cover - would deadlock; no caller does this
            coro.close()
            raise RuntimeError("LiveKit server API called from its own loop thread")
        finished = threading.Lock()
        finished.acquire()
        tasks: list[asyncio.Task[T]] = []

        def begin() -> None:
            tasks.append(self._loop.create_task(coro))
            tasks[0].add_done_callback(lambda _: finished.release())

        self._loop.call_soon_threadsafe(begin)
        if not finished.acquire(timeout=2 * CALL_DEADLINE_SECONDS + 5):
            self._loop.call_soon_threadsafe(lambda: tasks and tasks[0].cancel())
            raise _unavailable(TimeoutError(), what)
        return tasks[0].result()

    def close(self) -> None:
        if self._session is not None:
            with contextlib.suppress(Exception):  # best effort at process exit
                self.run(self._session.close(), "close the session")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=2)
        if not self._thread.is_alive():
            self._loop.close()


_CLIENTS: dict[tuple[int, str, str, str], _ServerApi] = {}
_CLIENTS_LOCK = threading.Lock()


def _client(settings: Settings) -> _ServerApi:
    """This process's client for the configured server (a forked child builds its own)."""
    key = (os.getpid(), settings.livekit_url, settings.livekit_api_key, settings.livekit_api_secret)
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            client = _CLIENTS[key] = _ServerApi(settings.livekit_url, settings.livekit_api_key, settings.livekit_api_secret)
        return client


@atexit.register
def _close_clients() -> None:
    with _CLIENTS_LOCK:
        mine = [c for (pid, *_), c in _CLIENTS.items() if pid == os.getpid()]
        _CLIENTS.clear()
    for client in mine:
        client.close()


#: No connection could be opened: nothing was sent, any call may be repeated.
_NOT_SENT = (aiohttp.ClientConnectorError,)
#: The connection broke while the request was sent or answered (a reused keep-alive connection the
#: server closed, or a drop after it read the request): the server may have acted.
_CONNECTION_LOST = (aiohttp.ServerDisconnectedError, aiohttp.ClientConnectionResetError, aiohttp.ClientOSError, aiohttp.ClientPayloadError)
#: What a failed server call raises: the server's refusal, or no usable answer.
_FAILURES = (api.TwirpError, aiohttp.ClientError, TimeoutError, OSError)


def _unavailable(err: BaseException, what: str) -> LiveKitUnavailable:
    if isinstance(err, api.TwirpError):
        return LiveKitUnavailable(f"The LiveKit server refused to {what} ({err.code}: {err.message}).")
    if isinstance(err, TimeoutError):  # aiohttp's own timeout classes say the same thing
        reason = "TimeoutError"
    elif isinstance(err, aiohttp.ClientConnectorError):
        reason = err.os_error.__class__.__name__  # e.g. ConnectionRefusedError
    else:
        reason = err.__class__.__name__
    return LiveKitUnavailable(f"The LiveKit server could not be reached to {what} ({reason}).")


async def _retry_once(call: Callable[[], Awaitable[T]]) -> T:
    """``call``, and once more if its connection could not be opened or dropped (idempotent calls only)."""
    try:
        return await call()
    except TimeoutError:
        raise  # aiohttp's timeouts are OSErrors too; never repeated here
    except (*_NOT_SENT, *_CONNECTION_LOST):
        return await call()


async def _step(what: str, call: Callable[[], Awaitable[T]]) -> T:
    """``call`` within the call deadline; a failure becomes ``LiveKitUnavailable`` naming ``what``."""
    try:
        async with asyncio.timeout(CALL_DEADLINE_SECONDS):
            return await call()
    except _FAILURES as err:
        raise _unavailable(err, what) from err


class LiveKitRooms:
    """The server API calls the start flow makes (synchronous; one shared client per process).

    Each method is one coroutine on the client's loop, so one hand-over between threads per call
    (``open_room_with_agent``: one for both of the start's calls).

    Retry rule: a call whose connection could not be opened is retried once (nothing was sent).
    ``room_exists``, ``agent_in_room`` and ``create_room`` (livekit-server returns the existing
    room) are also retried once when a connection drops. ``dispatch_agent`` is not replayed blindly:
    it runs without livekit-api's region failover, and after a dropped connection it first lists
    the room's dispatches and returns the one it may already have made. Timeouts and server errors
    are never retried here; livekit-api's failover (LiveKit Cloud hosts only) may replay the
    idempotent calls in another region.
    """

    def __init__(self, settings: Settings) -> None:
        settings.require_livekit()
        self._settings = settings
        _client(settings)  # the loop thread and session exist before the first call

    @property
    def _client(self) -> _ServerApi:
        return _client(self._settings)  # looked up per call: an object made before a fork still works after it

    def room_exists(self, room_name: str) -> bool:
        request = api.ListRoomsRequest(names=[room_name])
        lister = self._client.room_service

        async def listed() -> api.ListRoomsResponse:
            return await lister(api.VideoGrants(room_list=True)).list_rooms(request)

        what = "look the room up"
        res = self._client.run(_step(what, lambda: _retry_once(listed)), what)
        return any(r.name == room_name for r in res.rooms)

    def agent_in_room(self, room_name: str) -> bool:
        """Whether an agent participant (the interviewer) is in the room right now."""
        room = self._client.lk.room
        request = api.ListParticipantsRequest(room=room_name)
        try:
            what = "list the room's participants"
            res = self._client.run(_step(what, lambda: _retry_once(lambda: room.list_participants(request))), what)
        except LiveKitUnavailable as err:
            cause = err.__cause__
            if isinstance(cause, api.TwirpError) and cause.code == api.TwirpErrorCode.NOT_FOUND:
                return False  # the room is gone, and the interviewer with it
            raise
        return any(p.kind == api.ParticipantInfo.Kind.AGENT for p in res.participants)

    @staticmethod
    def _create_room_request(room_name: str, metadata: str) -> api.CreateRoomRequest:
        return api.CreateRoomRequest(
            name=room_name,
            metadata=metadata,
            empty_timeout=ROOM_EMPTY_TIMEOUT_SECONDS,
            departure_timeout=ROOM_DEPARTURE_TIMEOUT_SECONDS,
            max_participants=4,
        )

    def create_room(self, room_name: str, metadata: str) -> None:
        """Create the room (livekit-server returns the existing one for a known name)."""
        self._client.run(self._create_room(room_name, metadata), "create the interview room")

    def _create_room(self, room_name: str, metadata: str) -> Coroutine[Any, Any, api.Room]:
        request, creator = self._create_room_request(room_name, metadata), self._client.room_service

        async def created() -> api.Room:
            return await creator(api.VideoGrants(room_create=True)).create_room(request)

        return _step("create the interview room", lambda: _retry_once(created))

    def open_room_with_agent(self, room_name: str, agent_name: str, metadata: str) -> str:
        """``create_room`` then ``dispatch_agent`` in one trip to the client's loop; the dispatch id.

        The same calls and retry rules as the two methods, one hand-over between threads instead
        of two (the start path, bench P2). A failure names the step that failed.
        """

        async def both() -> str:
            await self._create_room(room_name, metadata)
            return await self._dispatch(room_name, agent_name, metadata)

        return self._client.run(both(), "prepare the interview room")

    def dispatch_agent(self, room_name: str, agent_name: str, metadata: str) -> str:
        """Explicitly dispatch the interviewer to the room; returns the dispatch id.

        Never creates a second dispatch for one call: a request that may have reached the server
        is only repeated after ``ListDispatch`` shows the room has no dispatch of ``agent_name``
        with this metadata.
        """
        return self._client.run(self._dispatch(room_name, agent_name, metadata), "dispatch the interviewer")

    async def _dispatch(self, room_name: str, agent_name: str, metadata: str) -> str:
        dispatch = self._client.lk_once.agent_dispatch
        request = api.CreateAgentDispatchRequest(agent_name=agent_name, room=room_name, metadata=metadata)

        async def once() -> api.AgentDispatch:
            try:
                return await dispatch.create_dispatch(request)
            except TimeoutError:
                raise
            except _NOT_SENT:
                pass
            except _CONNECTION_LOST:
                for existing in await _retry_once(lambda: dispatch.list_dispatch(room_name)):
                    if existing.agent_name == agent_name and existing.metadata == metadata:
                        return existing
            return await dispatch.create_dispatch(request)

        return (await _step("dispatch the interviewer", once)).id


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
