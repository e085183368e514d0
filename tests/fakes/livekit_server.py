"""A recording fake of LiveKit's server API (Twirp over HTTP), for tests and benchmarks.

livekit-api 1.2.2 sends ``POST /twirp/livekit.<Service>/<Method>`` with a binary
protobuf body (``Content-Type: application/protobuf``) and ``Authorization: Bearer
<JWT>`` signed with the API secret; errors come back as Twirp JSON
(``{"code": ..., "msg": ...}``). The fake answers the same way (JSON bodies are
accepted too), checks the JWT and the video grants each method needs the way
livekit-server does, keeps rooms, dispatches and egresses in memory, and records
every call. Anything else (e.g. the browser's ``/rtc`` websocket) gets a 404, so a
LiveKit client pointed at it fails to connect — the "dead LiveKit URL" case.

Usage::

    server = FakeLiveKitServer(api_key="devkey", api_secret="secret").start()
    ...  # LIVEKIT_URL=server.url
    server.calls_to("CreateRoom")
    server.stop()
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from livekit.api import TokenVerifier
from livekit.api.access_token import Claims
from livekit.protocol import agent_dispatch as pb_dispatch
from livekit.protocol import egress as pb_egress
from livekit.protocol import models as pb_models
from livekit.protocol import room as pb_room

from tests.fakes.http_server import ServedInThread


@dataclass
class FakeCall:
    """One request the fake received (also the refused ones)."""

    service: str
    method: str
    request: dict[str, Any]
    identity: str
    grants: dict[str, Any]
    status: int
    at: float = field(default_factory=time.time)


class _TwirpError(Exception):
    def __init__(self, status: int, code: str, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


def _need(claims: Claims, what: str, room: str | None = None) -> None:
    video = claims.video
    if video is None or not getattr(video, what):
        raise _TwirpError(401, "unauthenticated", f"missing grant {what}")
    if room is not None and video.room != room:
        raise _TwirpError(401, "unauthenticated", f"grant is for room {video.room!r}, not {room!r}")


class FakeLiveKitServer(ServedInThread):
    """In-memory LiveKit server API on 127.0.0.1 (a free port); thread-safe; start()/stop()."""

    def __init__(self, api_key: str = "fake-api-key", api_secret: str = "fake-api-secret-" + "s" * 32) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.rooms: dict[str, pb_models.Room] = {}
        self.dispatches: dict[str, list[pb_dispatch.AgentDispatch]] = {}
        self.egresses: dict[str, pb_egress.EgressInfo] = {}
        self.calls: list[FakeCall] = []
        self.latency_seconds = 0.0
        self._failures: dict[str, list[tuple[int, str]]] = {}
        self._lock = threading.Lock()
        self._verifier = TokenVerifier(api_key, api_secret)

    # -- lifecycle -------------------------------------------------------
    def start(self) -> FakeLiveKitServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Like livekit-server (Go's net/http): TCP_NODELAY, and a buffered writer, so a response
            # leaves in one segment. Unbuffered with Nagle on, the body waits for the client's
            # delayed ACK of the headers (≈ 40 ms) on a keep-alive connection.
            disable_nagle_algorithm = True
            wbufsize = 1 << 16

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                fake._handle(self)

            def do_GET(self) -> None:
                body = b'{"code":"bad_route","msg":"the fake LiveKit server speaks only the server API"}'
                self.send_response(404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return self._serve(Handler, name="fake-livekit", port=0)

    @property
    def url(self) -> str:
        """What LIVEKIT_URL should be (ws://, as for a real server; livekit-api maps it to http)."""
        return f"ws://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {"LIVEKIT_URL": self.url, "LIVEKIT_API_KEY": self.api_key, "LIVEKIT_API_SECRET": self.api_secret}

    # -- test controls ---------------------------------------------------
    def fail_next(self, method: str, status: int = 503, code: str = "unavailable", times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with a Twirp error."""
        with self._lock:
            self._failures.setdefault(method, []).extend([(status, code)] * times)

    def calls_to(self, method: str, *, ok_only: bool = True) -> list[FakeCall]:
        with self._lock:
            return [c for c in self.calls if c.method == method and (c.status == 200 or not ok_only)]

    def end_room(self, name: str) -> None:
        """What livekit-server does when a room closes: the room and its dispatches go away."""
        with self._lock:
            self.rooms.pop(name, None)
            self.dispatches.pop(name, None)

    def reset(self) -> None:
        with self._lock:
            self.rooms.clear()
            self.dispatches.clear()
            self.egresses.clear()
            self.calls.clear()
            self._failures.clear()

    # -- request handling ------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        status, content_type, body = self.handle_twirp(h.path, h.headers, raw)
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def handle_twirp(self, path: str, headers: Mapping[str, str], raw: bytes) -> tuple[int, str, bytes]:
        """Answer one Twirp request: ``(status, content type, body)``; records the call.

        Shared with the LiveKit test server (tests/fakes/livekit_sfu), which serves the same API.
        """
        parts = path.strip("/").split("/")
        service = method = ""
        identity, grants, payload = "", {}, {}
        try:
            if len(parts) != 3 or parts[0] != "twirp" or not parts[1].startswith("livekit."):
                raise _TwirpError(404, "bad_route", f"no route {path}")
            service, method = parts[1].removeprefix("livekit."), parts[2]
            route = self._routes().get((service, method))
            if route is None:
                raise _TwirpError(404, "bad_route", f"{service}/{method} is not implemented by the fake")
            request_cls, handler = route
            auth = headers.get("Authorization", "")
            if not auth.startswith("Bearer "):
                raise _TwirpError(401, "unauthenticated", "no Authorization bearer token")
            try:
                claims = self._verifier.verify(auth.removeprefix("Bearer "))
            except Exception as err:  # noqa: BLE001 - any verification failure is a 401
                raise _TwirpError(401, "unauthenticated", f"invalid token: {err}") from None
            identity = claims.identity
            grants = {k: v for k, v in vars(claims.video).items() if v not in (None, "")} if claims.video else {}
            request = request_cls()
            try:
                if (headers.get("Content-Type") or "").startswith("application/json"):
                    json_format.Parse(raw.decode() or "{}", request, ignore_unknown_fields=True)
                else:
                    request.ParseFromString(raw)
            except (DecodeError, json_format.ParseError, UnicodeDecodeError) as err:
                raise _TwirpError(400, "malformed", f"bad body: {err}") from None
            payload = json_format.MessageToDict(request, preserving_proto_field_name=True)
            if self.latency_seconds:
                time.sleep(self.latency_seconds)
            with self._lock:
                queued = self._failures.get(method)
                if queued:
                    status, code = queued.pop(0)
                    raise _TwirpError(status, code, f"injected failure of {method}")
                response = handler(claims, request)
            body = response.SerializeToString()
            content_type = "application/protobuf"
            if (headers.get("Content-Type") or "").startswith("application/json"):
                body = json_format.MessageToJson(response).encode()
                content_type = "application/json"
            status = 200
        except _TwirpError as err:
            status, content_type = err.status, "application/json"
            body = json.dumps({"code": err.code, "msg": err.msg}).encode()
        with self._lock:
            self.calls.append(FakeCall(service, method, payload, identity, grants, status))
        return status, content_type, body

    def _routes(self) -> dict[tuple[str, str], tuple[type[Message], Callable[[Claims, Any], Message]]]:
        return {
            ("RoomService", "CreateRoom"): (pb_room.CreateRoomRequest, self._create_room),
            ("RoomService", "ListRooms"): (pb_room.ListRoomsRequest, self._list_rooms),
            ("RoomService", "DeleteRoom"): (pb_room.DeleteRoomRequest, self._delete_room),
            ("RoomService", "ListParticipants"): (pb_room.ListParticipantsRequest, self._list_participants),
            ("AgentDispatchService", "CreateDispatch"): (pb_dispatch.CreateAgentDispatchRequest, self._create_dispatch),
            ("AgentDispatchService", "ListDispatch"): (pb_dispatch.ListAgentDispatchRequest, self._list_dispatch),
            ("AgentDispatchService", "DeleteDispatch"): (pb_dispatch.DeleteAgentDispatchRequest, self._delete_dispatch),
            ("Egress", "StartRoomCompositeEgress"): (pb_egress.RoomCompositeEgressRequest, self._start_room_egress),
            ("Egress", "StartTrackCompositeEgress"): (pb_egress.TrackCompositeEgressRequest, self._start_track_egress),
            ("Egress", "StopEgress"): (pb_egress.StopEgressRequest, self._stop_egress),
            ("Egress", "ListEgress"): (pb_egress.ListEgressRequest, self._list_egress),
        }

    # Each handler runs under self._lock.
    def _create_room(self, claims: Claims, req: pb_room.CreateRoomRequest) -> pb_models.Room:
        _need(claims, "room_create")
        if not req.name:
            raise _TwirpError(400, "invalid_argument", "room name is required")
        room = self.rooms.get(req.name)
        if room is None:  # livekit-server returns the existing room for a known name
            room = pb_models.Room(
                sid=f"RM_{uuid.uuid4().hex[:12]}",
                name=req.name,
                metadata=req.metadata,
                empty_timeout=req.empty_timeout,
                departure_timeout=req.departure_timeout,
                max_participants=req.max_participants,
                creation_time=int(time.time()),
            )
            self.rooms[req.name] = room
        return room

    def _list_rooms(self, claims: Claims, req: pb_room.ListRoomsRequest) -> pb_room.ListRoomsResponse:
        _need(claims, "room_list")
        names = set(req.names)
        return pb_room.ListRoomsResponse(rooms=[r for n, r in self.rooms.items() if not names or n in names])

    def _delete_room(self, claims: Claims, req: pb_room.DeleteRoomRequest) -> pb_room.DeleteRoomResponse:
        _need(claims, "room_create")
        if req.room not in self.rooms:
            raise _TwirpError(404, "not_found", "requested room does not exist")
        self.rooms.pop(req.room)
        self.dispatches.pop(req.room, None)
        return pb_room.DeleteRoomResponse()

    def _list_participants(self, claims: Claims, req: pb_room.ListParticipantsRequest) -> pb_room.ListParticipantsResponse:
        _need(claims, "room_admin", req.room)
        return pb_room.ListParticipantsResponse()

    def _create_dispatch(self, claims: Claims, req: pb_dispatch.CreateAgentDispatchRequest) -> pb_dispatch.AgentDispatch:
        _need(claims, "room_admin", req.room)
        if not req.room:
            raise _TwirpError(400, "invalid_argument", "room is required")
        dispatch = pb_dispatch.AgentDispatch(
            id=f"AD_{uuid.uuid4().hex[:12]}", agent_name=req.agent_name, room=req.room, metadata=req.metadata
        )
        # livekit-server creates the room when a dispatch names one that does not exist.
        self.rooms.setdefault(req.room, pb_models.Room(sid=f"RM_{uuid.uuid4().hex[:12]}", name=req.room))
        self.dispatches.setdefault(req.room, []).append(dispatch)
        return dispatch

    def _list_dispatch(self, claims: Claims, req: pb_dispatch.ListAgentDispatchRequest) -> pb_dispatch.ListAgentDispatchResponse:
        _need(claims, "room_admin", req.room)
        found = [d for d in self.dispatches.get(req.room, []) if not req.dispatch_id or d.id == req.dispatch_id]
        return pb_dispatch.ListAgentDispatchResponse(agent_dispatches=found)

    def _delete_dispatch(self, claims: Claims, req: pb_dispatch.DeleteAgentDispatchRequest) -> pb_dispatch.AgentDispatch:
        _need(claims, "room_admin", req.room)
        for d in list(self.dispatches.get(req.room, [])):
            if d.id == req.dispatch_id:
                self.dispatches[req.room].remove(d)
                return d
        raise _TwirpError(404, "not_found", "dispatch not found")

    def _new_egress(self, room_name: str) -> pb_egress.EgressInfo:
        info = pb_egress.EgressInfo(
            egress_id=f"EG_{uuid.uuid4().hex[:12]}",
            room_name=room_name,
            status=pb_egress.EgressStatus.EGRESS_STARTING,
            started_at=time.time_ns(),
        )
        self.egresses[info.egress_id] = info
        return info

    def _start_room_egress(self, claims: Claims, req: pb_egress.RoomCompositeEgressRequest) -> pb_egress.EgressInfo:
        _need(claims, "room_record")
        info = self._new_egress(req.room_name)
        info.room_composite.CopyFrom(req)
        return info

    def _start_track_egress(self, claims: Claims, req: pb_egress.TrackCompositeEgressRequest) -> pb_egress.EgressInfo:
        _need(claims, "room_record")
        info = self._new_egress(req.room_name)
        info.track_composite.CopyFrom(req)
        return info

    def _stop_egress(self, claims: Claims, req: pb_egress.StopEgressRequest) -> pb_egress.EgressInfo:
        _need(claims, "room_record")
        info = self.egresses.get(req.egress_id)
        if info is None:
            raise _TwirpError(404, "not_found", "egress not found")
        info.status = pb_egress.EgressStatus.EGRESS_COMPLETE
        info.ended_at = time.time_ns()
        return info

    def _list_egress(self, claims: Claims, req: pb_egress.ListEgressRequest) -> pb_egress.ListEgressResponse:
        _need(claims, "room_record")
        items = [e for e in self.egresses.values() if (not req.room_name or e.room_name == req.room_name)]
        if req.egress_id:
            items = [e for e in items if e.egress_id == req.egress_id]
        return pb_egress.ListEgressResponse(items=items)


__all__ = ["FakeCall", "FakeLiveKitServer"]
