"""R3 — load: concurrent starts against the fake LiveKit server; hundreds of candidate pages on Reflex's websocket.

Starts: 200 candidates at once (100 distinct interviews, 100 on one interview) against the app
(uvicorn, PostgreSQL) with the LiveKit server API fake on loopback: every start answers 200,
each interview gets exactly one room and one dispatch.

Pages: the app served as in production with Reflex's Redis state manager (a dedicated Redis
db, flushed before and after); 500 Socket.IO clients speak the frontend's protocol
(reflex_base/.templates/web/utils/state.js: token in the query, the ``hydrate_and_load``
event in the CONNECT packet's auth), hold their connections, and keep sending the page's
``on_load_internal`` event while they do.
"""

from __future__ import annotations

import asyncio
import socketserver
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session

from tests.conftest import migrate_to
from tests.e2e.conftest import ServedApp, start_app, stop_app
from tests.factories import make_interview
from tests.fakes.livekit_server import FakeLiveKitServer
from tests.reliability.conftest import FULL, figure, run_coroutine

STARTS = 200 if FULL else 40
PAGES = 500 if FULL else 50
REDIS_DB = 13  # dedicated to this test; flushed before and after
NAMESPACE = "/_event"  # the frontend connects to <backend>/_event: socket.io path and namespace alike


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))] if values else 0.0


@pytest.mark.postgres
def test_concurrent_starts_one_room_and_one_dispatch_each(pg_empty_url: str, server_env, api_server_factory, monkeypatch) -> None:
    # The fake is a ThreadingHTTPServer whose listen backlog is socketserver's default of 5; a LiveKit
    # server accepts far more, and 40 app threads calling at once could overflow it.
    monkeypatch.setattr(socketserver.TCPServer, "request_queue_size", 256)
    migrate_to(pg_empty_url)
    engine = sa.create_engine(pg_empty_url)
    with Session(engine, expire_on_commit=False) as s:
        distinct = [make_interview(s) for _ in range(STARTS // 2)]
        shared = make_interview(s)
    engine.dispose()
    livekit = FakeLiveKitServer().start()
    livekit.latency_seconds = 0.01  # a real server is not instant
    try:
        app = api_server_factory(server_env | livekit.env | {"DATABASE_URL": pg_empty_url})
        app.start()
        tokens = [raw for _, raw in distinct] + [shared[1]] * (STARTS - len(distinct))

        async def burst() -> list[tuple[int, float, str]]:
            limits = httpx.Limits(max_connections=STARTS, max_keepalive_connections=STARTS)
            async with httpx.AsyncClient(base_url=app.url, timeout=120, limits=limits) as client:

                async def one(raw: str) -> tuple[int, float, str]:
                    t0 = time.monotonic()
                    try:
                        res = await client.post("/api/interview/start", json={"invite_token": raw})
                        return res.status_code, time.monotonic() - t0, res.json().get("room_name", res.text[:200])
                    except httpx.HTTPError as err:
                        return 0, time.monotonic() - t0, repr(err)

                return await asyncio.gather(*(one(raw) for raw in tokens))

        t0 = time.monotonic()
        answers = run_coroutine(burst())
        wall = time.monotonic() - t0
        creates = Counter(c.request.get("name") for c in livekit.calls_to("CreateRoom"))
        dispatches = {room: len(d) for room, d in livekit.dispatches.items()}
    finally:
        livekit.stop()
    statuses = Counter(code for code, _, _ in answers)
    latencies = [t for _, t, _ in answers]
    figure(f"R3 concurrent starts ({STARTS}: {len(distinct)} distinct + {STARTS - len(distinct)} on one interview)", dict(statuses))
    figure(
        "R3 start latency p50 / p95 / max",
        f"{_pct(latencies, 0.5):.2f} / {_pct(latencies, 0.95):.2f} / {max(latencies):.2f} s (burst {wall:.1f} s)",
    )
    reasons = Counter(text[:120] for code, _, text in answers if code != 200)
    if reasons:
        figure("R3 start failures", dict(reasons))
    assert statuses == {200: STARTS}, [a for a in answers if a[0] != 200][:5]
    expected_rooms = {i.room_name for i, _ in distinct} | {shared[0].room_name}
    assert {room for _, _, room in answers} == expected_rooms
    assert set(livekit.rooms) == expected_rooms
    assert all(n == 1 for n in creates.values()) and set(creates) == expected_rooms, creates.most_common(3)
    assert dispatches == dict.fromkeys(expected_rooms, 1), [r for r, n in dispatches.items() if n != 1][:5]
    figure("R3 rooms / dispatches per interview", f"max {max(creates.values())} / max {max(dispatches.values())}")


# --------------------------------------------------------------------------- websocket pages


@pytest.fixture(scope="module")
def redis_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    import redis

    url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    r = redis.Redis.from_url(url)
    try:
        r.ping()
    except redis.RedisError as err:
        pytest.skip(f"Redis not reachable at {url}: {err}")
    r.flushdb()
    proc, served = start_app(tmp_path_factory.mktemp("redis-app"), REDIS_URL=url)
    yield served
    stop_app(proc)
    r.flushdb()
    r.close()


def _candidate_token(link: str) -> str:
    return link.rsplit("/", 1)[1]


@pytest.mark.reliability_slow
@pytest.mark.e2e
def test_candidate_pages_hold_websockets_with_the_redis_state_manager(redis_app: ServedApp, tmp_path: Path) -> None:
    import redis
    import socketio

    raw = _candidate_token(redis_app.demo["candidate_link"])
    router_data = {"pathname": "/interview/[token]", "asPath": f"/interview/{raw}", "query": {"token": raw}}
    hydrate = {"name": "reflex___state____state.hydrate_and_load", "payload": {}, "router_data": router_data}
    on_load = {
        "name": "reflex___state____state.reflex___state____on_load_internal_state.on_load_internal",
        "payload": {},
        "router_data": router_data,
    }
    hold_seconds = 15 if FULL else 5
    errors: list[str] = []
    hydrate_times: list[float] = []
    updates: Counter[str] = Counter()
    link_states: Counter[str] = Counter()
    disconnects = 0

    async def page(n: int, start_gate: asyncio.Semaphore) -> socketio.AsyncClient | None:
        sio = socketio.AsyncClient(reconnection=False)
        token = str(uuid.uuid4())
        got_hydrate = asyncio.Event()
        t0 = time.monotonic()

        @sio.on("event", namespace=NAMESPACE)
        async def on_event(update) -> None:
            updates[token] += 1
            delta = update.get("delta", {}) if isinstance(update, dict) else {}
            for key, values in delta.items():
                if key.endswith("candidate_state") and "link_state_rx_state_" in values:
                    link_states[values["link_state_rx_state_"]] += 1
            if not got_hydrate.is_set():
                hydrate_times.append(time.monotonic() - t0)
                got_hydrate.set()

        @sio.on("disconnect", namespace=NAMESPACE)
        async def on_disconnect(*_: object) -> None:
            nonlocal disconnects
            disconnects += 1  # counted; a page that drops shows up in "still connected"

        async with start_gate:
            try:
                await sio.connect(
                    f"{redis_app.url}?token={token}",
                    socketio_path="/_event",
                    transports=["websocket"],
                    auth={"event": hydrate},
                    wait_timeout=30,
                    namespaces=[NAMESPACE],
                )
                await asyncio.wait_for(got_hydrate.wait(), 60)
            except Exception as err:  # noqa: BLE001 - every failure is counted
                errors.append(f"page {n}: {err.__class__.__name__}: {err}")
                await sio.disconnect()
                return None
        return sio

    async def run() -> tuple[int, int, int]:
        gate = asyncio.Semaphore(50)  # pages open over a few seconds, as people arrive
        clients = [c for c in await asyncio.gather(*(page(n, gate) for n in range(PAGES))) if c is not None]
        connected = len(clients)
        sent = 0
        end = time.monotonic() + hold_seconds
        while time.monotonic() < end:  # status events keep flowing while the pages are open
            for c in clients:
                if c.connected:
                    await c.emit("event", on_load, namespace=NAMESPACE)
                    sent += 1
            await asyncio.sleep(2)
        await asyncio.sleep(2)
        still = sum(1 for c in clients if c.connected)
        await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
        return connected, still, sent

    connected, still, sent = run_coroutine(run())
    keys = redis.Redis.from_url(f"redis://127.0.0.1:6379/{REDIS_DB}").dbsize()
    figure(
        f"R3 websocket pages connected and hydrated (Redis db {REDIS_DB})",
        f"{connected}/{PAGES}, still connected after {hold_seconds} s: {still}",
    )
    figure("R3 hydrate p50 / p95", f"{_pct(hydrate_times, 0.5):.2f} / {_pct(hydrate_times, 0.95):.2f} s")
    figure("R3 on_load events sent while held / updates received", f"{sent} / {sum(updates.values())}")
    figure("R3 Redis keys after the run (state manager in use)", keys)
    assert not errors, errors[:5]
    assert connected == PAGES and still == PAGES
    assert sum(n for state, n in link_states.items() if state != "loading") >= PAGES, link_states  # each page loaded the link
    assert sum(updates.values()) >= PAGES + sent * 0.9, (sum(updates.values()), sent)
    assert keys > 0, "no state in Redis: the Redis state manager was not used"
