"""P4 in the production layout: concurrent voice interviews on one worker machine, one job process each.

bench/p4_density.py runs N sessions inside one Python process; production runs
``python -m agent start``, which gives every interview its own job process (livekit-agents'
process pool). This benchmark runs that layout on this machine, every part a process of its own:

- the LiveKit test server (``tests.fakes.livekit_sfu``, whose package relaxes aioice's consent
  timer; aiortc, Python) — media and the agent-worker protocol, as
  livekit-server would;
- the speech server (``python -m tests.fakes.openai_speech``: PocketSphinx STT on known phrases,
  espeak-ng TTS; fixed delays ``STT_DELAY`` / ``TTS_DELAY`` as P6);
- the app's server side (bench/api_server.py: ``create_api()`` under Granian plus the app's
  background workers, on a throwaway PostgreSQL database) — the start API creates the room and
  dispatches the agent, LiveKit's webhooks and the interviewer's signed result land there, the
  evaluation job runs there;
- the real worker ``python -m agent start`` (Silero VAD, the project's turn handling, the
  scripted interviewer, the agent's own recorder), livekit-agents' default number of warm job processes;
- the simulated candidates: one child process (``python -m bench.p4_pool --candidates``) with one
  ``livekit.rtc`` participant per interview (the same Rust SDK the agent uses; a headless
  Chromium per candidate, as P6 drives, would cost more CPU than the interview it measures).

After one warm-up interview (not measured: a fresh worker's first job was 4-10 × slower than the
later ones in the runs so far), per step N (1, 2, 4, 8 by default): N invitations, N starts through ``POST /api/interview/start``,
N candidates join and wait for their greeting; once the worker's pool has refilled its idle
processes (the step's process starts are over), every candidate answers ``turns`` questions with
espeak-ng speech, starts staggered over 2 s. Reply latency = the end of the answer's voiced audio
as sent → the first agent audio frame received with RMS ≥ ``THRESHOLD`` after ≥ 300 ms of quiet
(the same onset rule as P6, measured in the candidate's process instead of a browser). The next
answer follows 0.5 s after the reply is over: the agent's published ``lk.agent.state`` is back at
``listening`` and its audio has been quiet for ``QUIET_AFTER_REPLY`` s.

CPU per part (process groups from /proc, sampled every 0.5 s) over the talking window of the step,
per interview; RSS of the worker's job processes; SQL statements per interview from the app's
engine (bench/statements.py) less the background pollers' rate measured before the first step.
The steps stop once p95 ≥ 2 × the N=1 p95 of the same run (or at the last size); the largest N
below that is "concurrent voice interviews per worker machine" — on THIS machine, where the test
server, the speech server, the candidates and the app share the worker's two cores (the per-part
CPU figures are there to correct for that; bench/README.md, docs/SCALING.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import ROOT, BenchResult, free_port, migrate, percentile, stop_process, throwaway_pg_database, wait_http

STT_DELAY = 0.2
TTS_DELAY = 0.2
TTS_SPEED = 1.6  # as P6: the agent speaks faster than life, same code path
THRESHOLD = 328  # int16 RMS of an onset (0.01 of full scale, as P6)
QUIET_MS = 300
QUIET_AFTER_REPLY = 0.7  # s of quiet, with the agent's published state back at "listening", end a reply
REPLY_TIMEOUT = 20.0  # s after an answer's end within which the reply must start, else the turn is missed
AGENT_NAME = "interviewer-p4"
API_KEY = "bench-p4-key"
API_SECRET = "bench-p4-secret-" + "p" * 32
#: What the candidates say: the same answers and questions as P6 (the speech server recognises exactly these).
from bench.p6_voice_latency import ANSWERS, QUESTIONS  # noqa: E402

RUBRIC = [
    {"name": "Technical depth", "description": "Explains systems precisely.", "weight": 2, "scale_min": 1, "scale_max": 5},
    {"name": "Communication", "description": "Clear and concise.", "weight": 1, "scale_min": 1, "scale_max": 5},
]
PARTS = ("worker", "sfu", "speech", "candidates", "app")


# -- the stack ------------------------------------------------------------------------------------
def _speak(text: str, path: Path) -> np.ndarray:
    """espeak-ng's ``text`` at 48 kHz mono int16, trimmed to its voiced part (so its end is the answer's end)."""
    from tests.agent.audio_doubles import speak_to_wav

    raw = speak_to_wav(text, path.with_suffix(".raw.wav"))
    subprocess.run(["sox", str(raw), "-r", "48000", "-c", "1", "-b", "16", str(path)], check=True, timeout=30)
    with wave.open(str(path)) as w:
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    loud = np.nonzero(np.abs(samples.astype(np.int32)) > 300)[0]
    return samples[loud[0] : loud[-1] + 1] if len(loud) else samples


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return 0.0


def _groups_cpu(pgids: dict[str, int]) -> tuple[dict[str, dict[int, float]], dict[int, float]]:
    """CPU seconds so far of every live process per group (one pass over /proc), and RSS (MB) of every worker process.

    Per process, not summed: a job process that exits takes its CPU time out of the group's sum, so
    a window's CPU is the sum over processes of (last sighting − first sighting or 0 if it started later).
    """
    tick = os.sysconf("SC_CLK_TCK")
    by_group = {pgid: name for name, pgid in pgids.items()}
    cpu: dict[str, dict[int, float]] = {name: {} for name in pgids}
    worker_rss: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = by_group.get(int(fields[2]))
        if name is None:
            continue
        cpu[name][int(entry)] = (int(fields[11]) + int(fields[12])) / tick
        if name == "worker":
            worker_rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    return cpu, worker_rss


@dataclass
class Sample:
    at: float  # epoch seconds
    cpu: dict[str, dict[int, float]]  # part → pid → CPU seconds so far
    worker_rss: dict[int, float]


class Sampler:
    """Every ``every`` s: CPU per part and the worker's processes' RSS, in a background thread."""

    def __init__(self, pgids: dict[str, int], every: float = 0.5) -> None:
        self.pgids, self.every = pgids, every
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="p4-sampler")

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            cpu, rss = _groups_cpu(dict(self.pgids))  # a copy: a step adds and removes the candidates' group
            self.samples.append(Sample(time.time(), cpu, rss))
            self._stop.wait(self.every)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def window(self, start: float, end: float) -> list[Sample]:
        return [s for s in self.samples if start <= s.at <= end]

    def cpu_between(self, start: float, end: float) -> tuple[dict[str, float], float]:
        """CPU seconds per part between the samples closest inside [start, end], and the seconds they span."""
        inside = self.window(start, end)
        if len(inside) < 2:
            return dict.fromkeys(self.pgids, float("nan")), 0.0
        first, last = inside[0], inside[-1]
        used: dict[str, float] = {}
        for part in last.cpu:
            if part not in first.cpu:
                continue
            seen: dict[int, float] = {}
            for sample in inside:  # the last sighting of each process in the window
                seen.update(sample.cpu.get(part, {}))
            used[part] = sum(max(0.0, t - first.cpu[part].get(pid, 0.0)) for pid, t in seen.items())
        return used, last.at - first.at

    def rate(self, part: str, seconds: float) -> float:
        """Cores the part used over the last ``seconds`` (processes that came and went included)."""
        cpu, span = self.cpu_between(time.time() - seconds, time.time())
        return cpu.get(part, 0.0) / span if span > 0 else 0.0


@dataclass
class VoiceStack:
    """The processes of one run; ``start()`` brings them up, ``stop()`` takes every one down."""

    tmp: Path
    database_url: str
    idle_processes: int | None  # None: livekit-agents' production default (one warm process per core)
    max_interviews: int
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    api_url: str = ""

    def _popen(self, name: str, cmd: list[str], env: dict[str, str], **kw: Any) -> subprocess.Popen:
        log = (self.tmp / f"{name}.log").open("w")
        streams = {"stdout": kw.pop("stdout"), "stderr": log} if "stdout" in kw else {"stdout": log, "stderr": subprocess.STDOUT}
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True, **streams, **kw)
        self.procs[name] = proc
        return proc

    def start(self) -> VoiceStack:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "PYTEST_"))}
        api_port, lk_port = free_port(), free_port()
        self.api_url = f"http://127.0.0.1:{api_port}"
        speech = self._popen(
            "speech",
            [sys.executable, "-m", "tests.fakes.openai_speech", "--port", str(free_port()),
             "--stt-delay", str(STT_DELAY), "--tts-delay", str(TTS_DELAY), *[a for p in ANSWERS for a in ("--phrase", p)]],
            {**base, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        speech_url = speech.stdout.readline().strip() if speech.stdout else ""  # its first line is its base URL
        if not speech_url.startswith("http"):
            raise RuntimeError(f"the speech server did not start: {(self.tmp / 'speech.log').read_text()[-800:]}")
        self._popen(
            "sfu",
            [sys.executable, "-m", "tests.fakes.livekit_sfu", "--port", str(lk_port), "--api-key", API_KEY,
             "--api-secret", API_SECRET, "--webhook-url", f"{self.api_url}/webhooks/livekit", "--departure-timeout", "20",
             "--egress-dir", str(self.tmp / "egress")],
            base,
        )  # fmt: skip
        self.env = {
            **base,
            "ENV_FILE": str(self.tmp / "none.env"),
            "DATABASE_URL": self.database_url,
            "STORAGE_LOCAL_DIR": str(self.tmp / "storage"),
            "AGENT_OUTBOX_DIR": str(self.tmp / "outbox"),
            "APP_URL": self.api_url,
            "SECRET_KEY": "bench-p4-secret-key-" + "z" * 40,
            "LIVEKIT_URL": f"ws://127.0.0.1:{lk_port}",
            "LIVEKIT_API_KEY": API_KEY,
            "LIVEKIT_API_SECRET": API_SECRET,
            "AGENT_NAME": AGENT_NAME,
            "AGENT_JOIN_TIMEOUT_SECONDS": "30",
            "TTS_SPEED": str(TTS_SPEED),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
        }
        wait_http(f"http://127.0.0.1:{lk_port}/", proc=self.procs["sfu"])
        api = self._popen(
            "app",
            [sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--host", "127.0.0.1", "--port", str(api_port),
             "--workers", "1", "--log-level", "warning", "bench.api_server:create_bench_api"],
            self.env,
        )  # fmt: skip
        self._popen(
            "worker",
            [sys.executable, "-m", "agent", "start"],
            {
                **self.env,
                "OPENAI_API_KEY": "local-speech-server",
                "STT_BASE_URL": speech_url,
                "TTS_BASE_URL": speech_url,
                "LLM_PROVIDER": "scripted",
                "AGENT_HTTP_PORT": "0",
                "AGENT_MAX_INTERVIEWS": str(self.max_interviews),
                "CANDIDATE_REJOIN_SECONDS": "5",
            }
            | ({"AGENT_IDLE_PROCESSES": str(self.idle_processes)} if self.idle_processes is not None else {}),
        )
        wait_http(f"{self.api_url}/healthz", timeout=90, proc=api)
        self.wait_log("worker", "registered worker", 120)
        return self

    def wait_log(self, name: str, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        path = self.tmp / f"{name}.log"
        while time.monotonic() < deadline:
            if text in path.read_text(errors="replace"):
                return
            if self.procs[name].poll() is not None:
                break
            time.sleep(0.3)
        raise RuntimeError(f"{name} did not log {text!r} within {timeout:.0f} s:\n{self.log_tail(name)}")

    def log_tail(self, name: str, n: int = 40) -> str:
        path = self.tmp / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:]) if path.exists() else ""

    @property
    def pgids(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in self.procs.items()}

    def statements(self) -> dict[str, Any]:
        import urllib.request

        with urllib.request.urlopen(f"{self.api_url}/bench/sql", timeout=10) as resp:
            return json.loads(resp.read())

    def worker_children(self) -> list[int]:
        """The worker's job processes (its process group, the worker itself left out)."""
        worker = self.procs["worker"].pid
        return [pid for pid in _groups_cpu({"worker": worker})[1] if pid != worker]

    def stop(self) -> None:
        for name in ("worker", "app", "sfu", "speech"):
            stop_process(self.procs.get(name), timeout=20)


# -- invitations (a child process with the app's settings, like an admin's request) ----------------
def _invite_child(count: int, template_id: int | None) -> dict[str, Any]:
    from bench.statements import StatementCounter
    from interview_app.db import get_engine, session_scope
    from interview_app.models import InterviewTemplate
    from interview_app.services.candidates import create_candidate
    from interview_app.services.invitations import invite
    from interview_app.settings import get_settings

    settings = get_settings()
    if template_id is None:
        with session_scope() as session:
            template = InterviewTemplate(
                title="Backend Engineer (bench)",
                job_description="Benchmark.",
                duration_limit_minutes=10,
                greeting="Hi {candidate_name}.",
                rubric=RUBRIC,
                questions=[{"id": f"q{i + 1}", "text": q, "max_follow_ups": 0} for i, q in enumerate(QUESTIONS)],
            )
            session.add(template)
            session.flush()
            template_id = int(template.id or 0)
    counter = StatementCounter().attach(get_engine())
    links = []
    for _ in range(count):
        tag = os.urandom(4).hex()
        with session_scope() as session:  # one admin action each: the candidate, then the invitation
            candidate = create_candidate(session, f"Casey {tag}", f"casey.{tag}@example.com")
        with session_scope() as session:
            issued = invite(session, settings, int(candidate.id or 0), template_id, actor="bench")
            links.append({"id": str(issued.interview_id), "token": issued.link.rsplit("/", 1)[-1]})
    return {"template_id": template_id, "invitations": links, "sql": counter.snapshot().as_dict()}


def invite(stack: VoiceStack, count: int, template_id: int | None) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.p4_pool", "--invite", str(count)]
    if template_id is not None:
        cmd += ["--template-id", str(template_id)]
    out = subprocess.run(cmd, cwd=ROOT, env=stack.env, capture_output=True, text=True, timeout=120, check=False)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"inviting failed ({out.returncode}): {out.stderr[-1500:]}")
    return json.loads(lines[-1])


# -- the simulated candidates (child process) ------------------------------------------------------
class Microphone:
    """A paced 48 kHz mono microphone: silence, or the answer queued by ``say`` (10 ms frames)."""

    FRAME = 960  # 20 ms: half the Python wake-ups of 10 ms frames, the same audio

    def __init__(self) -> None:
        from livekit import rtc

        # 200 ms of queue absorbs this process's scheduling jitter (a starved queue is a gap in the speech)
        self.source = rtc.AudioSource(48000, 1, queue_size_ms=200)
        self._pending: np.ndarray | None = None
        self._said: asyncio.Future[float] | None = None
        self._task: asyncio.Task[None] | None = None

    async def publish(self, room: Any) -> None:
        from livekit import rtc

        track = rtc.LocalAudioTrack.create_audio_track("microphone", self.source)
        await room.local_participant.publish_track(track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE))
        self._task = asyncio.create_task(self._pump())

    async def say(self, samples: np.ndarray) -> float:
        """Queue one answer; returns the epoch time its last sample leaves the queue (goes to the track)."""
        self._said = asyncio.get_running_loop().create_future()
        self._pending = samples
        return await self._said

    async def _pump(self) -> None:
        from livekit import rtc

        silence = np.zeros(self.FRAME, dtype=np.int16)
        pos = 0
        while True:
            pending = self._pending
            if pending is not None and pos < len(pending):
                chunk = pending[pos : pos + self.FRAME]
                pos += len(chunk)
                if len(chunk) < self.FRAME:
                    chunk = np.concatenate([chunk, silence[: self.FRAME - len(chunk)]])
            else:
                chunk = silence
            await self.source.capture_frame(rtc.AudioFrame(chunk.tobytes(), 48000, 1, self.FRAME))
            if pending is not None and pos >= len(pending):
                self._pending, pos = None, 0
                if self._said is not None and not self._said.done():
                    self._said.set_result(time.time() + self.source.queued_duration)

    async def aclose(self) -> None:
        if self._task:
            self._task.cancel()
        await self.source.aclose()


class Ear:
    """The agent's audio as the candidate receives it: onsets (RMS ≥ THRESHOLD after QUIET_MS below) and quiet."""

    def __init__(self) -> None:
        self.onsets: list[float] = []
        self.last_loud = 0.0
        self.changed = asyncio.Event()
        self.frames = 0

    async def listen(self, track: Any) -> None:
        from livekit import rtc

        stream = rtc.AudioStream(track, sample_rate=48000, num_channels=1, frame_size_ms=20)
        quiet_since = time.time()
        loud = False
        async for ev in stream:
            samples = np.frombuffer(ev.frame.data, dtype=np.int16).astype(np.float32)
            self.frames += 1
            now = time.time()
            if samples.size and float(np.sqrt(np.dot(samples, samples) / samples.size)) >= THRESHOLD:
                if not loud and now - quiet_since >= QUIET_MS / 1000:
                    self.onsets.append(now)
                    self.changed.set()
                loud = True
                self.last_loud = now
            elif loud:
                loud, quiet_since = False, now

    async def onset_after(self, t: float, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        while True:
            found = [o for o in self.onsets if o > t]
            if found:
                return found[0]
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), min(left, 0.5))
            except TimeoutError:
                pass

    async def reply_over(self, room: Any, timeout: float) -> bool:
        """The agent has finished speaking: its ``lk.agent.state`` attribute is ``listening`` and
        its audio has been quiet for QUIET_AFTER_REPLY s (the state changes when the last frame is
        handed to the room, the audio arrives after it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = [p.attributes.get("lk.agent.state") for p in room.remote_participants.values()]
            if "listening" in states and time.time() - self.last_loud >= QUIET_AFTER_REPLY:
                return True
            await asyncio.sleep(0.1)
        return False


async def _one_candidate(
    spec: dict[str, Any], answers: list[np.ndarray], greeted: asyncio.Event, go: asyncio.Event, seed: int
) -> dict[str, Any]:
    import aiohttp
    from livekit import rtc

    out: dict[str, Any] = {"id": spec["id"], "latency_ms": [], "missed": 0, "error": ""}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{spec['api_url']}/api/interview/start", json={"invite_token": spec["token"]}) as resp:
            if resp.status != 200:
                out["error"] = f"start answered {resp.status}: {(await resp.text())[:200]}"
                greeted.set()
                return out
            started = await resp.json()
    room = rtc.Room()
    ear = Ear()
    disconnected = asyncio.Event()
    room.on("disconnected", lambda *_: disconnected.set())
    listening: list[asyncio.Task[None]] = []

    def on_track(track: Any, pub: Any, participant: Any) -> None:
        if track.kind == rtc.TrackKind.KIND_AUDIO:
            listening.append(asyncio.create_task(ear.listen(track)))

    room.on("track_subscribed", on_track)
    mic = Microphone()
    try:
        await asyncio.wait_for(room.connect(started["server_url"], started["token"]), 30)
        await mic.publish(room)
        out["joined_at"] = time.time()
        first = await ear.onset_after(0, 60)
        out["greeting_after_join_s"] = None if first is None else round(first - out["joined_at"], 2)
        await ear.reply_over(room, 90)
        greeted.set()
        await go.wait()
        await asyncio.sleep(random.Random(seed).uniform(0, 2.0))
        for i in range(spec["turns"]):
            said = await mic.say(answers[i % len(answers)])
            onset = await ear.onset_after(said, REPLY_TIMEOUT)
            if onset is None:
                out["missed"] += 1
                out["latency_ms"].append(None)
                continue
            out["latency_ms"].append(round((onset - said) * 1000, 1))
            await ear.reply_over(room, 90)
            await asyncio.sleep(0.5)
        out["talked_until"] = time.time()
        try:  # the interviewer closes the room after its closing line
            await asyncio.wait_for(disconnected.wait(), 30)
            out["room_closed_by_agent"] = True
        except TimeoutError:
            out["room_closed_by_agent"] = False
    except Exception as err:  # noqa: BLE001 - reported per candidate; the others go on
        out["error"] = f"{err.__class__.__name__}: {err}"
        greeted.set()
    finally:
        out["frames_heard"] = ear.frames
        await mic.aclose()
        for task in listening:
            task.cancel()
        await room.disconnect()
    return out


async def _candidates_child(spec: dict[str, Any]) -> dict[str, Any]:
    answers = [np.load(p) for p in spec["answers"]]
    cpu0 = time.process_time()
    greeted = [asyncio.Event() for _ in spec["interviews"]]
    go = asyncio.Event()
    tasks = [
        asyncio.create_task(_one_candidate({**i, "api_url": spec["api_url"], "turns": spec["turns"]}, answers, greeted[n], go, n))
        for n, i in enumerate(spec["interviews"])
    ]
    await asyncio.wait_for(asyncio.gather(*(g.wait() for g in greeted)), 180)
    print(json.dumps({"event": "greeted", "at": time.time()}), flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    if line.strip() != "go":
        raise RuntimeError("the benchmark did not say go")
    talk_from, cpu_talk = time.time(), time.process_time()
    go.set()
    done = await asyncio.gather(*tasks)
    ends = [d["talked_until"] for d in done if "talked_until" in d]
    return {
        "event": "done",
        "sessions": done,
        "talk_from": talk_from,
        "talk_until": max(ends) if ends else time.time(),
        "cpu_s": time.process_time() - cpu0,
        "cpu_talk_s": time.process_time() - cpu_talk,
    }


# -- one step ---------------------------------------------------------------------------------------
def _settle(stack: VoiceStack, sampler: Sampler, n: int, timeout: float = 90.0) -> float:
    """Wait until the worker's pool holds N job processes + a warm one and its CPU is flat; seconds waited."""
    t0 = time.monotonic()
    want = n + (1 if stack.idle_processes is None else stack.idle_processes)
    while time.monotonic() - t0 < timeout:
        time.sleep(1.0)
        if len(stack.worker_children()) < want or len(sampler.window(time.time() - 2.5, time.time())) < 2:
            continue
        if sampler.rate("worker", 2.5) < 0.3 * n + 0.2:  # greeted, silent interviews (Silero on silence) and no process starting
            break
    return time.monotonic() - t0


def _terminal(stack: VoiceStack, ids: list[str], timeout: float) -> dict[str, Any]:
    """Wait until every interview is completed/failed and its evaluation finished; their statuses."""
    import sqlalchemy as sa

    engine = sa.create_engine(stack.database_url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.text(
                        "SELECT i.id::text, i.status, i.end_reason, e.status, (SELECT count(*) FROM transcript_segment t "
                        "WHERE t.interview_id = i.id AND t.speaker = 'candidate' AND t.text <> '') FROM interview i "
                        "LEFT JOIN evaluation e ON e.interview_id = i.id WHERE i.id::text = ANY(:ids)"
                    ),
                    {"ids": ids},
                ).all()
            statuses = {r[0]: {"status": r[1], "end_reason": r[2], "evaluation": r[3], "answers_transcribed": r[4]} for r in rows}
            done = [
                s
                for s in statuses.values()
                if s["status"] in ("completed", "failed", "cancelled") and s["evaluation"] not in ("pending", "running")
            ]
            if len(done) == len(ids) or time.monotonic() > deadline:
                return statuses
            time.sleep(1.0)
    finally:
        engine.dispose()


def run_step(stack: VoiceStack, sampler: Sampler, n: int, turns: int, template_id: int, answer_paths: list[str]) -> dict[str, Any]:
    invited = invite(stack, n, template_id)
    sql_before = stack.statements()
    t_before = time.time()
    spec = {"api_url": stack.api_url, "turns": turns, "answers": answer_paths, "interviews": invited["invitations"]}
    spec_path = stack.tmp / f"candidates-{n}.json"
    spec_path.write_text(json.dumps(spec))
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.p4_pool", "--candidates", str(spec_path)],
        cwd=ROOT,
        env=stack.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=(stack.tmp / f"candidates-{n}.log").open("w"),
        text=True,
        start_new_session=True,
    )
    sampler.pgids["candidates"] = child.pid
    try:
        assert child.stdin is not None and child.stdout is not None
        greeted = json.loads(child.stdout.readline() or "{}")
        if greeted.get("event") != "greeted":
            raise RuntimeError(f"the candidates did not get their greetings: {(stack.tmp / f'candidates-{n}.log').read_text()[-1500:]}")
        settled = _settle(stack, sampler, n)
        rss_quiet = sum(s for s in _groups_cpu({"worker": stack.procs["worker"].pid})[1].values())
        child.stdin.write("go\n")
        child.stdin.flush()
        done = json.loads(next((line for line in child.stdout if line.startswith("{")), "{}"))
        child.wait(timeout=60)
    finally:
        stop_process(child)
        sampler.pgids.pop("candidates", None)
    if done.get("event") != "done":
        raise RuntimeError(f"the candidates' child ended without a result: {(stack.tmp / f'candidates-{n}.log').read_text()[-1500:]}")
    ids = [i["id"] for i in invited["invitations"]]
    statuses = _terminal(stack, ids, 60)
    sql_after = stack.statements()
    t_after = time.time()
    cpu, span = sampler.cpu_between(done["talk_from"], done["talk_until"])
    whole_cpu, whole_span = sampler.cpu_between(t_before, t_after)  # start → evaluated result, for the app's share
    talking = sampler.window(done["talk_from"], done["talk_until"])
    job_rss = [r for s in talking for pid, r in s.worker_rss.items() if pid != stack.procs["worker"].pid]
    worker_rss_total = [sum(s.worker_rss.values()) for s in talking]
    latencies = [v for s in done["sessions"] for v in s["latency_ms"] if v is not None]
    return {
        "n": n,
        "load_average": os.getloadavg(),  # the whole machine's (other people's jobs included) at the step's end
        "latency_ms": latencies,
        "asked": n * turns,
        "missed": sum(s["missed"] for s in done["sessions"]),
        "errors": [s["error"] for s in done["sessions"] if s["error"]],
        "greeting_after_join_s": [s.get("greeting_after_join_s") for s in done["sessions"]],
        "room_closed_by_agent": sum(bool(s.get("room_closed_by_agent")) for s in done["sessions"]),
        "settle_s": round(settled, 1),
        "talk_s": round(span, 1),
        "cpu_s": {k: round(v, 2) for k, v in cpu.items()},
        "whole_cpu_s": {k: round(v, 2) for k, v in whole_cpu.items()},
        "whole_s": round(whole_span, 1),
        "candidates_cpu_talk_s": round(done["cpu_talk_s"], 2),
        "job_process_rss_mb": round(float(np.median(job_rss)), 1) if job_rss else None,
        "worker_rss_mb": {
            "quiet_before_talk": round(rss_quiet, 1),
            "talking_max": round(max(worker_rss_total), 1) if worker_rss_total else None,
        },
        "worker_processes": len(talking[-1].worker_rss) if talking else None,
        "statuses": statuses,
        "sql": {"before": sql_before, "after": sql_after, "seconds": round(t_after - t_before, 1), "invite": invited["sql"]},
    }


def _per_interview_sql(step: dict[str, Any], background_per_s: dict[str, float]) -> dict[str, float]:
    from bench.statements import StatementTally

    delta = StatementTally.from_dict(step["sql"]["after"]).minus(StatementTally.from_dict(step["sql"]["before"]))
    invite_sql = StatementTally.from_dict(step["sql"]["invite"])
    seconds, n = step["sql"]["seconds"], step["n"]
    return {
        "statements": (delta.statements - background_per_s["statements"] * seconds + invite_sql.statements) / n,
        "ms": (delta.seconds * 1000 - background_per_s["ms"] * seconds + invite_sql.seconds * 1000) / n,
        "commits": (delta.commits - background_per_s["commits"] * seconds + invite_sql.commits) / n,
    }


def run(sizes: tuple[int, ...] = (1, 2, 4, 8), turns: int = 3, background_seconds: float = 20.0, warm_up: bool = True) -> BenchResult:
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        raise RuntimeError("espeak-ng and sox speak the answers (apt-get install espeak-ng sox)")
    result = BenchResult("p4p")
    steps: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench_p4p_") as tmpdir, throwaway_pg_database("bench_p4p") as url:
        tmp = Path(tmpdir)
        migrate(url)
        answer_paths = []
        for i, text in enumerate(ANSWERS[:turns] if turns <= len(ANSWERS) else ANSWERS):
            path = tmp / f"answer-{i}.npy"
            np.save(path, _speak(text, tmp / f"answer-{i}.wav"))
            answer_paths.append(str(path))
        # livekit-agents' own number of warm processes: starting one per interview up front (8 at
        # once on 2 cores) runs past its 10 s initialize timeout, and the pool kills and restarts them
        stack = VoiceStack(tmp, url, idle_processes=None, max_interviews=max(sizes) + 2)
        sampler: Sampler | None = None
        try:
            stack.start()
            sampler = Sampler(stack.pgids).start()
            result.raw["warm_up_s"] = round(_settle(stack, sampler, 0, timeout=180), 1)  # the idle job processes start
            template_id = invite(stack, 0, None)["template_id"]
            # the app's pollers (evaluation, webhooks, Greenhouse, expiry) query whether or not anyone is interviewed
            time.sleep(2)
            b0, tb0 = stack.statements(), time.time()
            time.sleep(background_seconds)
            b1, tb1 = stack.statements(), time.time()
            span = tb1 - tb0
            background = {
                "statements": (b1["statements"] - b0["statements"]) / span,
                "ms": (b1["ms"] - b0["ms"]) / span,
                "commits": (b1["commits"] - b0["commits"]) / span,
            }
            quiet_cpu, quiet_span = sampler.cpu_between(tb0, tb1)
            result.raw["quiet_cores"] = {k: round(v / max(quiet_span, 0.1), 3) for k, v in quiet_cpu.items()}
            result.raw["background_sql_per_s"] = background
            if warm_up:  # one interview first, not measured: the first job of a fresh worker is slower (see bench/README.md)
                print("   p4p: a warm-up interview (not measured) ...", flush=True)
                warm = run_step(stack, sampler, 1, turns, template_id, answer_paths)
                result.raw["warm_up_step"] = {k: warm[k] for k in ("latency_ms", "missed", "greeting_after_join_s", "load_average")}
            for n in sizes:
                print(f"   p4p: {n} concurrent voice interview(s) ...", flush=True)
                step = run_step(stack, sampler, n, turns, template_id, answer_paths)
                step["sql_per_interview"] = _per_interview_sql(step, background)
                steps.append(step)
                p95 = percentile(step["latency_ms"], 95)
                print(
                    f"   p4p: N={n} p50 {percentile(step['latency_ms'], 50):.0f} ms, p95 {p95:.0f} ms, missed {step['missed']}", flush=True
                )
                if len(steps) > 1 and not p95 < 2 * percentile(steps[0]["latency_ms"], 95):
                    break
                if step["missed"] > step["asked"] // 2:
                    break  # the machine is past carrying N: more would only take longer
        finally:
            if sampler is not None:
                sampler.stop()
            keep = os.environ.get("BENCH_P4_LOGS")  # a folder to keep every part's log in
            stack.stop()
            if keep:
                Path(keep).mkdir(parents=True, exist_ok=True)
                for log in tmp.glob("*.log"):
                    shutil.copy(log, Path(keep) / log.name)
    _figures(result, steps, turns)
    return result


def _figures(result: BenchResult, steps: list[dict[str, Any]], turns: int) -> None:
    base = steps[0]
    p50 = {s["n"]: percentile(s["latency_ms"], 50) for s in steps}
    p95 = {s["n"]: percentile(s["latency_ms"], 95) for s in steps}
    n1 = base["n"]
    under = [s["n"] for s in steps if p95[s["n"]] < 2 * p95[n1] and s["missed"] == 0]
    carried = max(under) if under else 0
    for s in steps:
        note = f"{len(s['latency_ms'])} of {s['asked']} turns measured, {s['missed']} missed"
        result.add(f"voice reply p50 @N={s['n']} vs @N={n1}", p50[s["n"]], p50[n1], "ms", note=note)
        result.add(
            f"voice reply p95 @N={s['n']} vs @N={n1}", p95[s["n"]], p95[n1], "ms", max_ratio=2.0 if s is not base else None, note=note
        )
    stopped = "p95 doubled" if p95[steps[-1]["n"]] >= 2 * p95[n1] else "the last size"
    result.add(
        "concurrent voice interviews per 2-core machine",
        float(carried),
        None,
        "interviews",
        note=f"largest N with p95 < 2 x N={n1} p95 and no missed turn; steps stopped at {stopped}; SFU, speech and candidates on the same cores",
    )
    quiet = result.raw.get("quiet_cores", {})
    for s in steps:
        talk = max(s["talk_s"], 0.1)
        # less what each part burns with nobody interviewed (the worker's idle job processes, the app's pollers)
        cores = {k: (v / talk - quiet.get(k, 0.0)) / s["n"] * 100 for k, v in s["cpu_s"].items()}
        s["core_percent_per_interview"] = {k: round(v, 1) for k, v in cores.items()}
        app = s["whole_cpu_s"].get("app", float("nan")) - quiet.get("app", 0.0) * s["whole_s"]
        s["app_cpu_s_per_interview"] = round(app / s["n"], 3)
    top = steps[-1]
    cores_top = top["core_percent_per_interview"]
    for part in PARTS:
        result.add(
            f"{part} CPU per interview @N={top['n']} vs @N={n1}",
            cores_top.get(part, float("nan")),
            base["core_percent_per_interview"].get(part),
            "% core",
            note="while talking, less the part's idle CPU; reported, no target",
        )
    if top["job_process_rss_mb"] is not None:
        result.add(
            f"worker job process RSS @N={top['n']}",
            top["job_process_rss_mb"],
            base["job_process_rss_mb"],
            "MB",
            note="median over the worker's job processes while talking",
        )
    app_cpu = base["app_cpu_s_per_interview"]
    result.add(
        "app CPU per voice interview (start → evaluated)",
        app_cpu * 1000,
        None,
        "ms",
        note=f"API, webhooks, evaluation job; no Reflex pages: {3600 / app_cpu if app_cpu > 0 else float('nan'):.0f} interviews/h per app core",
    )
    sql = base["sql_per_interview"]
    result.add(
        "SQL statements per voice interview",
        sql["statements"],
        None,
        "statements",
        note=f"invitation → evaluated result, {sql['commits']:.0f} commits, {sql['ms']:.0f} ms client-side; background pollers subtracted",
    )
    result.raw.update({"steps": steps, "turns_per_interview": turns, "carried": carried})


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--invite", type=int)
    parser.add_argument("--template-id", type=int)
    parser.add_argument("--candidates", type=Path)
    args = parser.parse_args()
    if args.invite is not None:
        print(json.dumps(_invite_child(args.invite, args.template_id)), flush=True)
    elif args.candidates is not None:
        print(json.dumps(asyncio.run(_candidates_child(json.loads(args.candidates.read_text())))), flush=True)
