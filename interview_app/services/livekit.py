"""LiveKit for the app: candidate tokens, rooms, agent dispatch, webhook verification.

One place for the candidate's grants and token lifetime. The server API calls are
synchronous: livekit-api's messages and access tokens sent over a per-process pool of
keep-alive HTTP connections from the calling thread, so they can be made while a
database row lock is held in a request's worker thread without blocking an event loop
that other requests share, and without a hand-over to another thread.
"""

from __future__ import annotations

import atexit
import http.client
import json
import os
import select
import ssl
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from urllib.parse import urlsplit

from google.protobuf.message import Message
from livekit import api
from livekit.protocol.webhook import WebhookEvent

from interview_app.settings import Settings

M = TypeVar("M", bound=Message)

#: Track sources a candidate may publish (LiveKit TrackSource names).
CANDIDATE_SOURCES = ["microphone", "camera"]
#: Seconds LiveKit keeps a room after the candidate drops, so a reconnect finds the same room and agent.
ROOM_DEPARTURE_TIMEOUT_SECONDS = 120
#: Seconds an empty room (nobody joined yet) stays open.
ROOM_EMPTY_TIMEOUT_SECONDS = 600
#: Seconds to open a connection to the server API (a refused connection fails at once).
CONNECT_TIMEOUT_SECONDS = 5.0
#: Seconds any one send or read of a server API call may wait.
API_TIMEOUT_SECONDS = 10.0
_USER_AGENT = f"interview-app (livekit-api/{api.__version__})"


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


class _NotSent(ConnectionError):
    """No connection to the server could be opened: nothing was sent, any call may be repeated."""


class _ConnectionLost(ConnectionError):
    """The connection broke while the request was sent or answered: the server may have acted."""


def _is_dropped(conn: http.client.HTTPConnection) -> bool:
    """An idle keep-alive connection the server has closed (readable at EOF) or that carries stray bytes."""
    sock = conn.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class _TwirpClient:
    """LiveKit's server API (Twirp: protobuf over HTTP POST) on a pool of keep-alive connections.

    One per process and server, shared by the request threads: each call borrows an idle
    connection (or opens one), sends the request from the calling thread and gives the
    connection back. The messages, their serialization, the access tokens and the error type
    are livekit-api's; only the transport is ours. livekit-api's own client is asyncio (aiohttp):
    driving it from a request thread meant a hand-over to an event-loop thread and back on every
    start, ≈ 1 ms more CPU per start than this (bench P2, docs/ARCHITECTURE.md).
    """

    MAX_IDLE = 32
    SHARED_TOKEN_SECONDS = 300

    def __init__(self, url: str, api_key: str, api_secret: str) -> None:
        parsed = urlsplit(url)
        scheme = {"ws": "http", "wss": "https"}.get(parsed.scheme, parsed.scheme)
        if scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"not a LiveKit server URL: {url!r}")
        self._https = scheme == "https"
        self._host = parsed.hostname
        self._port = parsed.port or (443 if self._https else 80)
        self._prefix = parsed.path.rstrip("/") + "/twirp/livekit."  # a base path behind a proxy is kept
        self._api_key, self._api_secret = api_key, api_secret
        self._idle: list[http.client.HTTPConnection] = []
        self._tokens: dict[tuple[bool, ...], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def _connect(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection
        if self._https:
            conn = http.client.HTTPSConnection(
                self._host, self._port, timeout=CONNECT_TIMEOUT_SECONDS, context=ssl.create_default_context()
            )
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=CONNECT_TIMEOUT_SECONDS)
        try:
            conn.connect()  # http.client sets TCP_NODELAY; small requests go out in one send
        except TimeoutError:
            conn.close()
            raise
        except OSError as err:
            conn.close()
            raise _NotSent(f"{err.__class__.__name__}: {err}") from err
        assert conn.sock is not None
        conn.sock.settimeout(API_TIMEOUT_SECONDS)
        return conn

    def _borrow(self) -> http.client.HTTPConnection:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return self._connect()
            if not _is_dropped(conn):
                return conn
            conn.close()  # closed by the server while idle: not worth a failed request

    def _give_back(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self.MAX_IDLE:
                self._idle.append(conn)
                return
        conn.close()

    def token(self, grants: api.VideoGrants) -> str:
        """An access token for server API calls with these grants.

        One naming no room (``room_create``, ``room_list``) is signed once and reused for
        ``SHARED_TOKEN_SECONDS`` (it is valid twice as long): signing was ≈ 15 % of the start
        path's CPU (bench P2). A token for one room's admin is signed per call.
        """
        if grants.room:
            return api.AccessToken(self._api_key, self._api_secret).with_grants(grants).with_ttl(timedelta(minutes=10)).to_jwt()
        key = (grants.room_create, grants.room_list, grants.room_admin, grants.room_record)
        now = time.monotonic()
        with self._lock:
            cached = self._tokens.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        ttl = timedelta(seconds=2 * self.SHARED_TOKEN_SECONDS)
        token = api.AccessToken(self._api_key, self._api_secret).with_grants(grants).with_ttl(ttl).to_jwt()
        with self._lock:
            self._tokens[key] = (token, now + self.SHARED_TOKEN_SECONDS)
        return token

    def call(self, service: str, method: str, request: Message, token: str, response_type: type[M], request_id: str) -> M:
        """One Twirp call; raises ``api.TwirpError`` (the server refused), ``_NotSent``, ``_ConnectionLost`` or ``TimeoutError``."""
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/protobuf",
            "User-Agent": _USER_AGENT,
            "X-Livekit-Request-Id": request_id,  # the server can recognise a repeated request
        }
        conn = self._borrow()
        try:
            conn.request("POST", f"{self._prefix}{service}/{method}", body=request.SerializeToString(), headers=headers)
            response = conn.getresponse()
            body = response.read()
        except TimeoutError:
            conn.close()
            raise
        except (OSError, http.client.HTTPException) as err:
            conn.close()
            raise _ConnectionLost(f"{err.__class__.__name__}: {err}") from err
        if response.will_close:
            conn.close()
        else:
            self._give_back(conn)
        if response.status == 200:
            return response_type.FromString(body)
        try:  # Twirp errors are JSON whatever the content type
            error = json.loads(body)
        except ValueError:
            error = {}
        if not isinstance(error, dict):
            error = {}
        raise api.TwirpError(str(error.get("code", "unknown")), str(error.get("msg", "")), status=response.status)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


_CLIENTS: dict[tuple[int, str, str, str], _TwirpClient] = {}
_CLIENTS_LOCK = threading.Lock()


def _client(settings: Settings) -> _TwirpClient:
    """This process's client for the configured server (a forked child builds its own)."""
    key = (os.getpid(), settings.livekit_url, settings.livekit_api_key, settings.livekit_api_secret)
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            client = _CLIENTS[key] = _TwirpClient(settings.livekit_url, settings.livekit_api_key, settings.livekit_api_secret)
        return client


@atexit.register
def _close_clients() -> None:
    with _CLIENTS_LOCK:
        mine = [c for (pid, *_), c in _CLIENTS.items() if pid == os.getpid()]
        _CLIENTS.clear()
    for client in mine:
        client.close()


#: What a failed server call raises: the server's refusal, or no usable answer.
_FAILURES = (api.TwirpError, OSError, http.client.HTTPException)


def _unavailable(err: BaseException, what: str) -> LiveKitUnavailable:
    if isinstance(err, api.TwirpError):
        return LiveKitUnavailable(f"The LiveKit server refused to {what} ({err.code}: {err.message}).")
    cause = err.__cause__ if isinstance(err, (_NotSent, _ConnectionLost)) and err.__cause__ is not None else err
    return LiveKitUnavailable(f"The LiveKit server could not be reached to {what} ({cause.__class__.__name__}).")


class LiveKitRooms:
    """The server API calls the start flow makes (synchronous; one shared client per process).

    Retry rule: a call whose connection could not be opened is retried once (nothing was sent).
    ``room_exists`` and ``create_room`` (livekit-server returns the existing room) are also retried
    once when a connection drops. ``dispatch_agent`` is not replayed blindly: after a dropped
    connection it first lists the room's dispatches and returns the one it may already have made.
    Timeouts and server errors are never retried here. A repeated call carries the same
    ``X-Livekit-Request-Id``.
    """

    def __init__(self, settings: Settings) -> None:
        settings.require_livekit()
        self._settings = settings
        self._client = _client(settings)

    def _idempotent(self, service: str, method: str, request: Message, grants: api.VideoGrants, response_type: type[M]) -> M:
        token, request_id = self._client.token(grants), str(uuid.uuid4())
        try:
            return self._client.call(service, method, request, token, response_type, request_id)
        except (_NotSent, _ConnectionLost):
            return self._client.call(service, method, request, token, response_type, request_id)

    def room_exists(self, room_name: str) -> bool:
        try:
            res = self._idempotent(
                "RoomService", "ListRooms", api.ListRoomsRequest(names=[room_name]), api.VideoGrants(room_list=True), api.ListRoomsResponse
            )
        except _FAILURES as err:
            raise _unavailable(err, "look the room up") from err
        return any(r.name == room_name for r in res.rooms)

    def agent_in_room(self, room_name: str) -> bool:
        """Whether an agent participant (the interviewer) is in the room right now."""
        try:
            res = self._idempotent(
                "RoomService",
                "ListParticipants",
                api.ListParticipantsRequest(room=room_name),
                api.VideoGrants(room_admin=True, room=room_name),
                api.ListParticipantsResponse,
            )
        except _FAILURES as err:
            if isinstance(err, api.TwirpError) and err.code == api.TwirpErrorCode.NOT_FOUND:
                return False  # the room is gone, and the interviewer with it
            raise _unavailable(err, "list the room's participants") from err
        return any(p.kind == api.ParticipantInfo.Kind.AGENT for p in res.participants)

    def create_room(self, room_name: str, metadata: str) -> None:
        """Create the room (livekit-server returns the existing one for a known name)."""
        request = api.CreateRoomRequest(
            name=room_name,
            metadata=metadata,
            empty_timeout=ROOM_EMPTY_TIMEOUT_SECONDS,
            departure_timeout=ROOM_DEPARTURE_TIMEOUT_SECONDS,
            max_participants=4,
        )
        try:
            self._idempotent("RoomService", "CreateRoom", request, api.VideoGrants(room_create=True), api.Room)
        except _FAILURES as err:
            raise _unavailable(err, "create the interview room") from err

    def open_room_with_agent(self, room_name: str, agent_name: str, metadata: str) -> str:
        """``create_room`` then ``dispatch_agent``: the dispatch id (the start path's two calls).

        A failure names the step that failed.
        """
        self.create_room(room_name, metadata)
        return self.dispatch_agent(room_name, agent_name, metadata)

    def dispatch_agent(self, room_name: str, agent_name: str, metadata: str) -> str:
        """Explicitly dispatch the interviewer to the room; returns the dispatch id.

        Never creates a second dispatch for one call: a request that may have reached the server
        is only repeated after ``ListDispatch`` shows the room has no dispatch of ``agent_name``
        with this metadata.
        """
        request = api.CreateAgentDispatchRequest(agent_name=agent_name, room=room_name, metadata=metadata)
        grants = api.VideoGrants(room_admin=True, room=room_name)
        token, request_id = self._client.token(grants), str(uuid.uuid4())
        try:
            try:
                return self._client.call("AgentDispatchService", "CreateDispatch", request, token, api.AgentDispatch, request_id).id
            except _NotSent:
                pass
            except _ConnectionLost:
                listed = self._idempotent(
                    "AgentDispatchService",
                    "ListDispatch",
                    api.ListAgentDispatchRequest(room=room_name),
                    grants,
                    api.ListAgentDispatchResponse,
                )
                for existing in listed.agent_dispatches:
                    if existing.agent_name == agent_name and existing.metadata == metadata:
                        return existing.id
            return self._client.call("AgentDispatchService", "CreateDispatch", request, token, api.AgentDispatch, request_id).id
        except _FAILURES as err:
            raise _unavailable(err, "dispatch the interviewer") from err


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
