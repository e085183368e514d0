"""LiveKitRooms' shared client: livekit-api on one keep-alive aiohttp session per process, and the retry rule.

A small TCP proxy sits between the client and the fake LiveKit server; it counts the connections
it accepts and can drop a connection right after forwarding a request, before any answer — the
case where the client cannot know whether the server acted.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from livekit import api

from interview_app.services.livekit import LiveKitRooms, LiveKitUnavailable
from interview_app.settings import Settings
from tests.fakes.livekit_server import FakeLiveKitServer


class DroppingProxy:
    """Forwards HTTP/1.1 requests one by one; drops the connection after forwarding the next request whose
    first line contains ``drop_after``, without passing the answer back."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.accepted = 0
        self.drop_after: str | None = None
        #: close each connection after passing one answer back, as a server closes an idle keep-alive one
        self.close_after_answer = False
        self.closed_after_answer = threading.Semaphore(0)  # released once per such close
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            threading.Thread(target=self._pipe, args=(conn,), daemon=True).start()

    @staticmethod
    def _read_message(sock: socket.socket) -> bytes | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            body += chunk
        return head + b"\r\n\r\n" + body

    def _pipe(self, conn: socket.socket) -> None:
        try:
            self._forward(conn)
        except OSError:  # the client's idle keep-alive connection outlives the test: time out quietly
            conn.close()

    def _forward(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        with conn, socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10) as up:
            while True:
                request = self._read_message(conn)
                if request is None:
                    return
                up.sendall(request)
                answer = self._read_message(up)
                if answer is None:
                    return
                first_line = request.split(b"\r\n", 1)[0].decode()
                if self.drop_after and self.drop_after in first_line:
                    self.drop_after = None
                    conn.shutdown(socket.SHUT_RDWR)
                    return
                conn.sendall(answer)
                if self.close_after_answer:
                    conn.shutdown(socket.SHUT_RDWR)
                    self.closed_after_answer.release()
                    return

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._listener.close()


@pytest.fixture
def proxy(fake_livekit: FakeLiveKitServer) -> Iterator[DroppingProxy]:
    p = DroppingProxy(fake_livekit.port)
    yield p
    p.close()


@pytest.fixture
def rooms(proxy: DroppingProxy, fake_livekit: FakeLiveKitServer) -> LiveKitRooms:
    settings = Settings(livekit_url=proxy.url, livekit_api_key=fake_livekit.api_key, livekit_api_secret=fake_livekit.api_secret)
    return LiveKitRooms(settings)


def test_calls_share_one_keep_alive_connection(rooms: LiveKitRooms, proxy: DroppingProxy, fake_livekit: FakeLiveKitServer) -> None:
    for i in range(5):
        rooms.create_room(f"room-{i}", "{}")
        rooms.dispatch_agent(f"room-{i}", "interviewer", "{}")
        assert rooms.room_exists(f"room-{i}")
    assert proxy.accepted == 1
    assert len(fake_livekit.rooms) == 5


def test_dispatch_on_a_dropped_connection_is_not_repeated(
    rooms: LiveKitRooms, proxy: DroppingProxy, fake_livekit: FakeLiveKitServer
) -> None:
    rooms.create_room("room-a", "{}")
    proxy.drop_after = "CreateDispatch"
    dispatch_id = rooms.dispatch_agent("room-a", "interviewer", '{"plan": 1}')
    [dispatch] = fake_livekit.dispatches["room-a"]  # the server acted once; the client found it
    assert dispatch.id == dispatch_id
    assert fake_livekit.calls_to("ListDispatch")


def test_idempotent_call_is_retried_once_on_a_dropped_connection(
    rooms: LiveKitRooms, proxy: DroppingProxy, fake_livekit: FakeLiveKitServer
) -> None:
    proxy.drop_after = "CreateRoom"
    rooms.create_room("room-b", "{}")
    assert "room-b" in fake_livekit.rooms
    assert len(fake_livekit.calls_to("CreateRoom")) == 2


@pytest.mark.parametrize("dropped", ["CreateRoom", "CreateDispatch"])
def test_room_and_agent_in_one_trip_keep_both_retry_rules(
    rooms: LiveKitRooms, proxy: DroppingProxy, fake_livekit: FakeLiveKitServer, dropped: str
) -> None:
    """open_room_with_agent (the start path): the room once, exactly one dispatch, its id returned."""
    proxy.drop_after = dropped
    dispatch_id = rooms.open_room_with_agent("room-c", "interviewer", '{"plan": 2}')
    assert "room-c" in fake_livekit.rooms
    [dispatch] = fake_livekit.dispatches["room-c"]
    assert dispatch.id == dispatch_id and dispatch.agent_name == "interviewer"


def test_room_and_agent_refused_names_the_step(fake_livekit: FakeLiveKitServer) -> None:
    settings = Settings(livekit_url=fake_livekit.url, livekit_api_key=fake_livekit.api_key, livekit_api_secret="not-the-secret-" + "x" * 32)
    with pytest.raises(LiveKitUnavailable, match="refused to create the interview room"):
        LiveKitRooms(settings).open_room_with_agent("room-d", "interviewer", "{}")
    assert "room-d" not in fake_livekit.rooms and not fake_livekit.dispatches.get("room-d")


def test_a_connection_the_server_closed_while_idle_is_not_reused(
    rooms: LiveKitRooms, proxy: DroppingProxy, fake_livekit: FakeLiveKitServer
) -> None:
    """No failed request, no retry and no ListDispatch: the closed connection is noticed before use."""
    proxy.close_after_answer = True
    rooms.create_room("room-e", "{}")
    # The client has the answer as soon as it is sent; wait for the close that follows it, as a
    # connection idle long enough for the server to close it would (else the two race).
    assert proxy.closed_after_answer.acquire(timeout=10)
    dispatch_id = rooms.dispatch_agent("room-e", "interviewer", "{}")
    [dispatch] = fake_livekit.dispatches["room-e"]
    assert dispatch.id == dispatch_id
    assert len(fake_livekit.calls_to("CreateRoom")) == 1 and len(fake_livekit.calls_to("CreateDispatch")) == 1
    assert not fake_livekit.calls_to("ListDispatch")
    assert proxy.accepted == 2


def test_unreachable_server_is_unavailable_at_once_with_the_reason() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now
    settings = Settings(livekit_url=f"ws://127.0.0.1:{port}", livekit_api_key="devkey", livekit_api_secret="s" * 32)
    with pytest.raises(LiveKitUnavailable, match=r"could not be reached to create the interview room \(ConnectionRefusedError\)"):
        LiveKitRooms(settings).open_room_with_agent("room-f", "interviewer", "{}")


def test_calls_from_many_threads_share_a_few_connections(
    rooms: LiveKitRooms, proxy: DroppingProxy, fake_livekit: FakeLiveKitServer
) -> None:
    """Request threads call at once: every call answered, connections bounded by the concurrency."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda i: rooms.open_room_with_agent(f"room-t{i}", "interviewer", "{}"), range(80)))
    assert len(set(ids)) == 80
    assert sum(len(d) for d in fake_livekit.dispatches.values()) == 80
    assert 1 <= proxy.accepted <= 8


def test_server_api_tokens_without_a_room_are_reused_until_they_near_expiry(
    rooms: LiveKitRooms, fake_livekit: FakeLiveKitServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jwt

    from interview_app.services import livekit

    signed: list[str] = []
    to_jwt = api.AccessToken.to_jwt

    def counted(self: api.AccessToken) -> str:
        signed.append(to_jwt(self))
        return signed[-1]

    monkeypatch.setattr(api.AccessToken, "to_jwt", counted)
    client = rooms._client
    rooms.create_room("room-g", "{}")
    rooms.create_room("room-h", "{}")
    assert len(signed) == 1  # signed once
    assert rooms.room_exists("room-g")
    assert len(signed) == 2  # other grants, another token
    rooms.dispatch_agent("room-g", "interviewer", "{}")
    rooms.dispatch_agent("room-h", "interviewer", "{}")
    assert len(signed) == 4  # one room's admin token: signed per call (by livekit-api)
    claims = jwt.decode(signed[0], fake_livekit.api_secret, algorithms=["HS256"])
    assert claims["exp"] - claims["nbf"] == 2 * client.SHARED_TOKEN_SECONDS  # valid twice as long as it is reused
    later = time.monotonic() + client.SHARED_TOKEN_SECONDS + 1
    monkeypatch.setattr(livekit.time, "monotonic", lambda: later)
    rooms.create_room("room-i", "{}")
    assert len(signed) == 5  # renewed
    assert {"room-g", "room-h", "room-i"} <= set(fake_livekit.rooms)  # the server accepts what the client sends
    assert all(c.status == 200 for c in fake_livekit.calls)


def test_a_call_from_a_thread_running_an_event_loop_completes(rooms: LiveKitRooms, fake_livekit: FakeLiveKitServer) -> None:
    """The session lives on the client's own loop, so a caller's loop (a Reflex handler's) is no obstacle."""
    import asyncio

    async def handler() -> str:
        return rooms.open_room_with_agent("room-j", "interviewer", "{}")

    dispatch_id = asyncio.run(handler())
    assert [d.id for d in fake_livekit.dispatches["room-j"]] == [dispatch_id]


def test_a_call_past_its_deadline_is_unavailable_and_not_repeated(
    rooms: LiveKitRooms, fake_livekit: FakeLiveKitServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from interview_app.services import livekit

    monkeypatch.setattr(livekit, "CALL_DEADLINE_SECONDS", 0.3)
    fake_livekit.latency_seconds = 1.0
    try:
        t0 = time.monotonic()
        with pytest.raises(LiveKitUnavailable, match=r"could not be reached to create the interview room \(TimeoutError\)"):
            rooms.open_room_with_agent("room-k", "interviewer", "{}")
        assert time.monotonic() - t0 < 0.9  # the start (and its row lock) waits no longer than the deadline
        time.sleep(1.2)  # the server finishes the request the client gave up on
    finally:
        fake_livekit.latency_seconds = 0.0
    assert len(fake_livekit.calls_to("CreateRoom")) == 1 and not fake_livekit.calls_to("CreateDispatch")
