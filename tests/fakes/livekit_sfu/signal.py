"""``/rtc`` signalling: one ``ParticipantSession`` per websocket, two peer connections per client.

The sequence the clients accept (see the wire notes): ``join`` → the server's offer for the
client's subscriber PC (data channels ``_reliable``/``_lossy`` and one send-only audio section per
remote track) → the client's answer and trickle → ``add_track`` → ``track_published`` and a
ParticipantUpdate → the client's publisher offer → the server's answer (same id). The server
re-offers the subscriber PC only once it is connected: aiortc never starts sending on a
transceiver negotiated while the previous DTLS handshake is still running.

A subscription is added to the subscriber PC only right before the offer that carries it, never
while an offer is outstanding or the PC is still connecting: aiortc gives a new transceiver its own
ICE/DTLS transport until an answer bundles it, and counts that idle transport in
``connectionState``, so a transceiver added mid-negotiation holds the PC at "connecting" although
the negotiated transport is up (and the re-offer that would bundle it waits for "connected").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web
from aiortc import RTCDataChannel, RTCIceCandidate, RTCPeerConnection, RTCRtpTransceiver, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp
from google.protobuf import json_format
from livekit.api.access_token import Claims
from livekit.protocol import models as pb_models
from livekit.protocol import rtc as pb_rtc

from .media import ForwardedAudioTrack, PublishedAudio, new_peer_connection
from .rooms import DisconnectReason, Room, new_sid, next_version

if TYPE_CHECKING:
    from aiortc import MediaStreamTrack

logger = logging.getLogger("livekit_sfu.signal")

SERVER_VERSION = "1.9.0"
PROTOCOL = 16
PING_INTERVAL = 5
PING_TIMEOUT = 15
SUB_CONNECT_WAIT = 3.0  # a safety net: on loopback the subscriber PC connects within ~100 ms
_KINDS = {
    "agent": pb_models.ParticipantInfo.Kind.AGENT,
    "egress": pb_models.ParticipantInfo.Kind.EGRESS,
    "ingress": pb_models.ParticipantInfo.Kind.INGRESS,
    "sip": pb_models.ParticipantInfo.Kind.SIP,
}
_SOURCES = {
    "camera": pb_models.TrackSource.CAMERA,
    "microphone": pb_models.TrackSource.MICROPHONE,
    "screen_share": pb_models.TrackSource.SCREEN_SHARE,
    "screen_share_audio": pb_models.TrackSource.SCREEN_SHARE_AUDIO,
}
_CLOSE = object()


def server_info(node_id: str) -> pb_models.ServerInfo:
    return pb_models.ServerInfo(
        edition=pb_models.ServerInfo.Edition.Standard,
        version=SERVER_VERSION,
        protocol=PROTOCOL,
        node_id=node_id,
        region="local",
        agent_protocol=1,
    )


def permission_from(claims: Claims) -> pb_models.ParticipantPermission:
    video = claims.video
    assert video is not None
    return pb_models.ParticipantPermission(
        can_subscribe=bool(video.can_subscribe),
        can_publish=bool(video.can_publish),
        can_publish_data=bool(video.can_publish_data),
        can_publish_sources=[_SOURCES[s] for s in (video.can_publish_sources or []) if s in _SOURCES],
        hidden=bool(video.hidden),
        recorder=bool(video.recorder),
        can_update_metadata=bool(video.can_update_own_metadata),
        agent=bool(video.agent),
    )


def parse_candidate(candidate_init: str) -> RTCIceCandidate | None:
    """A trickled ``RTCIceCandidateInit`` JSON as aiortc's candidate (None for end-of-candidates)."""
    init = json.loads(candidate_init or "{}")
    line = init.get("candidate") or ""
    if not line:
        return None
    candidate = candidate_from_sdp(line.split(":", 1)[1] if line.startswith("candidate:") else line)
    candidate.sdpMid = init.get("sdpMid")
    candidate.sdpMLineIndex = init.get("sdpMLineIndex")
    return candidate


class ParticipantSession:
    """One participant: its websocket, publisher PC (client offers) and subscriber PC (we offer)."""

    def __init__(self, room: Room, claims: Claims, ws: web.WebSocketResponse, node_id: str) -> None:
        self.room = room
        self.ws = ws
        self.node_id = node_id
        self.sid = new_sid("PA")
        self.identity = claims.identity
        self.name = claims.name or ""
        self.metadata = claims.metadata or ""
        self.attributes: dict[str, str] = dict(claims.attributes or {})
        self.kind = _KINDS.get((claims.kind or "").lower(), pb_models.ParticipantInfo.Kind.STANDARD)
        self.permission = permission_from(claims)
        self.state = pb_models.ParticipantInfo.State.JOINED
        self.disconnect_reason = DisconnectReason.UNKNOWN_REASON
        self.joined_at = time.time()
        self.version = next_version()
        self.tracks: dict[str, pb_models.TrackInfo] = {}  # sid → info (audio only)
        self._pending_tracks: dict[str, pb_models.TrackInfo] = {}  # cid → info, until media arrives
        self.published: dict[str, PublishedAudio] = {}  # sid → decoded track
        self.forwarded: dict[str, tuple[RTCRtpTransceiver, ForwardedAudioTrack]] = {}
        self._sub_pending: dict[str, tuple[str, ForwardedAudioTrack]] = {}  # sid → (stream id, track), until offered
        self.closed = False
        self.left = False  # sent `leave` itself
        self._out: asyncio.Queue[Any] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write_forever(), name=f"signal-out-{self.identity}")
        self.pub_pc: RTCPeerConnection | None = None
        self.sub_pc = new_peer_connection()
        self._sub_channels: dict[str, RTCDataChannel] = {}
        self._sub_backlog: dict[str, list[bytes]] = {"_reliable": [], "_lossy": []}
        self._sub_connected = asyncio.Event()
        self._sub_negotiating = False
        self._sub_again = False
        self._sub_offered = False
        self._sub_offered_unconnected = False  # an offer went out before the PC connected
        self._offer_id = 0
        self._candidates: dict[int, list[RTCIceCandidate]] = {0: [], 1: []}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._setup_subscriber()

    # -- outbound --------------------------------------------------------
    def send(self, msg: pb_rtc.SignalResponse) -> None:
        if not self.closed:
            self._out.put_nowait(msg.SerializeToString())

    async def _write_forever(self) -> None:
        while True:
            item = await self._out.get()
            if item is _CLOSE:
                with contextlib.suppress(Exception):
                    await self.ws.close()
                return
            try:
                await self.ws.send_bytes(item)
            except (ConnectionError, RuntimeError):
                return

    def send_update(self, infos: list[pb_models.ParticipantInfo]) -> None:
        self.send(pb_rtc.SignalResponse(update=pb_rtc.ParticipantUpdate(participants=infos)))

    def send_leave(self, reason: int) -> None:
        leave = pb_rtc.LeaveRequest(can_reconnect=False, reason=reason, action=pb_rtc.LeaveRequest.Action.DISCONNECT)
        self.send(pb_rtc.SignalResponse(leave=leave))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- state -----------------------------------------------------------
    def info(self) -> pb_models.ParticipantInfo:
        return pb_models.ParticipantInfo(
            sid=self.sid,
            identity=self.identity,
            name=self.name,
            state=self.state,
            tracks=list(self.tracks.values()),
            metadata=self.metadata,
            joined_at=int(self.joined_at),
            joined_at_ms=int(self.joined_at * 1000),
            version=self.version,
            permission=self.permission,
            is_publisher=bool(self.tracks),
            kind=self.kind,
            attributes=self.attributes,
            disconnect_reason=self.disconnect_reason,
            region="local",
        )

    def changed(self) -> None:
        self.version = next_version()

    def mark_disconnected(self, reason: int) -> None:
        self.state = pb_models.ParticipantInfo.State.DISCONNECTED
        self.disconnect_reason = reason
        self.changed()

    def join_response(self) -> pb_rtc.SignalResponse:
        room = self.room.snapshot()
        others = [p.info() for p in self.room.others(self)]
        join = pb_rtc.JoinResponse(
            room=room,
            participant=self.info(),
            other_participants=others,
            server_version=SERVER_VERSION,
            subscriber_primary=True,
            ping_timeout=PING_TIMEOUT,
            ping_interval=PING_INTERVAL,
            server_info=server_info(self.node_id),
            server_region="local",
        )
        return pb_rtc.SignalResponse(join=join)

    # -- subscriber PC (server offers) ----------------------------------
    def _setup_subscriber(self) -> None:
        pc = self.sub_pc
        for label, opts in (("_reliable", {"ordered": True}), ("_lossy", {"ordered": False, "maxRetransmits": 0})):
            channel = pc.createDataChannel(label, **opts)
            self._sub_channels[label] = channel
            channel.on("open", lambda label=label: self._flush_channel(label))

        @pc.on("connectionstatechange")
        def _on_state() -> None:
            if pc.connectionState == "connected":
                self._sub_connected.set()
                if self._sub_offered_unconnected:
                    # transceivers negotiated during the handshake were never started: offer again
                    self._sub_offered_unconnected = False
                    self.negotiate_subscriber()
                if self.state == pb_models.ParticipantInfo.State.JOINED and not self.closed:
                    self.state = pb_models.ParticipantInfo.State.ACTIVE
                    self.changed()
                    self.room.broadcast_update(self, include_self=True)
            elif pc.connectionState in ("failed", "closed"):
                self._sub_connected.clear()

    def _flush_channel(self, label: str) -> None:
        channel = self._sub_channels[label]
        backlog, self._sub_backlog[label] = self._sub_backlog[label], []
        for data in backlog:
            channel.send(data)

    def send_data(self, label: str, data: bytes) -> None:
        channel = self._sub_channels.get(label) or self._sub_channels["_reliable"]
        if channel.readyState == "open":
            channel.send(data)
        elif channel.readyState == "connecting":
            self._sub_backlog[channel.label].append(data)

    def negotiate_subscriber(self) -> None:
        if self.closed:
            return
        if self._sub_negotiating:
            self._sub_again = True
            return
        self._sub_negotiating = True
        self._spawn(self._offer_subscriber())

    async def _offer_subscriber(self) -> None:
        try:
            if self._sub_offered and not self._sub_connected.is_set():
                try:
                    await asyncio.wait_for(self._sub_connected.wait(), timeout=SUB_CONNECT_WAIT)
                except TimeoutError:
                    logger.warning(
                        "%s: subscriber PC not connected after %.0f s (%s); offering anyway",
                        self.identity,
                        SUB_CONNECT_WAIT,
                        self._transport_states(),
                    )
                    self._sub_offered_unconnected = True
            if self.closed:
                return
            # Everything subscribed so far goes into this offer: no transceiver is added while an
            # offer is outstanding (see the module docstring).
            self._sub_again = False
            for track_sid, (stream_id, forwarded) in list(self._sub_pending.items()):
                transceiver = self.sub_pc.addTransceiver(forwarded, direction="sendonly")
                transceiver.sender._stream_id = stream_id  # how clients find the publication
                self.forwarded[track_sid] = (transceiver, forwarded)
            self._sub_pending.clear()
            offer = await self.sub_pc.createOffer()
            await self.sub_pc.setLocalDescription(offer)
            self._offer_id += 1
            self._sub_offered = True
            sdp = self.sub_pc.localDescription
            mids = {t.mid: sid for sid, (t, _) in self.forwarded.items() if t.mid}  # livekit-client reads this first
            offer_msg = pb_rtc.SessionDescription(type="offer", sdp=sdp.sdp, id=self._offer_id, mid_to_track_id=mids)
            self.send(pb_rtc.SignalResponse(offer=offer_msg))
        except Exception:
            self._sub_negotiating = False
            if not self.closed:
                logger.exception("%s: subscriber offer failed", self.identity)

    async def _on_subscriber_answer(self, sd: pb_rtc.SessionDescription) -> None:
        if self.sub_pc.signalingState == "closed":
            return  # the client closed its PC (DTLS close_notify) while our last offer was out
        try:
            await self.sub_pc.setRemoteDescription(RTCSessionDescription(sdp=sd.sdp, type="answer"))
            await self._apply_candidates(1, self.sub_pc)
        finally:
            self._sub_negotiating = False
            if self._sub_again or self._sub_pending:
                self._sub_again = False
                self.negotiate_subscriber()

    def _transport_states(self) -> str:
        """The subscriber PC's ICE and DTLS transport states, for the log."""
        pc = self.sub_pc
        dtls = [t.receiver.transport for t in pc.getTransceivers()]
        if pc.sctp is not None:
            dtls.append(pc.sctp.transport)
        unique = list({id(d): d for d in dtls}.values())
        ice = sorted(d.transport.state for d in unique)
        dtls = sorted(d.state for d in unique)
        return f"connectionState {pc.connectionState}, ICE {ice}, DTLS {dtls}, signaling {pc.signalingState}"

    def subscribe_to(self, publisher: ParticipantSession, track_sid: str, published: PublishedAudio) -> None:
        """Forward ``published`` to this participant (a send-only m-line in its next subscriber offer).

        Call ``negotiate_subscriber`` afterwards; the transceiver is added when that offer is made.
        """
        if self.closed or track_sid in self.forwarded or track_sid in self._sub_pending or not self.permission.can_subscribe:
            return
        forwarded = published.subscribe(track_sid)
        self._sub_pending[track_sid] = (f"{publisher.sid}|{track_sid}", forwarded)
        publisher.send(pb_rtc.SignalResponse(track_subscribed=pb_rtc.TrackSubscribed(track_sid=track_sid)))

    def drop_subscriptions_from(self, publisher: ParticipantSession) -> None:
        for track_sid in list(publisher.tracks):
            entry = self.forwarded.pop(track_sid, None)
            if entry is not None:
                entry[1].stop()
            pending = self._sub_pending.pop(track_sid, None)
            if pending is not None:
                pending[1].stop()

    # -- publisher PC (client offers) -----------------------------------
    def _ensure_publisher(self) -> RTCPeerConnection:
        if self.pub_pc is not None:
            return self.pub_pc
        pc = self.pub_pc = new_peer_connection()

        @pc.on("datachannel")
        def _on_channel(channel: RTCDataChannel) -> None:
            @channel.on("message")
            def _on_message(message: bytes | str) -> None:
                if isinstance(message, str):
                    message = message.encode()
                self.room.registry.forward_data(self, channel.label, message)

        @pc.on("track")
        def _on_track(track: MediaStreamTrack) -> None:
            if track.kind != "audio":
                return  # video is acknowledged but not forwarded (re-encoding it costs a core)
            info = self._pending_tracks.pop(track.id, None)
            if info is None:
                info = next((i for i in self._pending_tracks.values() if i.type == pb_models.TrackType.AUDIO), None)
                if info is not None:
                    self._pending_tracks = {c: i for c, i in self._pending_tracks.items() if i is not info}
            if info is None:
                logger.warning("%s: audio track %s without add_track", self.identity, track.id)
                return
            published = PublishedAudio(track, info.sid)
            self.published[info.sid] = published
            self.room.registry.on_track_ready(self, info.sid, published)

        return pc

    async def _on_publisher_offer(self, sd: pb_rtc.SessionDescription) -> None:
        pc = self._ensure_publisher()
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sd.sdp, type="offer"))
        for transceiver in pc.getTransceivers():
            if transceiver.kind == "video":
                transceiver.direction = "inactive"
        await self._apply_candidates(0, pc)
        answer = await pc.createAnswer()
        await pc.setLocalDescription(answer)
        local = pc.localDescription
        self.send(pb_rtc.SignalResponse(answer=pb_rtc.SessionDescription(type="answer", sdp=local.sdp, id=sd.id)))

    async def _apply_candidates(self, target: int, pc: RTCPeerConnection) -> None:
        pending, self._candidates[target] = self._candidates[target], []
        for candidate in pending:
            with contextlib.suppress(Exception):
                await pc.addIceCandidate(candidate)

    async def _on_trickle(self, trickle: pb_rtc.TrickleRequest) -> None:
        candidate = parse_candidate(trickle.candidateInit)
        if candidate is None:
            return
        target = int(trickle.target)
        pc = self.sub_pc if target == pb_rtc.SignalTarget.SUBSCRIBER else self.pub_pc
        if pc is None or pc.remoteDescription is None:
            self._candidates[target].append(candidate)
            return
        with contextlib.suppress(Exception):
            await pc.addIceCandidate(candidate)

    def _on_add_track(self, req: pb_rtc.AddTrackRequest) -> None:
        info = pb_models.TrackInfo(
            sid=new_sid("TR"),
            type=req.type,
            name=req.name,
            muted=req.muted,
            source=req.source,
            disable_dtx=req.disable_dtx,
            stereo=req.stereo,
            disable_red=req.disable_red,
            stream=req.stream,
            mime_type="audio/opus" if req.type == pb_models.TrackType.AUDIO else "",
            width=req.width,
            height=req.height,
        )
        self.send(pb_rtc.SignalResponse(track_published=pb_rtc.TrackPublishedResponse(cid=req.cid, track=info)))
        if req.type != pb_models.TrackType.AUDIO:
            return  # acknowledged so the client does not wait, never offered to anyone
        self._pending_tracks[req.cid] = info
        self.tracks[info.sid] = info
        self.changed()
        self.room.broadcast_update(self, include_self=True)
        self.room.registry.webhooks.emit("track_published", room=self.room.snapshot(), participant=self.info(), track=info)

    def _on_mute(self, req: pb_rtc.MuteTrackRequest) -> None:
        info = self.tracks.get(req.sid)
        if info is not None and info.muted != req.muted:
            info.muted = req.muted
            self.changed()
            self.room.broadcast_update(self, include_self=True)

    def _on_update_metadata(self, req: pb_rtc.UpdateParticipantMetadata) -> None:
        reason = pb_rtc.RequestResponse.Reason.OK
        if not self.permission.can_update_metadata:
            reason = pb_rtc.RequestResponse.Reason.NOT_ALLOWED
        else:
            if req.name:
                self.name = req.name
            if req.metadata:
                self.metadata = req.metadata
            for key, value in req.attributes.items():
                if value:
                    self.attributes[key] = value
                else:
                    self.attributes.pop(key, None)
            self.changed()
            self.room.broadcast_update(self, include_self=True)
        self.send(pb_rtc.SignalResponse(request_response=pb_rtc.RequestResponse(request_id=req.request_id, reason=reason)))

    # -- inbound ---------------------------------------------------------
    async def handle(self, req: pb_rtc.SignalRequest) -> None:
        which = req.WhichOneof("message")
        if which == "offer":
            await self._on_publisher_offer(req.offer)
        elif which == "answer":
            await self._on_subscriber_answer(req.answer)
        elif which == "trickle":
            await self._on_trickle(req.trickle)
        elif which == "add_track":
            self._on_add_track(req.add_track)
        elif which == "mute":
            self._on_mute(req.mute)
        elif which == "update_metadata":
            self._on_update_metadata(req.update_metadata)
        elif which == "ping":
            self.send(pb_rtc.SignalResponse(pong=int(time.time() * 1000)))
        elif which == "ping_req":
            pong = pb_rtc.Pong(last_ping_timestamp=req.ping_req.timestamp, timestamp=int(time.time() * 1000))
            self.send(pb_rtc.SignalResponse(pong_resp=pong))
        elif which == "leave":
            self.left = True
            await self.room.remove(self, DisconnectReason.CLIENT_INITIATED)
        # subscription, track_setting, sync_state, simulate, update_*_track: accepted and ignored

    async def close(self) -> None:
        if self.closed:
            return
        for task in list(self._tasks):
            task.cancel()
        self._out.put_nowait(_CLOSE)
        self.closed = True
        for published in self.published.values():
            published.close()
        for _, forwarded in [*self.forwarded.values(), *self._sub_pending.values()]:
            forwarded.stop()
        self.forwarded.clear()
        self._sub_pending.clear()
        for pc in (self.sub_pc, self.pub_pc):
            if pc is not None:
                with contextlib.suppress(Exception):
                    await pc.close()
        with contextlib.suppress(asyncio.TimeoutError, Exception):
            await asyncio.wait_for(asyncio.shield(self._writer), timeout=2)


async def serve_participant(session: ParticipantSession, ws: web.WebSocketResponse, grace: float) -> None:
    """Read the websocket until it closes; a close without ``leave`` removes the participant after ``grace``."""
    room = session.room
    try:
        async for msg in ws:
            req = pb_rtc.SignalRequest()
            if msg.type == WSMsgType.BINARY:
                req.ParseFromString(msg.data)
            elif msg.type == WSMsgType.TEXT:  # JSON signalling (not used by current SDKs)
                json_format.Parse(msg.data, req, ignore_unknown_fields=True)
            else:
                continue
            try:
                await session.handle(req)
            except Exception:
                logger.exception("%s: failed to handle %s", session.identity, req.WhichOneof("message"))
            if session.closed:
                break
    finally:
        if not session.closed and room.participants.get(session.identity) is session:
            await asyncio.sleep(grace)
            if not session.closed:
                await room.remove(session, DisconnectReason.SIGNAL_CLOSE)
