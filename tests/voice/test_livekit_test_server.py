"""The LiveKit test server meets real clients: the Python ``livekit`` rtc SDK (Rust core),
livekit-api (Twirp, webhooks), a livekit-agents worker and raw ``/agent`` workers, S3 (moto).

Everything runs on 127.0.0.1; every wait is bounded and says what did not happen.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import aiohttp
import av
import boto3
import numpy as np
import pytest
from livekit import api, rtc
from livekit.protocol import agent as pb_agent
from livekit.protocol import models as pb_models
from livekit.protocol import rtc as pb_rtc

from tests.fakes.livekit_sfu import LiveKitTestServer

ROOT = Path(__file__).resolve().parents[2]
KEY, SECRET = "devkey", "test-secret-" + "s" * 32
DR = pb_models.DisconnectReason


# -- helpers -------------------------------------------------------------------------------------
def token(identity: str, room: str, *, kind: str = "", attributes: dict[str, str] | None = None) -> str:
    t = api.AccessToken(KEY, SECRET).with_identity(identity).with_name(identity)
    if kind:
        t = t.with_kind(kind)
    if attributes:
        t = t.with_attributes(attributes)
    return t.with_grants(api.VideoGrants(room_join=True, room=room, can_update_own_metadata=True)).to_jwt()


async def wait_until(check: Callable[[], Any], what: str, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


async def bounded(aw: Awaitable[Any], what: str, timeout: float = 5.0) -> Any:
    try:
        return await asyncio.wait_for(aw, timeout)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout} s waiting for {what}") from None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebhookSink:
    """A tiny receiver that verifies every webhook with livekit-api's WebhookReceiver."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.errors: list[str] = []
        receiver = api.WebhookReceiver(api.TokenVerifier(KEY, SECRET))
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                try:
                    assert self.headers.get("Content-Type") == "application/webhook+json"
                    sink.events.append(receiver.receive(body, self.headers.get("Authorization", "")))
                    self.send_response(200)
                except Exception as err:  # noqa: BLE001
                    sink.errors.append(repr(err))
                    self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhooks/livekit"

    def names(self) -> list[str]:
        return [e.event for e in self.events]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    s = WebhookSink()
    yield s
    s.close()


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., LiveKitTestServer]]:
    servers: list[LiveKitTestServer] = []

    def make(**kw: Any) -> LiveKitTestServer:
        kw.setdefault("egress_dir", tmp_path / "egress")
        server = LiveKitTestServer(api_key=KEY, api_secret=SECRET, **kw).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


async def join(server: LiveKitTestServer, identity: str, room: str = "room-1", **kw: Any) -> rtc.Room:
    r = rtc.Room()
    await bounded(r.connect(server.ws_url, token(identity, room, **kw)), f"{identity} to connect")
    return r


def watch_disconnect(room: rtc.Room) -> asyncio.Future[int]:
    fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    room.on("disconnected", lambda reason: fut.done() or fut.set_result(int(reason)))
    return fut


class Tone:
    """Publishes a 440 Hz tone from ``room`` until stopped."""

    def __init__(self, room: rtc.Room, amplitude: int = 8000) -> None:
        self.room, self.amplitude = room, amplitude
        self.source = rtc.AudioSource(48000, 1)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> rtc.LocalTrackPublication:
        track = rtc.LocalAudioTrack.create_audio_track("mic", self.source)
        opts = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        pub = await bounded(self.room.local_participant.publish_track(track, opts), "publish_track")
        self._task = asyncio.create_task(self._run())
        return pub

    async def _run(self) -> None:
        n = 0
        while True:
            t = (np.arange(480) + n) / 48000
            n += 480
            data = (np.sin(2 * np.pi * 440 * t) * self.amplitude).astype(np.int16)
            await self.source.capture_frame(rtc.AudioFrame(data.tobytes(), 48000, 1, 480))

    def stop(self) -> None:
        if self._task:
            self._task.cancel()


async def audio_energy(track: rtc.Track, frames: int = 50) -> float:
    """Mean absolute sample value over ``frames`` received frames (after the first 10)."""
    stream = rtc.AudioStream(track)
    levels: list[float] = []
    async for ev in stream:
        levels.append(float(np.abs(np.frombuffer(ev.frame.data, dtype=np.int16)).mean()))
        if len(levels) >= frames + 10:
            break
    await stream.aclose()
    return float(np.mean(levels[10:]))


# -- media, data, attributes --------------------------------------------------------------------
async def test_audio_data_text_and_attributes_flow_between_two_sdk_participants(make_server: Callable[..., LiveKitTestServer]) -> None:
    server = make_server()
    alice, bob = await join(server, "alice"), await join(server, "bob")
    carol = await join(server, "carol")
    loop = asyncio.get_running_loop()

    subscribed: asyncio.Future[rtc.Track] = loop.create_future()
    bob.on("track_subscribed", lambda track, pub, p: subscribed.done() or subscribed.set_result(track))
    tone = Tone(alice)
    await tone.start()
    track = await bounded(subscribed, "bob to subscribe to alice's track")
    energy = await bounded(audio_energy(track), "50 audio frames at bob", 10)
    tone.stop()
    assert energy > 1000, f"bob heard silence from alice's 440 Hz tone (mean |x| = {energy:.0f})"
    people = {p["identity"]: p for p in server.participants("room-1")}
    assert people["alice"]["kind"] == "STANDARD" and people["alice"]["state"] == "ACTIVE"
    assert len(people["alice"]["tracks"]) == 1

    # data packets both ways, identity stamped; destination_identities honoured (carol gets none)
    at_bob: asyncio.Queue[rtc.DataPacket] = asyncio.Queue()
    at_alice: asyncio.Queue[rtc.DataPacket] = asyncio.Queue()
    at_carol: list[rtc.DataPacket] = []
    bob.on("data_received", at_bob.put_nowait)
    alice.on("data_received", at_alice.put_nowait)
    carol.on("data_received", at_carol.append)
    await alice.local_participant.publish_data(b"to-bob", reliable=True, topic="t", destination_identities=["bob"])
    await bob.local_participant.publish_data(b"lossy-to-alice", reliable=False, destination_identities=["alice"])
    got_bob = await bounded(at_bob.get(), "alice's packet at bob")
    got_alice = await bounded(at_alice.get(), "bob's lossy packet at alice")
    assert (got_bob.data, got_bob.topic, got_bob.participant.identity) == (b"to-bob", "t", "alice")
    assert (got_alice.data, got_alice.participant.identity) == (b"lossy-to-alice", "bob")

    # text streams both ways (the lk.transcription shape the agent uses)
    texts: asyncio.Queue[tuple[str, str, str]] = asyncio.Queue()

    def on_text(room_name: str) -> Callable[[Any, str], None]:
        async def read(reader: Any, identity: str) -> None:
            texts.put_nowait((room_name, identity, await reader.read_all()))

        return lambda reader, identity: asyncio.ensure_future(read(reader, identity))

    alice.register_text_stream_handler("lk.transcription", on_text("alice"))
    bob.register_text_stream_handler("lk.transcription", on_text("bob"))
    await bob.local_participant.send_text("hello from bob " * 200, topic="lk.transcription", destination_identities=["alice"])
    await alice.local_participant.send_text("hello from alice", topic="lk.transcription", destination_identities=["bob"])
    got = {await bounded(texts.get(), "text stream"), await bounded(texts.get(), "second text stream")}
    assert got == {("alice", "bob", "hello from bob " * 200), ("bob", "alice", "hello from alice")}
    await asyncio.sleep(0.2)
    assert at_carol == [], "carol received packets addressed to others"

    # set_attributes round trip: request_response comes back, everyone sees the change fast
    seen: asyncio.Future[dict[str, str]] = loop.create_future()
    alice.on(
        "participant_attributes_changed", lambda changed, p: p.identity == "bob" and not seen.done() and seen.set_result(dict(changed))
    )
    started = time.monotonic()
    await bounded(bob.local_participant.set_attributes({"lk.agent.state": "speaking"}), "set_attributes", 2)
    took = time.monotonic() - started
    assert await bounded(seen, "alice to see bob's attributes") == {"lk.agent.state": "speaking"}
    assert took < 1.0, f"set_attributes took {took:.2f} s (no request_response?)"

    # bob's own copy comes in the server's ParticipantUpdate to bob, which may land after alice's
    async def own_copy() -> None:
        while bob.local_participant.attributes != {"lk.agent.state": "speaking"}:
            await asyncio.sleep(0.02)

    await bounded(own_copy(), "bob's own attributes to update", 2)
    assert bob.local_participant.attributes == {"lk.agent.state": "speaking"}
    for r in (alice, bob, carol):
        await r.disconnect()


async def first_loud_frame(track: rtc.Track, heard: asyncio.Future[float]) -> None:
    """Sets ``heard`` to the monotonic time of the first frame of ``track`` with audible energy."""
    stream = rtc.AudioStream(track)
    async for ev in stream:
        if np.abs(np.frombuffer(ev.frame.data, dtype=np.int16)).mean() > 1000:
            heard.done() or heard.set_result(time.monotonic())
            break
    await stream.aclose()


async def test_audio_reaches_an_agent_that_joins_while_the_candidate_publishes(
    make_server: Callable[..., LiveKitTestServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The candidate publishes around the moment the agent joins, as in the browser runs.

    A track that became ready while the agent's first subscriber offer was unanswered got its
    transceiver added at once; aiortc counts that transceiver's own (not yet bundled) transport in
    ``connectionState``, so the PC stayed "connecting" and the re-offer carrying the track waited
    20 s for "connected": the agent heard nothing for 20 s. Rounds in ``slow-*`` rooms answer the
    agent's first offer 0.5 s late (a busy agent process), which puts every such publish in that window.
    """
    from tests.fakes.livekit_sfu import signal as lk_signal

    handle = lk_signal.ParticipantSession.handle
    answered: set[str] = set()

    async def slow_agent(self: lk_signal.ParticipantSession, req: pb_rtc.SignalRequest) -> None:
        slow = self.room.name.startswith("slow-") and self.kind == pb_models.ParticipantInfo.Kind.AGENT
        if req.WhichOneof("message") == "answer" and slow and self.sid not in answered:
            answered.add(self.sid)
            await asyncio.sleep(0.5)  # the first answer only
        await handle(self, req)

    monkeypatch.setattr(lk_signal.ParticipantSession, "handle", slow_agent)
    server = make_server()
    # (room, when the candidate publishes): before the agent joins, N s after the server has the
    # agent in the room, or N s after the agent starts connecting
    rounds = [("slow-before", "before", 0.0)]
    rounds += [(f"slow-join-{ms}", "join", ms / 1000) for ms in (0, 50, 100, 150)]
    rounds += [(f"fast-connect-{ms}", "connect", ms / 1000) for ms in (0, 30, 60)]
    late: list[str] = []
    for room_name, when, offset in rounds:
        candidate = await join(server, "candidate", room=room_name)
        tone = Tone(candidate)
        if when == "before":
            await tone.start()
            await asyncio.sleep(0.2)
        agent = rtc.Room()
        heard: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        agent.on("track_subscribed", lambda track, pub, p, heard=heard: asyncio.ensure_future(first_loud_frame(track, heard)))
        started = time.monotonic()
        connecting = asyncio.create_task(agent.connect(server.ws_url, token("agent-1", room_name, kind="agent")))
        if when == "join":
            await wait_until(lambda room_name=room_name: len(server.participants(room_name)) == 2, "the agent to join")
        if when != "before":
            await asyncio.sleep(offset)
            await tone.start()
        await bounded(connecting, "the agent to connect")
        try:
            took = await asyncio.wait_for(heard, 3.0 - (time.monotonic() - started)) - started
        except TimeoutError:
            late.append(f"{room_name}: nothing within 3 s")
        else:
            if took > 3.0:
                late.append(f"{room_name}: {took:.1f} s")
        tone.stop()
        for r in (agent, candidate):
            await r.disconnect()
    assert late == [], f"the candidate's audio reached the agent late: {late}"


# -- reload, delete, departure, lost connections, webhooks -------------------------------------
async def test_reload_with_same_identity_replaces_the_old_connection(
    make_server: Callable[..., LiveKitTestServer], sink: WebhookSink
) -> None:
    server = make_server(webhook_urls=[sink.url], departure_timeout=1.0)
    agent = await join(server, "agent-1", kind="agent")
    first = await join(server, "candidate")
    first_gone = watch_disconnect(first)
    second = await join(server, "candidate")
    assert await bounded(first_gone, "the first tab to be disconnected") == DR.DUPLICATE_IDENTITY
    await asyncio.sleep(1.5)  # longer than departure_timeout: the room must not close meanwhile
    people = server.participants("room-1")
    assert sorted(p["identity"] for p in people) == ["agent-1", "candidate"], people
    assert agent.connection_state == rtc.ConnectionState.CONN_CONNECTED
    assert "candidate" in {p.identity for p in agent.remote_participants.values()}
    assert second.connection_state == rtc.ConnectionState.CONN_CONNECTED
    assert server.closed_rooms() == []
    for r in (agent, second):
        await r.disconnect()


async def test_delete_room_disconnects_everyone_with_room_deleted(make_server: Callable[..., LiveKitTestServer], sink: WebhookSink) -> None:
    server = make_server(webhook_urls=[sink.url])
    async with api.LiveKitAPI(server.url, KEY, SECRET) as lk:
        await lk.room.create_room(api.CreateRoomRequest(name="room-1", metadata="plan"))
        a, b = await join(server, "candidate"), await join(server, "agent-x", kind="agent")
        listed = await lk.room.list_participants(api.ListParticipantsRequest(room="room-1"))
        kinds = {p.identity: p.kind for p in listed.participants}
        assert kinds == {"candidate": pb_models.ParticipantInfo.Kind.STANDARD, "agent-x": pb_models.ParticipantInfo.Kind.AGENT}
        gone = [watch_disconnect(a), watch_disconnect(b)]
        await lk.room.delete_room(api.DeleteRoomRequest(room="room-1"))
        assert await bounded(asyncio.gather(*gone), "both to be disconnected") == [DR.ROOM_DELETED, DR.ROOM_DELETED]
        assert (await lk.room.list_rooms(api.ListRoomsRequest())).rooms == []
    finished = server.webhooks.wait_for("room_finished", timeout=5)
    assert finished.room.name == "room-1"
    await wait_until(lambda: "room_finished" in sink.names(), "room_finished at the receiver")
    assert sink.errors == []


async def test_departure_timeout_and_lost_connections(make_server: Callable[..., LiveKitTestServer], sink: WebhookSink) -> None:
    server = make_server(webhook_urls=[sink.url], departure_timeout=0.8, disconnect_grace=0.5)
    agent = await join(server, "agent-1", room="room-2", kind="agent", attributes={"role": "interviewer"})
    assert server.participants("room-2")[0]["attributes"] == {"role": "interviewer"}
    # a client whose websocket just dies (tab or process killed): no leave
    left: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    agent.on("participant_disconnected", lambda p: left.done() or left.set_result(p.identity))
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(f"{server.ws_url}/rtc?access_token={token('candidate', 'room-2')}")
        first = pb_rtc.SignalResponse()
        first.ParseFromString((await bounded(ws.receive(), "join response")).data)
        assert first.WhichOneof("message") == "join" and first.join.server_info.protocol == 16
        assert (
            first.join.participant.identity == "candidate" and first.join.other_participants[0].kind == pb_models.ParticipantInfo.Kind.AGENT
        )
        await wait_until(lambda: "candidate" in agent.remote_participants, "agent to see the candidate")
        await ws.close()
    assert await bounded(left, "the agent to see the candidate leave", 3) == "candidate"
    event = server.webhooks.wait_for("participant_left", lambda e: e.participant.identity == "candidate", timeout=3)
    assert event.participant.state == pb_models.ParticipantInfo.State.DISCONNECTED
    assert event.participant.disconnect_reason == DR.SIGNAL_CLOSE
    # the last non-agent left: after departure_timeout the agent gets ROOM_DELETED
    assert await bounded(watch_disconnect(agent), "the agent to be sent away", 3) == DR.ROOM_DELETED
    closed = await wait_until(server.closed_rooms, "the room to close")
    assert closed == [{"name": "room-2", "sid": event.room.sid, "reason": "departure_timeout"}]
    await wait_until(lambda: "room_finished" in sink.names(), "room_finished at the receiver")
    names = sink.names()
    assert names[0] == "room_started" and names.count("participant_joined") == 2, names
    assert sink.errors == []
    assert len({e.id for e in sink.events}) == len(sink.events) and all(e.created_at > 0 for e in sink.events)


async def test_webhooks_can_be_held_and_released_in_any_order(make_server: Callable[..., LiveKitTestServer], sink: WebhookSink) -> None:
    server = make_server(webhook_urls=[sink.url])
    server.webhooks.pause()
    room = await join(server, "candidate")
    await room.disconnect()
    await wait_until(lambda: len(server.webhooks.held()) >= 3, "three held webhooks")
    await asyncio.sleep(0.3)
    assert sink.events == []
    held = [d.name for d in server.webhooks.held()]
    server.webhooks.release(reverse=True)
    await wait_until(lambda: len(sink.events) >= len(held), "the released webhooks")
    assert sink.names() == list(reversed(held)), (sink.names(), held)
    assert sink.errors == []


# -- agents ---------------------------------------------------------------------------------------
WORKER_SCRIPT = textwrap.dedent(
    """
    import asyncio
    from livekit.agents import AgentServer, JobContext, JobExecutorType, cli

    server = AgentServer(job_executor_type=JobExecutorType.THREAD, num_idle_processes=0, host="127.0.0.1", port=0,
                         load_threshold=10.0, load_fnc=lambda: 0.0)

    @server.rtc_session(agent_name="interviewer")
    async def entry(ctx: JobContext) -> None:
        await ctx.connect()
        await ctx.room.local_participant.set_attributes({"job": ctx.job.id, "plan": ctx.job.metadata})

    if __name__ == "__main__":
        cli.run_app(server)
    """
)


async def test_agents_worker_gets_exactly_one_job_per_explicit_dispatch(
    make_server: Callable[..., LiveKitTestServer], tmp_path: Path
) -> None:
    server = make_server()
    script = tmp_path / "worker.py"
    script.write_text(WORKER_SCRIPT)
    env = {**os.environ, **server.env(), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(script), "start"], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        await wait_until(lambda: server.workers(), "the livekit-agents worker to register", 30)
        async with api.LiveKitAPI(server.url, KEY, SECRET) as lk:
            await lk.room.create_room(api.CreateRoomRequest(name="interview-1"))
            await asyncio.sleep(0.5)
            assert server.jobs() == [], "a room alone must not dispatch an agent"
            candidate = await join(server, "candidate-1", room="interview-1")
            await lk.agent_dispatch.create_dispatch(
                api.CreateAgentDispatchRequest(agent_name="interviewer", room="interview-1", metadata="plan-1")
            )

            def agent_ready() -> bool:
                return any(p.attributes.get("plan") == "plan-1" for p in candidate.remote_participants.values())

            await wait_until(agent_ready, "the agent to join and set its attributes", 20)
            agent = next(iter(candidate.remote_participants.values()))
            assert agent.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
            jobs = server.jobs()
            assert len(jobs) == 1 and jobs[0].worker_id == server.workers()[0]["id"]
            assert agent.identity == jobs[0].identity and agent.attributes["job"] == jobs[0].job.id
            await asyncio.sleep(0.5)
            assert len(server.jobs()) == 1 and len(server.participants("interview-1")) == 2
            await candidate.disconnect()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


class RawWorker:
    """The ``/agent`` protocol by hand: registers, answers availability as told, counts assignments."""

    def __init__(self, server: LiveKitTestServer, *, available: bool = True) -> None:
        self.server, self.available = server, available
        self.assignments: list[pb_agent.JobAssignment] = []
        self.terminations: list[str] = []
        self.worker_id = ""

    async def run(self, registered: asyncio.Event) -> None:
        jwt = api.AccessToken(KEY, SECRET).with_grants(api.VideoGrants(agent=True)).to_jwt()
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(f"{self.server.ws_url}/agent", headers={"Authorization": f"Bearer {jwt}"}) as ws,
        ):
            self.ws = ws
            reg = pb_agent.WorkerMessage(
                register=pb_agent.RegisterWorkerRequest(type=pb_agent.JobType.JT_ROOM, agent_name="interviewer", version="test")
            )
            await ws.send_bytes(reg.SerializeToString())
            async for frame in ws:
                msg = pb_agent.ServerMessage()
                msg.ParseFromString(frame.data)
                which = msg.WhichOneof("message")
                if which == "register":
                    self.worker_id = msg.register.worker_id
                    assert msg.register.server_info.version
                    registered.set()
                elif which == "availability":
                    answer = pb_agent.AvailabilityResponse(
                        job_id=msg.availability.job.id, available=self.available, participant_identity=f"agent-{self.worker_id}"
                    )
                    await ws.send_bytes(pb_agent.WorkerMessage(availability=answer).SerializeToString())
                elif which == "assignment":
                    self.assignments.append(msg.assignment)
                elif which == "termination":
                    self.terminations.append(msg.termination.job_id)

    async def set_status(self, status: int) -> None:
        update = pb_agent.UpdateWorkerStatus(status=status)
        await self.ws.send_bytes(pb_agent.WorkerMessage(update_worker=update).SerializeToString())


async def test_dispatch_picks_exactly_one_worker_and_skips_unavailable_ones(make_server: Callable[..., LiveKitTestServer]) -> None:
    server = make_server()
    workers = [RawWorker(server), RawWorker(server), RawWorker(server, available=False)]
    events = [asyncio.Event() for _ in workers]
    tasks = [asyncio.create_task(w.run(e)) for w, e in zip(workers, events, strict=True)]
    await bounded(asyncio.gather(*(e.wait() for e in events)), "three workers to register")
    async with api.LiveKitAPI(server.url, KEY, SECRET) as lk:
        for i in range(4):
            await lk.agent_dispatch.create_dispatch(api.CreateAgentDispatchRequest(agent_name="interviewer", room=f"room-{i}"))
        await wait_until(lambda: sum(len(w.assignments) for w in workers) == 4, "four assignments")
        await asyncio.sleep(0.3)
        counts = [len(w.assignments) for w in workers]
        assert counts == [2, 2, 0], counts  # round robin among the willing; the unwilling one is skipped
        job_ids = [a.job.id for w in workers for a in w.assignments]
        assert len(set(job_ids)) == 4
        claims = api.TokenVerifier(KEY, SECRET).verify(workers[0].assignments[0].token)
        assert claims.kind == "agent" and claims.identity == f"agent-{workers[0].worker_id}"
        assert claims.video.room_join and claims.video.agent and claims.video.can_update_own_metadata

        # a full (draining) worker gets nothing; the job goes to the other one
        await workers[0].set_status(pb_agent.WorkerStatus.WS_FULL)
        await asyncio.sleep(0.2)
        await lk.agent_dispatch.create_dispatch(api.CreateAgentDispatchRequest(agent_name="interviewer", room="room-9"))
        await wait_until(lambda: len(workers[1].assignments) == 3, "the job to go to the available worker")
        assert len(workers[0].assignments) == 2

        # closing a room terminates its job
        await lk.room.delete_room(api.DeleteRoomRequest(room="room-9"))
        await wait_until(lambda: workers[1].terminations, "termination of the room-9 job")
        assert workers[1].terminations == [workers[1].assignments[2].job.id]

        # a worker that went away is skipped too
        await workers[0].set_status(pb_agent.WorkerStatus.WS_AVAILABLE)
        tasks[1].cancel()
        await wait_until(lambda: [w["connected"] for w in server.workers()] == [True, False, True], "worker 2 to be gone")
        await lk.agent_dispatch.create_dispatch(api.CreateAgentDispatchRequest(agent_name="interviewer", room="room-10"))
        await wait_until(lambda: len(workers[0].assignments) == 3, "the job to go to the remaining worker")
        assert len(workers[1].assignments) == 3 and sum(len(w.assignments) for w in workers) == 6
        assert len(server.jobs()) == 6 and all(j.worker_id for j in server.jobs())
    for task in tasks:
        task.cancel()


# -- egress ---------------------------------------------------------------------------------------
@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("moto_server did not start within 15 s")
    yield endpoint
    proc.terminate()
    proc.wait(timeout=10)


async def test_room_composite_egress_records_the_mix_to_s3(
    make_server: Callable[..., LiveKitTestServer], sink: WebhookSink, s3_endpoint: str, tmp_path: Path
) -> None:
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    s3.create_bucket(Bucket="recordings")
    server = make_server(webhook_urls=[sink.url])
    candidate, agent = await join(server, "candidate"), await join(server, "agent-1", kind="agent")
    tone = Tone(candidate)
    await tone.start()
    await wait_until(
        lambda: any(p["published"] and max(p["published"].values()) > 10 for p in server.participants("room-1")), "audio at the server"
    )
    upload = api.S3Upload(bucket="recordings", endpoint=s3_endpoint, access_key="k", secret="s", region="us-east-1", force_path_style=True)
    output = api.EncodedFileOutput(file_type=api.EncodedFileType.OGG, filepath="interviews/room-1.ogg", s3=upload)
    async with api.LiveKitAPI(server.url, KEY, SECRET) as lk:
        info = await lk.egress.start_room_composite_egress(
            api.RoomCompositeEgressRequest(room_name="room-1", audio_only=True, file_outputs=[output])
        )
        await asyncio.sleep(2.0)
        await lk.egress.stop_egress(api.StopEgressRequest(egress_id=info.egress_id))
    tone.stop()
    final = await asyncio.to_thread(server.wait_egress_done, info.egress_id, 15)
    assert final.status == api.EgressStatus.EGRESS_COMPLETE, final.error
    result = final.file_results[0]
    assert result.location == "s3://recordings/interviews/room-1.ogg"
    assert result.size > 1000 and 1.5e9 < result.duration < 4e9 and result.ended_at > result.started_at
    await wait_until(lambda: "egress_ended" in sink.names(), "egress_ended at the receiver")
    ended = next(e for e in sink.events if e.event == "egress_ended")
    assert ended.egress_info.file_results[0].location == result.location
    assert "egress_started" in sink.names()

    path = tmp_path / "downloaded.ogg"
    s3.download_file("recordings", "interviews/room-1.ogg", str(path))
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        samples = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(stream)])
    seconds = len(samples) / 48000
    assert 1.5 < seconds < 4, f"recording lasts {seconds:.2f} s"
    level = float(np.abs(samples.astype(np.float32)).mean())
    level = level * (32768 if samples.dtype.kind == "f" else 1)
    assert level > 500, f"the recording is silent (mean |x| = {level:.0f})"

    # an upload that fails ends as EGRESS_FAILED with an error
    bad = api.EncodedFileOutput(
        file_type=api.EncodedFileType.OGG,
        filepath="x.ogg",
        s3=api.S3Upload(bucket="no-such-bucket", endpoint=s3_endpoint, access_key="k", secret="s", force_path_style=True),
    )
    async with api.LiveKitAPI(server.url, KEY, SECRET) as lk:
        info = await lk.egress.start_room_composite_egress(
            api.RoomCompositeEgressRequest(room_name="room-1", audio_only=True, file_outputs=[bad])
        )
        await asyncio.sleep(0.3)
        await lk.egress.stop_egress(api.StopEgressRequest(egress_id=info.egress_id))
    failed = await asyncio.to_thread(server.wait_egress_done, info.egress_id, 15)
    assert failed.status == api.EgressStatus.EGRESS_FAILED and "upload failed" in failed.error
    for r in (candidate, agent):
        await r.disconnect()
