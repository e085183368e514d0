"""P1 — agent turn overhead: the Interviewer vs a bare livekit-agents ``Agent``, same providers, same run.

Both sessions are open at once (each runs its own Silero VAD on its own paced microphone, 50 ms
frames as livekit-agents' room input delivers them) and speak on one fixed schedule: a turn every
``period`` seconds each, the bare Agent half a period after the Interviewer, so their turns never
overlap (a reply's pipeline takes ≈ 0.5 s of the ≈ 4 s period) while both share the same moments
of the machine — between its turns each microphone sends silence through its VAD either way.
Per turn: seconds from the VAD's end-of-speech event to the first agent
audio frame, minus the providers' fixed delays (d1 + d2 + d3). The session's endpointing wait
(0.3 s) runs inside the VAD's silence window (0.55 s), i.e. before that event, so it is not part
of the remainder. The remainder is the overhead: livekit-agents' pipeline plus, for the
Interviewer, our hooks (llm_node's state note, event handlers, tools offered to the model).
"""

from __future__ import annotations

import asyncio
import gc
import tempfile
from pathlib import Path

from bench.agent_harness import ENDPOINTING_MIN_DELAY, Delays, bare_agent, interviewer, one_turn, open_voice, speech_pcm
from bench.common import BenchResult, ms, percentile


async def measure(turns: int, delays: Delays) -> dict[str, list[float]]:
    from agent.providers import build_vad

    pcm = speech_pcm(Path(tempfile.mkdtemp(prefix="bench-p1-")))
    # One Silero VAD per session, as in production (one job per process, each with its prewarmed
    # VAD): livekit-agents subscribes each session to its VAD's metrics, so a shared VAD would make
    # every session handle the other's metrics too (bench/README.md, P4).
    voices = {
        "interviewer": await open_voice(interviewer(), delays, build_vad()),
        "bare": await open_voice(bare_agent(), delays, build_vad()),
    }
    gc.collect()
    gc.freeze()  # the loaded process's heap, as agent/worker.py's prewarm freezes it
    overhead: dict[str, list[float]] = {name: [] for name in voices}
    # One turn is ≈ 0.3 s settle + the answer + 0.55 s VAD silence + d1..d3 + overhead; the rest of
    # the period is margin, so a late turn does not run into the next one.
    period = 0.3 + len(pcm) / 32_000 + 0.55 + delays.total + 1.0
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.5

    async def talk(name: str, offset: float) -> None:
        for i in range(turns + 1):  # the first turn of each is warm-up
            slot = start + offset + i * period
            if slot > loop.time():
                await asyncio.sleep(slot - loop.time())
            took = await one_turn(voices[name], pcm)
            if took is None:
                raise RuntimeError(f"the {name} agent did not answer a turn within 20 s")
            if i:
                overhead[name].append(ms(took - delays.total))

    try:
        await asyncio.gather(talk("interviewer", 0.0), talk("bare", period / 2))
    finally:
        for voice in voices.values():
            await voice.session.aclose()
        gc.unfreeze()
    return overhead


def run(turns: int = 70, delays: Delays | None = None) -> BenchResult:
    delays = delays or Delays()
    result = BenchResult("p1")
    overhead = asyncio.run(measure(turns, delays))
    p95 = {name: percentile(values, 95) for name, values in overhead.items()}
    parts = f"{delays.stt * 1000:.0f}/{delays.llm * 1000:.0f}/{delays.tts * 1000:.0f} ms"
    note = f"{turns} turns each; d1/d2/d3 = {parts}, endpointing {ENDPOINTING_MIN_DELAY * 1000:.0f} ms"
    result.add("turn overhead p95 Interviewer (absolute)", p95["interviewer"], None, "ms", max_value=15.0, note=note)
    result.add("turn overhead p95 Interviewer vs bare Agent", p95["interviewer"], p95["bare"], "ms", max_ratio=1.05, note=note)
    result.raw = {
        "overhead_ms": overhead,
        "p50_ms": {name: percentile(values, 50) for name, values in overhead.items()},
        "delays_s": {"stt": delays.stt, "llm": delays.llm, "tts": delays.tts, "endpointing_min": ENDPOINTING_MIN_DELAY},
    }
    return result
