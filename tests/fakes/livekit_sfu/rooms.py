"""Rooms and their lifecycle, as livekit-server runs them.

A room exists from CreateRoom, a dispatch or the first join until it closes: nobody joined within
``empty_timeout``; the last non-agent participant left ``departure_timeout`` ago; or DeleteRoom.
Closing sends every participant ``leave{ROOM_DELETED}``, terminates the room's jobs, ends its
egresses and sends ``room_finished``. Everything here runs on the server's event loop.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from livekit.protocol import models as pb_models

if TYPE_CHECKING:
    from .agents import AgentDispatcher
    from .egress import RoomRecorder
    from .media import PublishedAudio
    from .server import _ServerApi
    from .signal import ParticipantSession
    from .webhooks import WebhookSender

logger = logging.getLogger("livekit_sfu.rooms")

DisconnectReason = pb_models.DisconnectReason
_versions = itertools.count(1)


def next_version() -> int:
    """ParticipantInfo.version only ever grows (livekit-client drops stale updates)."""
    return next(_versions)


def new_sid(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@dataclass
class Timeouts:
    """Room timeouts (seconds) used when CreateRoom leaves them 0, and the signal-loss grace."""

    empty_timeout: float = 300.0
    departure_timeout: float = 20.0
    disconnect_grace: float = 2.0


class Room:
    def __init__(self, registry: RoomRegistry, proto: pb_models.Room) -> None:
        self.registry = registry
        self.proto = proto
        self.participants: dict[str, ParticipantSession] = {}
        self.recorders: list[RoomRecorder] = []
        self.closed = False
        self.close_reason = ""
        self._timer: asyncio.TimerHandle | None = None
        self._arm(self.empty_timeout, "empty_timeout")

    @property
    def name(self) -> str:
        return self.proto.name

    @property
    def sid(self) -> str:
        return self.proto.sid

    @property
    def empty_timeout(self) -> float:
        return float(self.proto.empty_timeout) or self.registry.timeouts.empty_timeout

    @property
    def departure_timeout(self) -> float:
        return float(self.proto.departure_timeout) or self.registry.timeouts.departure_timeout

    def active(self) -> list[ParticipantSession]:
        return list(self.participants.values())

    def others(self, session: ParticipantSession) -> list[ParticipantSession]:
        return [p for p in self.participants.values() if p is not session]

    def snapshot(self) -> pb_models.Room:
        room = pb_models.Room()
        room.CopyFrom(self.proto)
        room.num_participants = len(self.participants)
        room.num_publishers = sum(1 for p in self.participants.values() if p.tracks)
        room.active_recording = bool(self.recorders)
        return room

    # -- timers ----------------------------------------------------------
    def _arm(self, seconds: float, why: str) -> None:
        self._disarm()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(seconds, lambda: asyncio.ensure_future(self.close(why)))

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def has_people(self) -> bool:
        return any(p.kind != pb_models.ParticipantInfo.Kind.AGENT for p in self.participants.values())

    def after_change(self) -> None:
        """Re-arm the departure timer whenever the last non-agent participant is gone."""
        if self.closed:
            return
        if self.has_people():
            self._disarm()
        elif self._timer is None:
            self._arm(self.departure_timeout, "departure_timeout")

    # -- membership ------------------------------------------------------
    def add(self, session: ParticipantSession) -> None:
        self.participants[session.identity] = session
        if self.has_people():
            self._disarm()
        self.registry.sync_proto(self)

    def broadcast_update(self, session: ParticipantSession, *, include_self: bool = False) -> None:
        info = session.info()
        for other in self.participants.values():
            if other is not session or include_self:
                other.send_update([info])

    async def remove(self, session: ParticipantSession, reason: int) -> None:
        """Take ``session`` out of the room: others see DISCONNECTED, ``participant_left`` goes out."""
        if self.participants.get(session.identity) is not session:
            return
        del self.participants[session.identity]
        session.mark_disconnected(reason)
        info = session.info()
        for other in self.participants.values():
            other.send_update([info])
            other.drop_subscriptions_from(session)
        for recorder in self.recorders:
            recorder.forget(session)
        self.registry.webhooks.emit("participant_left", room=self.snapshot(), participant=info)
        await session.close()
        self.registry.sync_proto(self)
        self.after_change()

    async def close(self, why: str = "deleted") -> None:
        if self.closed:
            return
        self.closed = True
        self.close_reason = why
        self._disarm()
        logger.info("room %s closing (%s)", self.name, why)
        for session in list(self.participants.values()):
            session.send_leave(DisconnectReason.ROOM_DELETED)
            await self.remove(session, DisconnectReason.ROOM_DELETED)
        self.registry.agents.terminate_room(self.name)
        for recorder in list(self.recorders):
            recorder.stop_soon()
        self.registry.webhooks.emit("room_finished", room=self.snapshot())
        self.registry.forget(self)


class RoomRegistry:
    """All live rooms by name; keeps the Twirp state (``api.rooms``) in step."""

    def __init__(self, api: _ServerApi, webhooks: WebhookSender, agents: AgentDispatcher, timeouts: Timeouts) -> None:
        self.api = api
        self.webhooks = webhooks
        self.agents = agents
        self.timeouts = timeouts
        self.rooms: dict[str, Room] = {}
        self.closed_rooms: list[Room] = []

    def __iter__(self) -> Iterator[Room]:
        return iter(list(self.rooms.values()))

    def get(self, name: str) -> Room | None:
        return self.rooms.get(name)

    def ensure(self, name: str, proto: pb_models.Room | None = None) -> Room:
        """The live room called ``name``, created (and ``room_started`` sent) when new."""
        room = self.rooms.get(name)
        if room is not None:
            return room
        if proto is None:
            proto = pb_models.Room(sid=new_sid("RM"), name=name, creation_time=int(time.time()))
        if not proto.creation_time_ms:
            proto.creation_time_ms = int(time.time() * 1000)
        room = Room(self, proto)
        self.rooms[name] = room
        with self.api._lock:
            self.api.rooms[name] = proto
        self.webhooks.emit("room_started", room=room.snapshot())
        return room

    def sync_proto(self, room: Room) -> None:
        with self.api._lock:
            if room.name in self.api.rooms:
                self.api.rooms[room.name].num_participants = len(room.participants)

    def forget(self, room: Room) -> None:
        if self.rooms.get(room.name) is room:
            del self.rooms[room.name]
        self.closed_rooms.append(room)
        self.api.end_room(room.name)

    def forward_data(self, sender: ParticipantSession, label: str, message: bytes) -> None:
        """Relay a DataPacket: identity stamped, ``destination_identities`` honoured, same channel."""
        if not sender.permission.can_publish_data:
            return
        packet = pb_models.DataPacket()
        try:
            packet.ParseFromString(message)
        except Exception:  # noqa: BLE001 - a malformed packet is dropped, as livekit-server does
            return
        packet.participant_identity = sender.identity
        packet.participant_sid = sender.sid
        destinations = set(packet.destination_identities)
        if packet.HasField("user"):
            packet.user.participant_identity = sender.identity
            packet.user.participant_sid = sender.sid
            destinations |= set(packet.user.destination_identities)
        data = packet.SerializeToString()
        for other in sender.room.others(sender):
            if not destinations or other.identity in destinations:
                other.send_data(label, data)

    def on_track_ready(self, publisher: ParticipantSession, track_sid: str, published: PublishedAudio) -> None:
        """A published track's media arrived: forward it to everyone else and to the recorders."""
        room = publisher.room
        for other in room.others(publisher):
            other.subscribe_to(publisher, track_sid, published)
            other.negotiate_subscriber()
        for recorder in room.recorders:
            recorder.add_source(publisher, track_sid, published)

    async def close_all(self) -> None:
        for room in list(self.rooms.values()):
            await room.close("server_shutdown")
