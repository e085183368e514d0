"""Agent workers as a pool: a worker drained with SIGTERM, and a worker that dies mid-interview.

Several ``python -m agent start`` processes register with LiveKit (here the test server in
``tests/fakes/livekit_sfu``, which offers each job to the least-loaded worker that accepts jobs)
and share the interviews. A deployment stops a worker with SIGTERM (``docker stop``, Kubernetes):
livekit-agents then drains it — it reports itself full (``UpdateWorkerStatus{WS_FULL}``), takes no
new job, lets its running interviews end and exits (``AgentServer.drain``, bounded by
``drain_timeout``, 3600 s in 1.8.9). A worker killed outright takes its interviews with it: the
candidate page sees the interviewer gone and the interview fails with ``INTERVIEWER_LOST_REASON``.

The stack (app, LiveKit test server, speech server, first worker) is ``tests/e2e/test_voice.py``'s,
the same instance (the package-scoped ``voice`` fixture of tests/e2e/conftest.py).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from livekit.protocol import agent as pb_agent
from playwright.sync_api import expect, sync_playwright

from tests.e2e import test_voice
from tests.e2e.test_voice import (
    ANSWERS,
    CANDIDATE,
    GREETING,
    QUESTIONS,
    VoiceStack,
    answer_times,
    consent_and_join,
    open_candidate,
    shot,
)
from tests.e2e.voice_stack import Worker, create_voice_interview, wait_until, write_spoken_script

# ≈ 1.5 min of the 20-minute `make test` budget: in `make reliability` (the Makefile names this file).
pytestmark = [test_voice.pytestmark, pytest.mark.reliability_slow]

ONE_QUESTION = QUESTIONS[:1]


@dataclass
class WorkerPool:
    """The worker processes of this module: the voice stack's first one and those the tests add."""

    voice: VoiceStack
    workers: list[Worker] = field(default_factory=list)
    _ids: dict[int, str] = field(default_factory=dict)

    def live(self) -> list[Worker]:
        return [w for w in self.workers if w.proc is not None and w.proc.poll() is None]

    def grow_to(self, n: int) -> list[Worker]:
        """Start workers (same settings as the first) until ``n`` run, and wait until LiveKit has them all accepting jobs."""
        while len(self.live()) < n:
            log = self.voice.tmp / f"pool-worker-{len(self.workers)}.log"
            self.workers.append(Worker(dict(self.voice.worker.env), log).start())
        live = self.live()
        wait_until(lambda: all(self.accepting(w) for w in live), 180, f"{n} workers to register and accept jobs")
        return live

    def livekit_id(self, worker: Worker) -> str:
        """The id LiveKit gave ``worker`` (its ``registered worker`` log line), or "" before it registered."""
        if id(worker) in self._ids:
            return self._ids[id(worker)]
        if not worker.log_path.exists():
            return ""
        for line in worker.log_path.read_text(errors="replace").splitlines():
            if '"registered worker"' in line:
                try:
                    self._ids[id(worker)] = str(json.loads(line)["id"])
                except (ValueError, KeyError):
                    continue
                return self._ids[id(worker)]
        return ""

    def seen_by_livekit(self, worker: Worker) -> dict | None:
        wid = self.livekit_id(worker)
        return next((w for w in self.voice.livekit.workers() if wid and w["id"] == wid), None)

    def accepting(self, worker: Worker) -> bool:
        seen = self.seen_by_livekit(worker)
        return bool(seen and seen["connected"] and seen["status"] == pb_agent.WorkerStatus.WS_AVAILABLE)

    def refusing(self, worker: Worker) -> bool:
        """Connected to LiveKit but not taking jobs (a draining worker reports WS_FULL)."""
        seen = self.seen_by_livekit(worker)
        return bool(seen and seen["connected"] and seen["status"] != pb_agent.WorkerStatus.WS_AVAILABLE)

    def logs(self) -> str:
        """The added workers' log tails (the first one's is in ``VoiceStack.diagnostics``)."""
        return "\n".join(f"--- {w.log_path.name} ---\n{w.log_tail(40)}" for w in self.workers[1:])

    def running(self, room: str) -> Worker:
        """The worker whose agent took ``room``'s job."""
        wid = wait_until(lambda: next((j.worker_id for j in self.voice.livekit.jobs() if j.room == room and j.worker_id), ""), 30, "a job")
        return next(w for w in self.workers if self.livekit_id(w) == wid)


@pytest.fixture(scope="module")
def pool(voice: VoiceStack) -> Iterator[WorkerPool]:
    workers = WorkerPool(voice, [voice.worker])
    try:
        yield workers
    finally:
        for worker in workers.workers[1:]:  # the first is the voice stack's to stop
            worker.stop(signal.SIGKILL, timeout=10)


class Timeline:
    """When each awaited thing first became true, polled in a thread while Playwright blocks this one."""

    def __init__(self, events: dict[str, Callable[[], bool]], every: float = 0.1) -> None:
        self.start = time.monotonic()
        self.at: dict[str, float] = {}
        self._events, self._every = events, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True, name="timeline")
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set() and len(self.at) < len(self._events):
            for name, happened in self._events.items():
                if name not in self.at:
                    try:
                        if happened():
                            self.at[name] = time.monotonic() - self.start
                    except Exception:  # noqa: BLE001 - a poll that fails now is retried
                        pass
            time.sleep(self._every)

    def wait(self, name: str, timeout: float) -> float:
        """Seconds from the start until ``name`` happened (waits up to ``timeout`` s for it)."""
        wait_until(lambda: name in self.at, timeout, name, every=0.1)
        return self.at[name]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def invite(stack: VoiceStack) -> str:
    """A new one-question interview's invitation link."""
    return create_voice_interview(stack.app, candidate=CANDIDATE, questions=ONE_QUESTION, greeting=GREETING)[0]


def start_by_api(stack: VoiceStack, link: str) -> str:
    """Start the invited interview as the candidate page starts it (no browser): its room."""
    token = link.rstrip("/").rsplit("/", 1)[-1]
    res = httpx.post(f"{stack.app.url}/api/interview/start", json={"invite_token": token}, timeout=30)
    assert res.status_code == 200, res.text
    return str(res.json()["room_name"])


def one_agent_from(stack: VoiceStack, pool: WorkerPool, room: str, worker: Worker) -> None:
    """``room``'s job went to ``worker``, and exactly one agent joined the room."""
    assert pool.running(room) is worker, f"{room} went to another worker"
    wait_until(lambda: len(stack.agents_in(room)) >= 1, 60, f"an agent in {room}")
    time.sleep(1)  # a second agent, if any, would have joined by now
    assert len(stack.agents_in(room)) == 1
    assert len(stack.dispatches(room)) == 1


def test_sigterm_drains_the_worker_its_interview_finishes_and_new_ones_go_to_the_other(pool: WorkerPool) -> None:
    """SIGTERM to a worker mid-interview: LiveKit sees it stop taking jobs, the next interviews all go to
    the other worker, the running interview keeps its interviewer to a normal end (result delivered), and
    the drained worker exits once that interview is over."""
    stack = pool.voice
    pool.grow_to(2)
    link, interview_id = create_voice_interview(stack.app, candidate=CANDIDATE, questions=ONE_QUESTION, greeting=GREETING)
    script = write_spoken_script(stack.tmp / "drain.wav", answer_times(ONE_QUESTION))
    room, key = f"interview-{interview_id}", interview_id.replace("-", "")
    later = [invite(stack), invite(stack)]  # invited now: started during the drain, they must start at once
    rooms: list[str] = []
    with sync_playwright() as pw:
        browser, page = open_candidate(pw, stack, script.path)
        try:
            consent_and_join(page, link)
            greeting = page.locator("#conversation .conversation-turn[data-speaker='interviewer']").first
            expect(greeting).to_contain_text("Hi Ada", timeout=60_000)  # mid-conversation: the greeting is being spoken
            drained = pool.running(room)
            [other] = [w for w in pool.live() if w is not drained]
            [interviewer] = stack.agents_in(room)
            assert drained.proc is not None
            timeline = Timeline(
                {
                    "draining": lambda: pool.refusing(drained),
                    "job ended": lambda: interviewer not in stack.agents_in(room),
                    "exited": lambda: drained.proc is not None and drained.proc.poll() is not None,
                }
            )
            try:
                drained.proc.send_signal(signal.SIGTERM)  # the main process only, as `docker stop` does
                draining_after = timeline.wait("draining", 10)
                # two new interviews: by load the second would go to the drained worker (one job,
                # reporting load 0 while it drains) if it still took jobs
                rooms = [start_by_api(stack, invitation) for invitation in later]
                assigned = [pool.running(new) for new in rooms]
                assert "job ended" not in timeline.at, "the drained interview ended before the new ones were placed"
                assert assigned == [other, other], "a new interview went to the draining worker"
                assert stack.agents_in(room) == [interviewer]  # the running interview kept its interviewer
                for new in rooms:
                    one_agent_from(stack, pool, new, other)
                for new in rooms:
                    stack.livekit.delete_room(new)
                expect(page.locator("#interview-ended")).to_contain_text("The interview has ended", timeout=90_000)
                ended_after = timeline.wait("job ended", 30)
                exited_after = timeline.wait("exited", 60)
            finally:
                timeline.stop()
        except Exception as err:
            shot(page, "drain-failure")
            raise AssertionError(f"{err}\n{stack.diagnostics()}\n{pool.logs()}") from err
        finally:
            browser.close()
            for new in rooms:
                stack.livekit.delete_room(new)
    print(
        f"\nSIGTERM drain: draining seen by LiveKit after {draining_after:.1f} s, the running interview ended after "
        f"{ended_after:.1f} s, the worker exited after {exited_after:.1f} s ({exited_after - ended_after:.1f} s after its job)"
    )
    assert drained.proc.returncode == 0, drained.log_tail()
    assert exited_after - ended_after < 30
    # the interview ended normally and its result reached the app through the interview-ended webhook
    wait_until(lambda: stack.status(interview_id) in ("processing", "completed"), 30, "the result to be stored")
    [(end_reason, received)] = stack.rows("SELECT end_reason, result_received_at FROM interview WHERE id = ?", key)
    assert end_reason == "all questions covered" and received is not None
    said = [t for (t,) in stack.rows("SELECT text FROM transcript_segment WHERE interview_id = ? AND speaker = 'candidate'", key)]
    assert said == ANSWERS[:1]
    assert len(stack.dispatches(room)) == 1


def test_worker_killed_mid_interview_tells_the_candidate_and_the_other_worker_goes_on(pool: WorkerPool) -> None:
    """The whole worker process group is killed (SIGKILL) mid-interview: the candidate is told, the
    interview fails as "interviewer lost", no other agent is sent into it, and the other worker keeps
    taking new interviews."""
    from interview_app.services.interviews import INTERVIEWER_LOST_REASON

    stack = pool.voice
    pool.grow_to(2)
    link, interview_id = create_voice_interview(stack.app, candidate=CANDIDATE, questions=QUESTIONS, greeting=GREETING)
    script = write_spoken_script(stack.tmp / "worker-killed.wav", [])
    room, key = f"interview-{interview_id}", interview_id.replace("-", "")
    with sync_playwright() as pw:
        browser, page = open_candidate(pw, stack, script.path)
        try:
            consent_and_join(page, link)
            expect(page.locator("#captions")).to_contain_text("Question 1", timeout=60_000)
            killed = pool.running(room)
            [other] = [w for w in pool.live() if w is not killed]
            assert killed.proc is not None
            killed_at = time.monotonic()
            os.killpg(killed.proc.pid, signal.SIGKILL)  # the worker and its job processes, no goodbye
            killed.proc.wait(timeout=10)
            expect(page.locator("#interview-ended")).to_contain_text("The interviewer was disconnected", timeout=40_000)
            told_after = time.monotonic() - killed_at
        except Exception as err:
            shot(page, "worker-killed-failure")
            raise AssertionError(f"{err}\n{stack.diagnostics()}\n{pool.logs()}") from err
        finally:
            browser.close()
    print(f"\nworker killed: the candidate was told after {told_after:.1f} s")
    assert told_after < 30
    [(status, end_reason)] = stack.rows("SELECT status, end_reason FROM interview WHERE id = ?", key)
    assert (status, end_reason) == ("failed", INTERVIEWER_LOST_REASON)
    assert len(stack.dispatches(room)) == 1  # the lost interview was not handed to the other worker
    seen = pool.seen_by_livekit(killed)
    assert seen is not None and not seen["connected"]
    # the other worker goes on taking interviews
    new = start_by_api(stack, invite(stack))
    try:
        one_agent_from(stack, pool, new, other)
    finally:
        stack.livekit.delete_room(new)
