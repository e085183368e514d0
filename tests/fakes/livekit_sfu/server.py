"""``LiveKitTestServer``: the HTTP/websocket front door and the test-facing API.

One aiohttp app on one port serves the Twirp server API (the routes and JWT checks of
``tests.fakes.livekit_server.FakeLiveKitServer``, with CreateRoom/DeleteRoom/ListParticipants/
CreateDispatch/egress acting on live rooms), ``/rtc`` signalling and ``/agent`` workers. It runs
its own event loop in a background thread; inspection helpers are safe to call from the test
thread (they run on that loop and return copies).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from livekit.api import TokenVerifier
from livekit.api.access_token import Claims
from livekit.protocol import agent_dispatch as pb_dispatch
from livekit.protocol import egress as pb_egress
from livekit.protocol import models as pb_models
from livekit.protocol import room as pb_room

from tests.fakes.livekit_server import FakeCall, FakeLiveKitServer, _need, _TwirpError

from .agents import AgentDispatcher, JobRecord
from .egress import RoomRecorder
from .rooms import DisconnectReason, RoomRegistry, Timeouts, new_sid
from .signal import ParticipantSession, serve_participant
from .webhooks import WebhookSender

logger = logging.getLogger("livekit_sfu")
T = TypeVar("T")


class _ServerApi(FakeLiveKitServer):
    """The Twirp fake's state and checks, with the handlers that touch live rooms overridden.

    Runs on the server loop (never ``start()``-ed itself); ``_lock`` is re-entrant because live-room
    code called from a handler updates the same dicts.
    """

    def __init__(self, owner: LiveKitTestServer, api_key: str, api_secret: str) -> None:
        super().__init__(api_key=api_key, api_secret=api_secret)
        self._lock = threading.RLock()  # type: ignore[assignment]
        self.owner = owner

    @property
    def registry(self) -> RoomRegistry:
        assert self.owner._registry is not None
        return self.owner._registry

    def _create_room(self, claims: Claims, req: pb_room.CreateRoomRequest) -> pb_models.Room:
        existing = req.name in self.rooms
        room = super()._create_room(claims, req)
        live = self.registry.ensure(req.name, room)
        if not existing:
            for agent in req.agents:
                self._dispatch(pb_dispatch.CreateAgentDispatchRequest(agent_name=agent.agent_name, room=req.name, metadata=agent.metadata))
        return live.snapshot()

    def _delete_room(self, claims: Claims, req: pb_room.DeleteRoomRequest) -> pb_room.DeleteRoomResponse:
        response = super()._delete_room(claims, req)
        live = self.registry.get(req.room)
        if live is not None:
            asyncio.ensure_future(live.close("deleted"))
        return response

    def _list_participants(self, claims: Claims, req: pb_room.ListParticipantsRequest) -> pb_room.ListParticipantsResponse:
        _need(claims, "room_admin", req.room)
        live = self.registry.get(req.room)
        return pb_room.ListParticipantsResponse(participants=[p.info() for p in live.active()] if live else [])

    def _create_dispatch(self, claims: Claims, req: pb_dispatch.CreateAgentDispatchRequest) -> pb_dispatch.AgentDispatch:
        _need(claims, "room_admin", req.room)
        if not req.room:
            raise _TwirpError(400, "invalid_argument", "room is required")
        return self._dispatch(req)

    def _dispatch(self, req: pb_dispatch.CreateAgentDispatchRequest) -> pb_dispatch.AgentDispatch:
        self.registry.ensure(req.room)
        dispatch = pb_dispatch.AgentDispatch(id=new_sid("AD"), agent_name=req.agent_name, room=req.room, metadata=req.metadata)
        self.dispatches.setdefault(req.room, []).append(dispatch)
        record = self.owner._agents.dispatch(dispatch)
        dispatch.state.jobs.append(record.job)
        return dispatch

    def _start_room_egress(self, claims: Claims, req: pb_egress.RoomCompositeEgressRequest) -> pb_egress.EgressInfo:
        _need(claims, "room_record")
        live = self.registry.get(req.room_name)
        if live is None:
            raise _TwirpError(404, "not_found", "requested room does not exist")
        info = super()._start_room_egress(claims, req)
        info.room_id = live.sid
        recorder = RoomRecorder(live, info, self.owner.egress_dir, self._lock)
        live.recorders.append(recorder)
        self.owner._recorders[info.egress_id] = recorder
        response = pb_egress.EgressInfo()
        response.CopyFrom(info)  # answered as EGRESS_STARTING, like livekit-server
        recorder.start()
        return response

    def _stop_egress(self, claims: Claims, req: pb_egress.StopEgressRequest) -> pb_egress.EgressInfo:
        _need(claims, "room_record")
        recorder = self.owner._recorders.get(req.egress_id)
        if recorder is None:
            return super()._stop_egress(claims, req)
        if recorder.info.status not in (pb_egress.EgressStatus.EGRESS_STARTING, pb_egress.EgressStatus.EGRESS_ACTIVE):
            raise _TwirpError(412, "failed_precondition", "egress is not active")
        recorder.stop_soon()
        return recorder.snapshot()


class LiveKitTestServer:
    """A LiveKit-compatible **test double** (no livekit-server can be installed here).

    Unmodified clients meet in its rooms on 127.0.0.1: livekit-client in Chromium, the Python
    ``livekit`` rtc SDK and livekit-agents workers (``/agent``), and livekit-api (Twirp). Audio is
    decoded and re-encoded by aiortc; video is acknowledged but not forwarded. Not a real SFU.

    Usage::

        with LiveKitTestServer(api_key="devkey", api_secret="secret", departure_timeout=1) as server:
            env = server.env()  # LIVEKIT_URL / LIVEKIT_API_KEY / LIVEKIT_API_SECRET
            ...
            server.participants("room")      # [{identity, kind, state, ...}]
            server.webhooks.wait_for("room_finished")
    """

    def __init__(
        self,
        api_key: str = "devkey",
        api_secret: str = "secret",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_urls: list[str] | None = None,
        empty_timeout: float = 300.0,
        departure_timeout: float = 20.0,
        disconnect_grace: float = 2.0,
        egress_dir: str | Path | None = None,
    ) -> None:
        self.api_key, self.api_secret = api_key, api_secret
        self.host, self._port = host, port
        self.timeouts = Timeouts(empty_timeout=empty_timeout, departure_timeout=departure_timeout, disconnect_grace=disconnect_grace)
        self.egress_dir = Path(egress_dir) if egress_dir else Path(tempfile.mkdtemp(prefix="livekit-egress-"))
        self.egress_dir.mkdir(parents=True, exist_ok=True)
        self.node_id = new_sid("ND")
        self.webhooks = WebhookSender(api_key, api_secret, webhook_urls or [])
        self._api = _ServerApi(self, api_key, api_secret)
        self._verifier = TokenVerifier(api_key, api_secret)
        self._agents = AgentDispatcher(api_key, api_secret, "", self.node_id)
        self._registry: RoomRegistry | None = None
        self._recorders: dict[str, RoomRecorder] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # -- lifecycle -------------------------------------------------------
    def start(self) -> LiveKitTestServer:
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="livekit-test-server", daemon=True)
        self._thread.start()
        ready.result(timeout=15)
        return self

    def _run(self, ready: concurrent.futures.Future[None]) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._startup())
        except BaseException as err:  # noqa: BLE001 - reported to start()
            ready.set_exception(err)
            return
        ready.set_result(None)
        loop.run_forever()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    async def _startup(self) -> None:
        app = web.Application(middlewares=[_cors])
        app.router.add_post("/twirp/{service}/{method}", self._twirp)
        app.router.add_get("/rtc/v1", self._not_found)
        app.router.add_get("/rtc/v1/validate", self._not_found)
        app.router.add_get("/rtc/validate", self._validate)
        app.router.add_get("/rtc", self._rtc)
        app.router.add_get("/agent", self._agent)
        app.router.add_get("/", self._root)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self._port = server.sockets[0].getsockname()[1]
        self._agents.ws_url = self.ws_url
        self._registry = RoomRegistry(self._api, self.webhooks, self._agents, self.timeouts)
        self._agents.rooms = self._registry
        await self.webhooks.start()

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        fut = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        try:
            fut.result(timeout=15)
        except Exception:
            logger.exception("LiveKit test server did not shut down cleanly")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop = self._thread = None

    async def _shutdown(self) -> None:
        if self._registry is not None:
            for room in list(self._registry):
                for session in room.active():
                    session.send_leave(DisconnectReason.SERVER_SHUTDOWN)
                await room.close("server_shutdown")
        for recorder in list(self._recorders.values()):
            if not recorder.done.is_set():
                recorder.stop_soon()
                try:
                    await asyncio.wait_for(recorder.done.wait(), timeout=10)
                except TimeoutError:
                    pass
        await self._agents.close()
        await self.webhooks.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def __enter__(self) -> LiveKitTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self._port}"

    def env(self) -> dict[str, str]:
        return {"LIVEKIT_URL": self.ws_url, "LIVEKIT_API_KEY": self.api_key, "LIVEKIT_API_SECRET": self.api_secret}

    # -- HTTP handlers ---------------------------------------------------
    async def _root(self, request: web.Request) -> web.Response:
        return web.Response(text="OK")

    async def _not_found(self, request: web.Request) -> web.Response:
        return web.Response(status=404, text="not found")

    async def _twirp(self, request: web.Request) -> web.Response:
        raw = await request.read()
        status, content_type, body = self._api.handle_twirp(request.path, request.headers, raw)
        return web.Response(status=status, body=body, content_type=content_type)

    def _claims(self, request: web.Request) -> Claims:
        token = request.query.get("access_token") or ""
        auth = request.headers.get("Authorization", "")
        if not token and auth.startswith("Bearer "):
            token = auth.removeprefix("Bearer ")
        if not token:
            raise web.HTTPUnauthorized(text="no access token")
        try:
            return self._verifier.verify(token)
        except Exception as err:  # noqa: BLE001 - any verification failure is a 401
            raise web.HTTPUnauthorized(text=f"invalid token: {err}") from None

    def _join_claims(self, request: web.Request) -> Claims:
        claims = self._claims(request)
        if claims.video is None or not claims.video.room_join or not claims.video.room:
            raise web.HTTPUnauthorized(text="token has no roomJoin grant for a room")
        if not claims.identity:
            raise web.HTTPUnauthorized(text="token has no identity")
        return claims

    async def _validate(self, request: web.Request) -> web.Response:
        self._join_claims(request)
        return web.Response(text="success")

    async def _rtc(self, request: web.Request) -> web.StreamResponse:
        claims = self._join_claims(request)
        assert self._registry is not None and claims.video is not None
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        if request.query.get("reconnect") in ("1", "true"):
            # No session resumption here: ask the client for a full reconnect (a fresh join).
            from livekit.protocol import rtc as pb_rtc

            leave = pb_rtc.LeaveRequest(
                can_reconnect=True, reason=DisconnectReason.STATE_MISMATCH, action=pb_rtc.LeaveRequest.Action.RECONNECT
            )
            await ws.send_bytes(pb_rtc.SignalResponse(leave=leave).SerializeToString())
            await ws.close()
            return ws
        room = self._registry.ensure(claims.video.room)
        if claims.room_config is not None and not self._api.dispatches.get(room.name):
            for agent in claims.room_config.agents:
                self._api._dispatch(
                    pb_dispatch.CreateAgentDispatchRequest(agent_name=agent.agent_name, room=room.name, metadata=agent.metadata)
                )
        session = ParticipantSession(room, claims, ws, self.node_id)
        previous = room.participants.get(session.identity)
        if previous is not None:  # a reload: the newest connection wins
            previous.send_leave(DisconnectReason.DUPLICATE_IDENTITY)
            await room.remove(previous, DisconnectReason.DUPLICATE_IDENTITY)
        session.send(session.join_response())
        room.add(session)
        room.broadcast_update(session)
        self.webhooks.emit("participant_joined", room=room.snapshot(), participant=session.info())
        for other in room.others(session):
            for track_sid, published in other.published.items():
                session.subscribe_to(other, track_sid, published)
        session.negotiate_subscriber()
        await serve_participant(session, ws, self.timeouts.disconnect_grace)
        return ws

    async def _agent(self, request: web.Request) -> web.StreamResponse:
        claims = self._claims(request)
        if claims.video is None or not claims.video.agent:
            raise web.HTTPUnauthorized(text="token has no agent grant")
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        await self._agents.serve(ws)
        return ws

    # -- inspection (any thread) -----------------------------------------
    def _call(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        assert self._loop is not None, "start() the server first"

        async def run() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    def rooms(self) -> dict[str, dict[str, Any]]:
        """Live rooms: name → {sid, participants: [{identity, sid, kind, state, attributes, tracks}], recording}."""

        def snap() -> dict[str, dict[str, Any]]:
            assert self._registry is not None
            return {
                room.name: {"sid": room.sid, "participants": _people(room.active()), "recording": bool(room.recorders)}
                for room in self._registry
            }

        return self._call(snap)

    def participants(self, room: str) -> list[dict[str, Any]]:
        return self.rooms().get(room, {}).get("participants", [])

    def closed_rooms(self) -> list[dict[str, str]]:
        """Rooms that have closed, with why (``deleted``, ``departure_timeout``, ``empty_timeout``...)."""

        def snap() -> list[dict[str, str]]:
            assert self._registry is not None
            return [{"name": r.name, "sid": r.sid, "reason": r.close_reason} for r in self._registry.closed_rooms]

        return self._call(snap)

    def jobs(self) -> list[JobRecord]:
        """Every job created by a dispatch, with the worker that took it (``worker_id``, ``identity``)."""

        def snap() -> list[JobRecord]:
            return [
                JobRecord(
                    job=_copy(r.job),
                    dispatch_id=r.dispatch_id,
                    room=r.room,
                    agent_name=r.agent_name,
                    worker_id=r.worker_id,
                    identity=r.identity,
                    status=r.status,
                    refused_by=list(r.refused_by),
                    terminated=r.terminated,
                )
                for r in self._agents.jobs.values()
            ]

        return self._call(snap)

    def workers(self) -> list[dict[str, Any]]:
        """Registered workers: id, agent_name, connected, status, jobs (ids now), jobs_assigned (ever)."""

        def snap() -> list[dict[str, Any]]:
            return [
                {
                    "id": w.id,
                    "agent_name": w.agent_name,
                    "connected": w.connected,
                    "status": w.status,
                    "jobs": list(w.jobs),
                    "jobs_assigned": w.jobs_assigned,
                }
                for w in self._agents.workers.values()
            ]

        return self._call(snap)

    def jobs_per_worker(self) -> dict[str, int]:
        return {w["id"]: w["jobs_assigned"] for w in self.workers()}

    def dispatches(self, room: str | None = None) -> list[pb_dispatch.AgentDispatch]:
        with self._api._lock:
            return [_copy(d) for name, items in self._api.dispatches.items() if room is None or name == room for d in items]

    def egresses(self) -> list[pb_egress.EgressInfo]:
        with self._api._lock:
            return [_copy(e) for e in self._api.egresses.values()]

    def wait_egress_done(self, egress_id: str, timeout: float = 20.0) -> pb_egress.EgressInfo:
        recorder = self._recorders.get(egress_id)
        assert recorder is not None, f"no recording egress {egress_id}"
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(asyncio.wait_for(recorder.done.wait(), timeout), self._loop).result(timeout + 1)
        return recorder.snapshot()

    def calls_to(self, method: str, *, ok_only: bool = True) -> list[FakeCall]:
        return self._api.calls_to(method, ok_only=ok_only)

    def fail_next(self, method: str, status: int = 503, code: str = "unavailable", times: int = 1) -> None:
        self._api.fail_next(method, status, code, times)

    def set_connection_quality(self, room: str, identity: str, quality: str) -> None:
        """Tell everyone in ``room`` that ``identity``'s connection is ``quality`` ("poor", "good",
        "excellent" or "lost"): the ConnectionQualityUpdate livekit-server sends as it measures."""
        from livekit.protocol import rtc as pb_rtc

        q = pb_models.ConnectionQuality
        level, score = {"poor": (q.POOR, 2.0), "good": (q.GOOD, 3.5), "excellent": (q.EXCELLENT, 4.5), "lost": (q.LOST, 0.0)}[quality]

        def send() -> None:
            assert self._registry is not None
            live = self._registry.get(room)
            who = next((p for p in live.active() if p.identity == identity), None) if live is not None else None
            if live is None or who is None:
                raise KeyError(f"no participant {identity!r} in room {room!r}")
            info = pb_rtc.ConnectionQualityInfo(participant_sid=who.sid, quality=level, score=score)
            update = pb_rtc.SignalResponse(connection_quality=pb_rtc.ConnectionQualityUpdate(updates=[info]))
            for participant in live.active():
                participant.send(update)

        self._call(send)

    def delete_room(self, name: str) -> None:
        """Close a room as DeleteRoom would (without going through the API)."""

        def close() -> None:
            assert self._registry is not None
            live = self._registry.get(name)
            if live is not None:
                asyncio.ensure_future(live.close("deleted"))

        self._call(close)


@web.middleware
async def _cors(request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
    """Browsers call ``/rtc/validate`` with fetch from the app's origin: livekit-server allows any origin."""
    headers = {
        "Access-Control-Allow-Origin": request.headers.get("Origin", "*"),
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": request.headers.get("Access-Control-Request-Headers", "*"),
        "Access-Control-Allow-Credentials": "true",
    }
    if request.method == "OPTIONS":
        return web.Response(status=204, headers=headers)
    try:
        response = await handler(request)
    except web.HTTPException as err:
        err.headers.update(headers)
        raise
    if not isinstance(response, web.WebSocketResponse) and not response.prepared:
        response.headers.update(headers)
    return response


def _people(sessions: list[ParticipantSession]) -> list[dict[str, Any]]:
    kinds = pb_models.ParticipantInfo.Kind
    states = pb_models.ParticipantInfo.State
    return [
        {
            "identity": s.identity,
            "sid": s.sid,
            "kind": kinds.Name(s.kind),
            "state": states.Name(s.state),
            "attributes": dict(s.attributes),
            "tracks": [t.sid for t in s.tracks.values()],
            "published": {sid: p.frames_received for sid, p in s.published.items()},
        }
        for s in sessions
    ]


def _copy(msg: T) -> T:
    copy = type(msg)()  # type: ignore[operator]
    copy.CopyFrom(msg)  # type: ignore[attr-defined]
    return copy
