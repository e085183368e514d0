"""P2 — ``POST /api/interview/start`` throughput and p99: FastAPI (Granian workers) vs Express.

Python side: ``interview_app.api:create_api`` served by Granian with W workers — the server and
the FastAPI app Reflex's production mode runs (``reflex run --env prod`` serves with Granian when
gunicorn is not installed, and it is not; Reflex adds only its own routes around the app).
Baseline: bench/baselines/node-start (Express + livekit-server-sdk + pg, Node cluster with W
workers). Both look the invite up by token hash in one PostgreSQL database, create the room and
dispatch the agent on the same fake LiveKit server API (tests/fakes/livekit_server.py, its own
process), record the events, and mint the same candidate token. Every request is a first start
of a different interview. The load generator (asyncio + aiohttp, C connections, a fixed number
of requests per phase) alternates phases between the stacks so noise hits both alike: ten
phases of 300 per stack, so a p99 rests on 30 requests, not on the few that one stall of this
shared machine can fill (with three phases of 400, twelve runs of the same code gave p99 ratios
from 0.47 to 1.52). Besides
wall-clock figures it reports each stack's server CPU time per start (its process group's user +
system time from /proc), the figure a shared machine's noise disturbs least.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from bench.common import (
    ROOT,
    BenchResult,
    free_port,
    group_cpu_seconds,
    migrate,
    ms,
    percentile,
    stop_process,
    throwaway_pg_database,
    wait_http,
)
from bench.seed import bench_token, seed

NODE_DIR = Path(__file__).resolve().parent / "baselines" / "node-start"


def ensure_node_baseline() -> None:
    """Install the pinned Express stack from the npm registry into the baseline's folder (once)."""
    if (NODE_DIR / "node_modules" / "livekit-server-sdk").exists():
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR, check=True, timeout=300)


async def _phase(url: str, tokens: list[str], concurrency: int) -> tuple[float, list[float], dict[int, int]]:
    """Send one start per token with ``concurrency`` connections; (seconds, latencies ms, status counts)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue = list(reversed(tokens))
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def worker() -> None:
            while queue:
                token = queue.pop()
                t0 = time.perf_counter()
                try:
                    async with http.post(url, json={"invite_token": token}) as resp:
                        body = await resp.read()
                        status = resp.status
                        if status == 200 and b'"token"' not in body:
                            status = -1
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
                latencies.append(ms(time.perf_counter() - t0))
                statuses[status] = statuses.get(status, 0) + 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - t0, latencies, statuses


def run(workers: int = 2, concurrency: int = 16, per_phase: int = 300, phases: int = 10, warmup: int = 60) -> BenchResult:
    result = BenchResult("p2")
    ensure_node_baseline()
    stacks = ("python", "node")
    needed = len(stacks) * (warmup + phases * per_phase)
    procs: list[subprocess.Popen] = []
    with throwaway_pg_database("bench_p2") as url:
        migrate(url)
        result.raw["seed"] = seed(url, max(needed, 1000), hashed_tokens=needed)
        fake = subprocess.Popen(
            [sys.executable, "-m", "bench.fake_livekit"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        procs.append(fake)
        try:
            lk = json.loads(fake.stdout.readline())  # type: ignore[union-attr]
            env = {
                **os.environ,
                "ENV_FILE": str(ROOT / "bench" / "no-such.env"),
                "DATABASE_URL": url,
                "LIVEKIT_URL": lk["url"],
                "LIVEKIT_API_KEY": lk["api_key"],
                "LIVEKIT_API_SECRET": lk["api_secret"],
                "SECRET_KEY": "bench-secret-key-" + "x" * 40,
                "APP_ENV": "development",
                "PYTHONDONTWRITEBYTECODE": "1",
            }
            ports = {"python": free_port(), "node": free_port()}
            py = subprocess.Popen(
                [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--host", "127.0.0.1",
                 "--port", str(ports["python"]), "--workers", str(workers), "--log-level", "warning",
                 "interview_app.api:create_api"],
                cwd=ROOT, env=env, start_new_session=True,
            )  # fmt: skip
            procs.append(py)
            node_env = {
                **env,
                "DATABASE_URL": url.replace("postgresql+psycopg2://", "postgres://"),
                "PORT": str(ports["node"]),
                "WORKERS": str(workers),
            }
            node = subprocess.Popen(["node", "server.js"], cwd=NODE_DIR, env=node_env, start_new_session=True)
            procs.append(node)
            wait_http(f"http://127.0.0.1:{ports['python']}/healthz", proc=py)
            wait_http(f"http://127.0.0.1:{ports['node']}/healthz", proc=node)
            tokens = iter(bench_token(i) for i in range(1, needed + 1))
            urls = {s: f"http://127.0.0.1:{ports[s]}/api/interview/start" for s in stacks}
            for stack in stacks:  # warm-up: connection pools, imports, JIT
                asyncio.run(_phase(urls[stack], [next(tokens) for _ in range(warmup)], concurrency))
            seconds = dict.fromkeys(stacks, 0.0)
            lat: dict[str, list[float]] = {s: [] for s in stacks}
            statuses: dict[str, dict[int, int]] = {s: {} for s in stacks}
            phase_rps: dict[str, list[float]] = {s: [] for s in stacks}
            cpu = dict.fromkeys(stacks, 0.0)
            pgids = {"python": py.pid, "node": node.pid}
            for i in range(phases):
                for stack in stacks if i % 2 == 0 else tuple(reversed(stacks)):
                    cpu_before = group_cpu_seconds(pgids[stack])
                    took, latencies, counts = asyncio.run(_phase(urls[stack], [next(tokens) for _ in range(per_phase)], concurrency))
                    cpu[stack] += group_cpu_seconds(pgids[stack]) - cpu_before
                    seconds[stack] += took
                    lat[stack] += latencies
                    phase_rps[stack].append(per_phase / took)
                    for code, n in counts.items():
                        statuses[stack][code] = statuses[stack].get(code, 0) + n
        finally:
            for proc in reversed(procs):
                stop_process(proc)
    rps = {s: phases * per_phase / seconds[s] for s in stacks}
    ok = {s: statuses[s].get(200, 0) == phases * per_phase for s in stacks}
    note = f"{workers} workers each, {concurrency} connections, {phases}x{per_phase} first starts per stack"
    result.add("start throughput FastAPI vs Express", rps["python"], rps["node"], "req/s", min_ratio=1.0, note=note)
    result.add("start p99 FastAPI vs Express", percentile(lat["python"], 99), percentile(lat["node"], 99), "ms", max_ratio=1.0, note=note)
    result.add("start p50 FastAPI vs Express", percentile(lat["python"], 50), percentile(lat["node"], 50), "ms", note="reported, no target")
    cpu_per_start = {s: 1000 * cpu[s] / (phases * per_phase) for s in stacks}
    result.add("server CPU per start FastAPI vs Express", cpu_per_start["python"], cpu_per_start["node"], "ms", note="reported, no target")
    result.raw.update({"statuses": {s: {str(k): v for k, v in statuses[s].items()} for s in stacks}, "phase_rps": phase_rps})
    if not all(ok.values()):
        result.error = f"some starts did not succeed: {result.raw['statuses']}"
    return result
