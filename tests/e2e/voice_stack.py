"""The voice stack for browser tests and `make voice`: every part real except the two services we cannot run.

- **LiveKit**: ``tests.fakes.livekit_sfu.LiveKitTestServer``, a LiveKit-compatible *test double*
  (signalling, audio through aiortc, the agent-worker protocol, signed webhooks, egress).
  Production uses livekit-server or LiveKit Cloud.
- **Speech**: ``tests.fakes.openai_speech.OpenAISpeechServer``, an OpenAI-compatible STT/TTS
  server (PocketSphinx on known phrases, espeak-ng): the worker reaches it through the same
  livekit-plugins-openai code a deployment uses, with ``STT_BASE_URL``/``TTS_BASE_URL``.
- **App**: ``reflex run --env prod`` as in production; **worker**: ``python -m agent start``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.conftest import ROOT, ServedApp

API_KEY = "voice-e2e-key"
API_SECRET = "voice-e2e-secret-" + "v" * 32
AGENT_NAME = "interviewer-e2e"


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, *, every: float = 0.2) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail with ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


class ResultGate:
    """Between the worker and the app's result webhook: forwards, or answers 503 while held.

    Lets a test make LiveKit's webhooks reach the app before the interviewer's result (the
    outbox retries a refused delivery with backoff), the order a slow or briefly unreachable
    app sees.
    """

    def __init__(self, app_url: str) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        import httpx

        gate = self
        self.app_url = app_url
        self.held = threading.Event()
        self.refused = 0
        self.forwarded = 0

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if gate.held.is_set():
                    gate.refused += 1
                    self.send_response(503)
                    self.end_headers()
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
                res = httpx.post(gate.app_url + self.path, content=body, headers=headers, timeout=30)
                gate.forwarded += 1
                self.send_response(res.status_code)
                self.send_header("Content-Type", res.headers.get("content-type", "application/json"))
                self.end_headers()
                self.wfile.write(res.content)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True, name="result-gate").start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/webhooks/interview-ended"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def worker_env(app: ServedApp, speech_url: str, **extra: str) -> dict[str, str]:
    """The worker's settings: the app's (LiveKit, storage, outbox, APP_URL) plus keyless speech."""
    env = dict(app.env)
    env.update(
        {
            "OPENAI_API_KEY": "local-speech-server",  # the local server takes any key
            "STT_BASE_URL": speech_url,
            "TTS_BASE_URL": speech_url,
            "LLM_PROVIDER": "scripted",
            "AGENT_NAME": env.get("AGENT_NAME", AGENT_NAME),
            "AGENT_HTTP_PORT": "0",
            "AGENT_IDLE_PROCESSES": "1",
            "AGENT_MAX_INTERVIEWS": "4",  # capacity by interviews: a busy 2-core CI machine must not refuse one
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


@dataclass
class Worker:
    """One ``python -m agent start`` process (its own process group: job processes die with it)."""

    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = None

    def start(self) -> Worker:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "agent", "start"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log_path.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int | None:
        if self.proc is None:
            return None
        try:
            os.killpg(self.proc.pid, sig)
            return self.proc.wait(timeout=timeout)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return None

    def log_tail(self, n: int = 80) -> str:
        if self.log_path.exists():
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        return ""

    def job_pids(self) -> list[int]:
        """Process ids of this worker's job processes (its children running interviews or idle)."""
        assert self.proc is not None
        import psutil

        return [c.pid for c in psutil.Process(self.proc.pid).children(recursive=True)]


def create_voice_interview(app: ServedApp, *, candidate: str, questions: Iterable[str], greeting: str, minutes: int = 5) -> tuple[str, str]:
    """A template with ``questions`` (no follow-ups) and a fresh invitation; returns (link, interview id)."""
    import json

    script = """
import json, sys
from datetime import timedelta
from interview_app import routes
from interview_app.db import session_scope
from interview_app.models import Candidate, InterviewTemplate
from interview_app.services.interviews import create_invitation
from interview_app.settings import get_settings
spec = json.loads(sys.stdin.read())
with session_scope() as session:
    template = InterviewTemplate(
        title="Voice Engineer", job_description="Voice test.", duration_limit_minutes=spec["minutes"],
        greeting=spec["greeting"], rubric=[],
        questions=[{"id": f"q{i + 1}", "text": q, "max_follow_ups": 0} for i, q in enumerate(spec["questions"])],
    )
    session.add(template)
    candidate = Candidate(name=spec["candidate"], email="voice@example.com", external_ref="voice-e2e")
    session.add(candidate)
    session.flush()
    interview, raw = create_invitation(session, candidate, template, ttl=timedelta(hours=1), actor="voice-e2e")
    print(json.dumps({"link": routes.candidate_link(get_settings().app_url, raw), "id": str(interview.id)}))
"""
    spec = {"candidate": candidate, "questions": list(questions), "greeting": greeting, "minutes": minutes}
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=app.env,
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return data["link"], data["id"]


@dataclass
class SpokenScript:
    """The fake microphone's WAV: a short tone (the device check hears it), then answers at set times.

    Chromium restarts a fake-capture file on every ``getUserMedia``: the device check plays the
    tone, and joining the room starts the file again, so ``at`` is seconds after the room's
    microphone opened. A tone is not speech: the VAD ignores it.
    """

    path: Path
    answers: list[tuple[float, str, float]] = field(default_factory=list)  # (start s, text, duration s)

    def end_of(self, index: int) -> float:
        start, _, duration = self.answers[index]
        return start + duration


def write_spoken_script(path: Path, answers: list[tuple[float, str]], *, tail: float = 40.0, rate: int = 48000) -> SpokenScript:
    """espeak-ng speaks each answer into one mono 16-bit WAV, starting at its time; sox joins them."""
    import wave

    import numpy as np

    from tests.agent.audio_doubles import speak_to_wav

    tone_len = 0.6
    t = np.arange(int(rate * tone_len)) / rate
    pieces: list[np.ndarray] = [(0.25 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)]
    cursor = tone_len
    spoken = SpokenScript(path=path)
    for i, (at, text) in enumerate(answers):
        raw = speak_to_wav(text, path.with_name(f"{path.stem}-{i}.raw.wav"))
        conv = path.with_name(f"{path.stem}-{i}.wav")
        subprocess.run(["sox", str(raw), "-r", str(rate), "-c", "1", "-b", "16", str(conv)], check=True, timeout=30)
        with wave.open(str(conv)) as w:
            samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        if at < cursor:
            raise ValueError(f"answer {i} at {at} s overlaps the one before (ends {cursor:.1f} s)")
        pieces.append(np.zeros(int((at - cursor) * rate), dtype=np.int16))
        pieces.append(samples)
        duration = len(samples) / rate
        spoken.answers.append((at, text, duration))
        cursor = at + duration
    pieces.append(np.zeros(int(tail * rate), dtype=np.int16))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.concatenate(pieces).tobytes())
    return spoken


def spoken_seconds(text: str, speed: float) -> float:
    """How long the local TTS server takes to say ``text`` at ``speed`` (the same espeak-ng call)."""
    from tests.fakes.openai_speech import TTS_RATE, espeak_pcm24k

    return len(espeak_pcm24k(text, speed)) / 2 / TTS_RATE


def chromium_args(fake_audio: Path) -> list[str]:
    from tests.e2e.conftest import CHROMIUM_ARGS

    return [*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={fake_audio}%noloop", "--autoplay-policy=no-user-gesture-required"]


#: What a developer can say to the local speech server (it recognises only known phrases).
PRACTICE_PHRASES = [
    "I built a billing service in Python.",
    "I would add caching in front of the database.",
    "I led a team of four engineers.",
    "Could you repeat the question please?",
    "Can we move on?",
    "I would like to stop the interview.",
]


def main() -> int:
    """`make voice`: the app, the LiveKit test server, the worker (and local speech) on this machine.

    For trying the voice interview by hand without accounts. The LiveKit part is a test double:
    production uses livekit-server or LiveKit Cloud. With OPENAI_API_KEY set (environment or .env),
    the worker uses OpenAI's STT/TTS instead of the local speech server.
    """
    import threading

    from dotenv import dotenv_values

    from tests.fakes.livekit_sfu import LiveKitTestServer
    from tests.fakes.openai_speech import OpenAISpeechServer

    port = int(os.environ.get("PORT", "3000"))
    lk_port = int(os.environ.get("LIVEKIT_TEST_PORT", "7880"))
    file_env = {k: v for k, v in dotenv_values(ROOT / ".env").items() if v is not None} if (ROOT / ".env").exists() else {}
    key, secret = "devkey", "devsecret-change-me-devsecret-change-me"
    livekit = LiveKitTestServer(
        api_key=key, api_secret=secret, port=lk_port, webhook_urls=[f"http://127.0.0.1:{port}/webhooks/livekit"]
    ).start()
    env = {**os.environ, "LIVEKIT_URL": livekit.ws_url, "LIVEKIT_API_KEY": key, "LIVEKIT_API_SECRET": secret, "PORT": str(port)}
    env.setdefault("APP_URL", f"http://127.0.0.1:{port}")
    speech = None
    if not (os.environ.get("OPENAI_API_KEY") or file_env.get("OPENAI_API_KEY")):
        speech = OpenAISpeechServer(phrases=PRACTICE_PHRASES).start()
    procs: list[subprocess.Popen] = []
    try:
        subprocess.run([sys.executable, "-m", "interview_app.cli", "bootstrap"], cwd=ROOT, env=env, check=True)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "reflex", "run", "--env", "prod", "--frontend-port", str(port), "--backend-port", str(port)],
                cwd=ROOT,
                env={**env, "AGENT_JOIN_TIMEOUT_SECONDS": env.get("AGENT_JOIN_TIMEOUT_SECONDS", "30")},
                start_new_session=True,
            )
        )
        worker = env | {"AGENT_HTTP_PORT": "0", "AGENT_MAX_INTERVIEWS": env.get("AGENT_MAX_INTERVIEWS", "2")}
        if speech is not None:
            worker |= {"OPENAI_API_KEY": "local-speech-server", "STT_BASE_URL": speech.base_url, "TTS_BASE_URL": speech.base_url}
        procs.append(subprocess.Popen([sys.executable, "-m", "agent", "start"], cwd=ROOT, env=worker, start_new_session=True))
        print(f"\nLiveKit test server (a test double) at {livekit.ws_url}; app on http://127.0.0.1:{port}")
        if speech is not None:
            print("Local speech server: it understands only these answers (set OPENAI_API_KEY for real speech):")
            for phrase in PRACTICE_PHRASES:
                print(f"  - {phrase}")
        print("Open the candidate link printed above; Ctrl+C stops everything.\n", flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        while not stop.wait(1):
            if any(p.poll() is not None for p in procs):
                print("voice: a process exited; stopping.", file=sys.stderr)
                return 1
        return 0
    finally:
        for proc in procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        livekit.stop()
        if speech is not None:
            speech.stop()


if __name__ == "__main__":
    raise SystemExit(main())
