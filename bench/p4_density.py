"""P4 — agent density: N concurrent Interviewer sessions in one worker process (synthetic providers).

Each N runs in a fresh child process (``python -m bench.p4_density --child N``) so memory freed by
an earlier N cannot hide the next one's growth. In the child: N sessions opened, then every session speaks ``turns`` answers with
staggered starts. Each session gets its own VAD object, as in production (the worker runs one job per
process, each with the VAD its process prewarmed): livekit-agents subscribes every session to its VAD's
``metrics_collected`` event, so one VAD shared by N sessions costs O(N²) callbacks per second (see
bench/README.md, P4). Memory per session = (RSS with N sessions after their turns − RSS before the
first session) / N. Turn overhead is P1's (VAD end of speech → first agent frame − d1 − d2 − d3).
Idle CPU per session: the process's CPU over ``idle_seconds`` after the sessions opened, while every
microphone sends silence (no turns), per session and second. CPU per turn: the process's CPU from
then until the last turn, divided by the turns answered.
The VAD is ``EnergyVAD`` (see bench/agent_harness.py): Silero × 100 cannot run in real time on
two cores, and this benchmark is about the agent, not the VAD model.
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, BenchResult, ms, percentile

# Turns end on the VAD's silence + endpointing, like the synthetic VAD and providers: the local
# end-of-turn model costs ≈ 135 ms of CPU per prediction on this machine (reported as its own
# figure), so with it the figure would measure that model, not the agent (bench/README.md, P4).
TURN_DETECTION = "vad"


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def eot_prediction_cpu_ms(rounds: int = 10) -> dict[str, float]:
    """CPU and wall time of one prediction of the local end-of-turn model on 1.2 s of audio."""
    import time

    import numpy as np
    from livekit.local_inference import EOT

    model = EOT()
    pcm = (np.random.default_rng(0).standard_normal(19_200) * 1000).astype(np.int16)  # its longest input
    model.predict(pcm)  # warm
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(rounds):
        model.predict(pcm)
    return {"cpu_ms": 1000 * (time.process_time() - c0) / rounds, "wall_ms": 1000 * (time.perf_counter() - w0) / rounds}


async def _child(n: int, turns: int, kind: str = "interviewer", idle_seconds: float = 3.0, stagger_seconds: float = 2.0) -> dict:
    from bench.agent_harness import Delays, EnergyVAD, bare_agent, interviewer, one_turn, open_voice, speech_pcm

    make = interviewer if kind == "interviewer" else bare_agent

    delays = Delays()
    pcm = speech_pcm(Path(tempfile.mkdtemp(prefix="bench-p4-")))
    # Warm the imports and code paths with one throwaway session, so they are not charged to N.
    warm = await open_voice(make(), delays, EnergyVAD(), turn_detection=TURN_DETECTION)
    await one_turn(warm, pcm)
    await warm.session.aclose()
    gc.collect()
    gc.freeze()  # as agent/worker.py's prewarm does once the process is loaded
    before = _rss_mb()
    voices = await asyncio.gather(*(open_voice(make(), delays, EnergyVAD(), turn_detection=TURN_DETECTION) for _ in range(n)))
    # What the sessions cost while nobody speaks: the microphones' silence frames through the
    # audio path (VAD, STT adapter, channels), no replies — the floor under every turn.
    await asyncio.sleep(0.5)
    idle_cpu, idle_wall = time.process_time(), time.perf_counter()
    await asyncio.sleep(idle_seconds)
    idle_ms_per_session_s = 1000 * (time.process_time() - idle_cpu) / (time.perf_counter() - idle_wall) / n
    cpu_before = time.process_time()
    overhead: list[float] = []
    failed = 0
    rng = random.Random(n)

    async def talk(voice) -> None:  # noqa: ANN001
        nonlocal failed
        await asyncio.sleep(rng.uniform(0, stagger_seconds))
        for _ in range(turns):
            took = await one_turn(voice, pcm, timeout=60)
            if took is None:
                failed += 1
            else:
                overhead.append(ms(took - delays.total))

    try:
        await asyncio.gather(*(talk(v) for v in voices))
        cpu = time.process_time() - cpu_before
        gc.collect()
        after = _rss_mb()
    finally:
        await asyncio.gather(*(voice.session.aclose() for voice in voices), return_exceptions=True)
    return {
        "n": n,
        "rss_before_mb": before,
        "rss_after_mb": after,
        "per_session_mb": (after - before) / n,
        "overhead_ms": overhead,
        "failed_turns": failed,
        # all the process's CPU while the sessions talked (audio frames, silence included) per answered turn
        "cpu_ms_per_turn": 1000 * cpu / max(1, len(overhead)),
        "idle_cpu_ms_per_session_s": idle_ms_per_session_s,
    }


def _start_child(n: int, turns: int, agent: str, idle_seconds: float, stagger_seconds: float) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "bench.p4_density", "--child", str(n), "--turns", str(turns), "--agent", agent]
    cmd += ["--idle", str(idle_seconds), "--stagger", str(stagger_seconds)]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _collect_child(proc: subprocess.Popen, n: int, agent: str) -> dict:
    try:
        stdout, stderr = proc.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"density child N={n} ({agent}) failed ({proc.returncode}): {stderr[-800:]}")
    return json.loads(lines[-1])


def _run_child(n: int, turns: int, agent: str, idle_seconds: float, stagger_seconds: float = 2.0) -> dict:
    return _collect_child(_start_child(n, turns, agent, idle_seconds, stagger_seconds), n, agent)


def run(
    sizes: tuple[int, ...] = (1, 10, 50, 100),
    turns: int = 3,
    bare_at_top: bool = True,
    idle_seconds: float = 3.0,
    min_turns: int = 10,
    *,
    stagger_seconds: float = 2.0,
    eot_rounds: int = 10,
    concurrent_children: bool = False,
) -> BenchResult:
    """``turns`` answers per session, and at least ``min_turns`` in all for small N (so p95 has
    samples); ``idle_seconds``: the quiet window measured before the turns (silence frames only);
    ``stagger_seconds``: the spread of the sessions' first answers.

    ``concurrent_children`` (the smoke test only) runs the children and the end-of-turn model's
    measurement at the same time: the same code paths in the wall time of the slowest, and
    figures that mean nothing, since they share the cores.
    """
    result = BenchResult("p4")
    top = sizes[-1]
    if concurrent_children:
        started = {n: _start_child(n, max(turns, -(-min_turns // n)), "interviewer", idle_seconds, stagger_seconds) for n in sizes}
        bare_proc = _start_child(top, turns, "bare", idle_seconds, stagger_seconds) if bare_at_top else None
        eot = eot_prediction_cpu_ms(eot_rounds)
        runs = {n: _collect_child(proc, n, "interviewer") for n, proc in started.items()}
        bare = _collect_child(bare_proc, top, "bare") if bare_proc is not None else None
    else:
        runs = {n: _run_child(n, max(turns, -(-min_turns // n)), "interviewer", idle_seconds, stagger_seconds) for n in sizes}
        bare = _run_child(top, turns, "bare", idle_seconds, stagger_seconds) if bare_at_top else None
        eot = eot_prediction_cpu_ms(eot_rounds)  # what the production turn detector would add per end of turn
    p95 = {n: percentile(r["overhead_ms"], 95) for n, r in runs.items()}
    first = sizes[0]
    for n, r in runs.items():
        result.add(f"memory per session @N={n}", r["per_session_mb"], None, "MB", max_value=25.0)
    for n in sizes:
        note = f"{len(runs[n]['overhead_ms'])} turns, {runs[n]['failed_turns']} unanswered"
        result.add(f"turn overhead p95 @N={n} vs @N={first}", p95[n], p95[first], "ms", max_ratio=2.0 if n == top else None, note=note)
    result.raw = {str(n): r for n, r in runs.items()}
    for n, r in runs.items():
        result.add(
            f"process CPU per turn @N={n}", r["cpu_ms_per_turn"], None, "ms", note="whole process while talking; reported, no target"
        )
    for n, r in runs.items():
        result.add(
            f"idle CPU per session @N={n}",
            r["idle_cpu_ms_per_session_s"],
            None,
            "ms/s",
            note=f"silence only, {idle_seconds:g} s; x N = share of one core ({r['idle_cpu_ms_per_session_s'] * n / 10:.0f} %)",
        )
    if bare is not None:  # is the density limit ours or livekit-agents'? the same N with a bare Agent
        result.raw[f"bare_{top}"] = bare
        note = f"bare: {len(bare['overhead_ms'])} turns, {bare['failed_turns']} unanswered"
        result.add(f"turn overhead p95 @N={top} Interviewer vs bare Agent", p95[top], percentile(bare["overhead_ms"], 95), "ms", note=note)
        result.add(f"memory per session @N={top} bare Agent", bare["per_session_mb"], None, "MB", note="reported, no target")
        result.add(
            f"process CPU per turn @N={top} Interviewer vs bare Agent",
            runs[top]["cpu_ms_per_turn"],
            bare["cpu_ms_per_turn"],
            "ms",
            note="reported, no target",
        )
    result.raw["eot_prediction"] = eot
    result.add(
        "local end-of-turn model, CPU per prediction", eot["cpu_ms"], None, "ms", note=f"wall {eot['wall_ms']:.0f} ms; not in the N runs"
    )
    unanswered = {n: r["failed_turns"] for n, r in runs.items() if r["failed_turns"]}
    if unanswered:  # recorded in the table, not an error: an overloaded process is what this measures
        result.raw["unanswered_turns"] = unanswered
    return result


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--child", type=int, required=True)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--agent", choices=["interviewer", "bare"], default="interviewer")
    parser.add_argument("--idle", type=float, default=3.0)
    parser.add_argument("--stagger", type=float, default=2.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(_child(args.child, args.turns, args.agent, args.idle, args.stagger))), flush=True)
