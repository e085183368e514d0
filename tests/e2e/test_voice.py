"""The voice interview through a LiveKit room, as a candidate and a recruiter see it.

Chromium runs the candidate page (livekit-client) with a fake microphone playing answers that
espeak-ng speaks at test time; the interviewer is the real worker process (``python -m agent
start``) with STT/TTS through livekit-plugins-openai against a local OpenAI-compatible server;
LiveKit is the test double in ``tests/fakes/livekit_sfu`` (production: livekit-server or Cloud).
See ``tests/e2e/voice_stack.py``.
"""

from __future__ import annotations

import re
import shutil
import signal
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from interview_app import i18n
from tests.e2e.conftest import CHROMIUM, PHONE, ROOT, ServedApp, axe_violations, free_port, sideways_overflow, start_app, stop_app
from tests.e2e.voice_stack import (
    AGENT_NAME,
    API_KEY,
    API_SECRET,
    ResultGate,
    Worker,
    chromium_args,
    create_voice_interview,
    spoken_seconds,
    wait_until,
    worker_env,
    write_spoken_script,
)

pytestmark = pytest.mark.skipif(
    not (shutil.which("espeak-ng") and shutil.which("sox")), reason="espeak-ng and sox speak the answers (make test installs them)"
)

SHOTS = ROOT / "tests" / "artifacts"
TTS_SPEED = 1.6  # the interviewer speaks faster than life: shorter tests, same code path
REJOIN_SECONDS = 6
QUESTIONS = ["Tell me about a system you built.", "How do you debug a slow service?"]
ANSWERS = ["I built a billing service in Python.", "I would add caching in front of the database."]
GREETING = "Hi {candidate_name}."
TYPED = "I would rather type this one: I built a queue in Go."
CANDIDATE = "Ada Lovelace"
AGENT_HERE = re.compile(r"The interviewer is (listening|speaking|thinking|getting ready)")


@dataclass
class VoiceStack:
    app: ServedApp
    livekit: object  # tests.fakes.livekit_sfu.LiveKitTestServer
    speech: object  # tests.fakes.openai_speech.OpenAISpeechServer
    worker: Worker
    tmp: Path
    results: ResultGate

    def rows(self, sql: str, *args: object) -> list[tuple]:
        with sqlite3.connect(self.app.database_url.removeprefix("sqlite:///")) as conn:
            return conn.execute(sql, args).fetchall()

    def status(self, interview_id: str) -> str:
        rows = self.rows("SELECT status FROM interview WHERE id = ?", interview_id.replace("-", ""))
        return rows[0][0] if rows else ""

    def workers(self) -> list[dict]:
        return [w for w in self.livekit.workers() if w["agent_name"] == AGENT_NAME and w["connected"]]

    def agents_in(self, room: str) -> list[str]:
        return [p["identity"] for p in self.livekit.participants(room) if p["kind"] == "AGENT"]

    def dispatches(self, room: str) -> list:
        """Every dispatch ever made to ``room`` (the server forgets a deleted room's), with the job it made."""
        made = [c for c in self.livekit.calls_to("CreateDispatch") if c.request.get("room") == room]
        jobs = [j for j in self.livekit.jobs() if j.room == room]
        assert len(jobs) == len(made), f"{len(made)} dispatches but {len(jobs)} jobs in {room}"
        return made

    def worker_of(self, room: str) -> str:
        return next(j.worker_id for j in self.livekit.jobs() if j.room == room and j.worker_id)

    def diagnostics(self) -> str:
        heard = [(round(r.audio_seconds, 2), r.text) for r in self.speech.transcriptions]
        return f"--- transcriptions (audio s, text) ---\n{heard}\n--- worker log ---\n{self.worker.log_tail()}\n--- app log ---\n{self.app.log_tail(40)}"


def voice_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VoiceStack]:
    """The app, the LiveKit test server, the speech server and one worker, for as long as the generator runs.

    The ``voice`` fixture (tests/e2e/conftest.py, package scope) runs it once for this module and
    test_worker_pool.py, which comes right after it: one app build and worker start for both.
    """
    from tests.fakes.livekit_sfu import LiveKitTestServer
    from tests.fakes.openai_speech import OpenAISpeechServer

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs it (apt-get install chromium)")
    tmp = tmp_path_factory.mktemp("voice")
    port = free_port()
    speech = OpenAISpeechServer(phrases=ANSWERS).start()
    livekit = LiveKitTestServer(
        api_key=API_KEY, api_secret=API_SECRET, webhook_urls=[f"http://127.0.0.1:{port}/webhooks/livekit"], departure_timeout=20
    ).start()
    proc, app = start_app(tmp, port=port, **livekit.env(), AGENT_NAME=AGENT_NAME, AGENT_JOIN_TIMEOUT_SECONDS="20")
    results = ResultGate(app.url)
    worker = Worker(
        worker_env(
            app, speech.base_url, TTS_SPEED=str(TTS_SPEED), CANDIDATE_REJOIN_SECONDS=str(REJOIN_SECONDS), RESULT_WEBHOOK_URL=results.url
        ),
        tmp / "worker.log",
    ).start()
    stack = VoiceStack(app=app, livekit=livekit, speech=speech, worker=worker, tmp=tmp, results=results)
    try:
        wait_until(lambda: stack.workers(), 90, f"the worker to register with LiveKit\n{stack.diagnostics()}")
        yield stack
    finally:
        worker.stop()
        results.stop()
        stop_app(proc)
        livekit.stop()
        speech.stop()


def greeting_seconds(questions: list[str]) -> float:
    """How long the interviewer's greeting plays (the scripted interviewer's words, the local TTS's voice)."""
    from agent.scripted import greeting_text

    state = {
        "candidate_name": CANDIDATE,
        "role_title": "Voice Engineer",
        "org_name": "",
        "greeting": GREETING,
        "question_count": len(questions),
        "current_question": {"text": questions[0]},
        "duration_limit_seconds": 300,
    }
    return spoken_seconds(greeting_text(state), TTS_SPEED)


def answer_times(questions: list[str]) -> list[tuple[float, str]]:
    """When each answer starts, counted from the room's microphone opening: after the question was asked."""
    at = 3.0 + greeting_seconds(questions) + 1.5  # agent joins and starts (~2-3 s), greeting, a pause
    times = []
    for i, answer in enumerate(ANSWERS[: len(questions)]):
        times.append((at, answer))
        if i + 1 < len(questions):
            said = spoken_seconds(answer, 1.0 / 1.13)  # speak_to_wav speaks at 150 wpm, TTS_SPEED 1 is 170
            reply = spoken_seconds(f"Thank you. Question {i + 2}: {questions[i + 1]}", TTS_SPEED)
            at += said + 2.5 + reply + 1.5  # the answer, end of turn and reply start, the next question, a pause
    return times


def open_candidate(pw, stack: VoiceStack, wav: Path, *, phone: bool = False):
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=chromium_args(wav))
    context = browser.new_context(**PHONE) if phone else browser.new_context(viewport={"width": 1000, "height": 900})
    return browser, context.new_page()


def consent_and_join(page: Page, link: str) -> None:
    page.goto(link)
    expect(page.locator("#welcome")).to_contain_text(CANDIDATE.split()[0], timeout=30_000)
    expect(page.locator("#consent-text")).to_contain_text("Your voice (audio only, no video)")
    page.locator("#consent-checkbox").click()
    page.locator("#consent-continue").click()
    expect(page.locator("#device-check")).to_be_visible(timeout=15_000)
    expect(page.locator("#mic-ok")).to_be_visible(timeout=15_000)  # the tone at the start of the WAV
    page.locator("#join").click()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"voice-{name}.png"), full_page=True)


def test_voice_interview_from_link_to_review(voice: VoiceStack) -> None:
    link, interview_id = create_voice_interview(voice.app, candidate=CANDIDATE, questions=QUESTIONS, greeting=GREETING)
    script = write_spoken_script(voice.tmp / "answers.wav", answer_times(QUESTIONS))
    with sync_playwright() as pw:
        browser, page = open_candidate(pw, voice, script.path)
        try:
            consent_and_join(page, link)
            expect(page.locator("#connection-status")).to_contain_text("You are connected", timeout=30_000)
            expect(page.locator("#agent-status")).to_contain_text(AGENT_HERE, timeout=30_000)
            expect(page.locator("#agent-visualizer[data-agent-present='yes']")).to_have_count(1, timeout=30_000)
            expect(page.locator("#captions")).to_contain_text("Question 1", timeout=60_000)
            progress = page.locator("#interview-progress")
            expect(progress).to_contain_text("Question 1 of 2", timeout=30_000)
            expect(progress).to_contain_text(re.compile(r"\d+:\d\d left"))
            # the interviewer speaks, listens; the candidate's spoken answers reach STT and it moves on
            expect(page.locator("#captions")).to_contain_text("Question 2", timeout=90_000)
            expect(progress).to_contain_text("Question 2 of 2", timeout=30_000)
            # the conversation so far, both sides, as in the text interview
            you = page.locator("#conversation .conversation-turn[data-speaker='candidate']")
            expect(you.first).to_contain_text(ANSWERS[0], timeout=30_000)
            expect(you.first).to_contain_text("You")
            expect(page.locator("#conversation .conversation-turn[data-speaker='interviewer']").first).to_contain_text("Interviewer")
            expect(page.locator("#conversation")).to_contain_text(QUESTIONS[0])
            shot(page, "room")
            assert axe_violations(page) == []  # the live room: no serious or critical accessibility problem
            ended = page.locator("#interview-ended")
            expect(ended).to_contain_text("The interview has ended", timeout=90_000)
            shot(page, "ended")
            expect(page.locator("#interview-room")).to_have_count(0)
        except Exception as err:
            shot(page, "failure")
            raise AssertionError(f"{err}\n{voice.diagnostics()}") from err
        finally:
            browser.close()

    # stored: the result with both speakers, timestamps, latency, and a recording
    wait_until(lambda: voice.status(interview_id) in ("processing", "completed"), 30, "the result to be stored")
    segments = voice.rows(
        "SELECT speaker, text, start_ms, end_ms FROM transcript_segment WHERE interview_id = ? ORDER BY seq", interview_id.replace("-", "")
    )
    said = [text for speaker, text, *_ in segments if speaker == "candidate"]
    assert said == ANSWERS, f"candidate turns {said}\n{voice.diagnostics()}"
    assert [s for s, *_ in segments].count("agent") >= 3  # greeting + question 2 + goodbye
    assert all(end >= start >= 0 for *_, start, end in segments)
    assert [r.text for r in voice.speech.transcriptions if r.text] == ANSWERS  # through livekit-plugins-openai
    [(recording, latency, end_reason)] = voice.rows(
        "SELECT s3_recording_url, latency, end_reason FROM interview WHERE id = ?", interview_id.replace("-", "")
    )
    assert end_reason == "all questions covered"
    assert recording == f"local://interviews/{interview_id}/recording.ogg"
    audio = Path(voice.app.env["STORAGE_LOCAL_DIR"]) / "interviews" / interview_id / "recording.ogg"
    assert audio.stat().st_size > 10_000
    assert latency and '"total_ms"' in latency
    # one room, one dispatch, one agent
    assert len(voice.dispatches(f"interview-{interview_id}")) == 1

    # the recruiter reads both speakers with timestamps, the latency chart, and plays the recording
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=chromium_args(script.path))
        page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
        try:
            from tests.e2e.test_admin import sign_in

            sign_in(
                page, voice.app.url, voice.app.demo["admin_email"], voice.app.demo["admin_password"], f"/admin/interviews/{interview_id}"
            )
            lines = page.locator(".transcript-line")
            expect(lines).to_have_count(len(segments), timeout=30_000)
            expect(page.locator(".transcript-line", has_text=ANSWERS[0])).to_contain_text("Candidate")
            expect(lines.first).to_contain_text("00:0")
            expect(page.locator("#latency-chart .recharts-surface").first).to_be_visible(timeout=20_000)
            player = page.locator("#review-player")
            expect(player).to_be_attached(timeout=30_000)
            page.wait_for_function("() => document.getElementById('review-player').readyState >= 2", timeout=20_000)
            page.evaluate("document.getElementById('review-player').muted = true; document.getElementById('review-player').play()")
            page.wait_for_function("() => document.getElementById('review-player').currentTime > 1", timeout=20_000)
            shot(page, "review")
        finally:
            browser.close()


def test_reload_keeps_the_room_and_the_interviewer(voice: VoiceStack) -> None:
    """A reload mid-interview: same room, same agent, no second dispatch; the interview goes on to its end."""
    questions = QUESTIONS[:1]
    link, interview_id = create_voice_interview(voice.app, candidate=CANDIDATE, questions=questions, greeting=GREETING)
    script = write_spoken_script(voice.tmp / "reload.wav", answer_times(questions))
    room = f"interview-{interview_id}"
    with sync_playwright() as pw:
        browser, page = open_candidate(pw, voice, script.path)
        try:
            consent_and_join(page, link)
            expect(page.locator("#captions")).to_contain_text("Question 1", timeout=60_000)
            agents = voice.agents_in(room)
            assert len(agents) == 1
            page.reload()
            expect(page.locator("#rejoin-notice")).to_be_visible(timeout=30_000)
            expect(page.locator("#mic-ok")).to_be_visible(timeout=15_000)
            page.locator("#join").click()
            expect(page.locator("#connection-status")).to_contain_text("You are connected", timeout=30_000)
            expect(page.locator("#agent-visualizer[data-agent-present='yes']")).to_have_count(1, timeout=30_000)
            assert voice.agents_in(room) == agents  # the same interviewer is still there
            expect(page.locator("#interview-ended")).to_contain_text("The interview has ended", timeout=90_000)
        except Exception as err:
            shot(page, "reload-failure")
            raise AssertionError(f"{err}\n{voice.diagnostics()}") from err
        finally:
            browser.close()
    assert len(voice.dispatches(room)) == 1
    wait_until(lambda: voice.status(interview_id) in ("processing", "completed"), 30, "the result to be stored")
    said = [
        t
        for (t,) in voice.rows(
            "SELECT text FROM transcript_segment WHERE interview_id = ? AND speaker = 'candidate'", interview_id.replace("-", "")
        )
    ]
    assert said == ANSWERS[:1]


def test_tab_closed_for_good_ends_with_the_partial_transcript(voice: VoiceStack) -> None:
    """The candidate closes the tab for good; the room's webhooks reach the app before the result.

    The interviewer waits CANDIDATE_REJOIN_SECONDS, ends "candidate left" and reports what was
    said; the result gate refuses that delivery, so LiveKit's room_finished arrives first (the app
    infers a failure), then the outbox's retry lands and the result replaces it: the same final
    state as in the usual order.
    """
    link, interview_id = create_voice_interview(voice.app, candidate=CANDIDATE, questions=QUESTIONS, greeting=GREETING)
    script = write_spoken_script(voice.tmp / "leave.wav", answer_times(QUESTIONS)[:1])
    key = interview_id.replace("-", "")
    with sync_playwright() as pw:
        browser, page = open_candidate(pw, voice, script.path)
        try:
            consent_and_join(page, link)
            expect(page.locator("#captions")).to_contain_text("Question 2", timeout=90_000)  # the first answer was heard
        except Exception as err:
            shot(page, "leave-failure")
            raise AssertionError(f"{err}\n{voice.diagnostics()}") from err
        voice.results.held.set()
        left_at = time.monotonic()
        browser.close()  # the tab is gone; no goodbye
    try:
        # the interviewer gave up waiting, closed the room: LiveKit's room_finished made the app infer a failure
        wait_until(lambda: voice.status(interview_id) == "failed", REJOIN_SECONDS + 40, "room_finished to fail the interview first")
        assert voice.results.refused >= 1 and voice.rows("SELECT result_received_at FROM interview WHERE id = ?", key) == [(None,)]
        ended_after = time.monotonic() - left_at
    finally:
        voice.results.held.clear()
    # the outbox delivers the result on its next round; it replaces the inferred failure
    wait_until(lambda: voice.status(interview_id) in ("processing", "completed"), 60, "the late result to replace the failure")
    [(end_reason, received)] = voice.rows("SELECT end_reason, result_received_at FROM interview WHERE id = ?", key)
    assert end_reason == "candidate left" and received is not None
    assert ended_after < 20 + REJOIN_SECONDS  # within the room's departure timeout
    said = [t for (t,) in voice.rows("SELECT text FROM transcript_segment WHERE interview_id = ? AND speaker = 'candidate'", key)]
    assert said == ANSWERS[:1]  # what was said before leaving is kept
    events = [k for (k,) in voice.rows("SELECT kind FROM interview_event WHERE interview_id = ? ORDER BY id", key)]
    assert events.index("livekit_room_finished") < events.index("result_received")


def test_interviewer_process_killed_tells_the_candidate_and_fails_the_interview(voice: VoiceStack) -> None:
    from interview_app.services.interviews import INTERVIEWER_LOST_REASON

    link, interview_id = create_voice_interview(voice.app, candidate=CANDIDATE, questions=QUESTIONS, greeting=GREETING)
    script = write_spoken_script(voice.tmp / "killed.wav", [])
    with sync_playwright() as pw:
        browser, page = open_candidate(pw, voice, script.path)
        try:
            consent_and_join(page, link)
            expect(page.locator("#captions")).to_contain_text("Question 1", timeout=60_000)
            killed_at = time.monotonic()
            for pid in voice.worker.job_pids():  # the job processes: the interview's and the warm one
                try:
                    import os

                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            ended = page.locator("#interview-ended")
            expect(ended).to_contain_text("The interviewer was disconnected", timeout=40_000)
            told_after = time.monotonic() - killed_at
            shot(page, "interviewer-lost")
        except Exception as err:
            shot(page, "killed-failure")
            raise AssertionError(f"{err}\n{voice.diagnostics()}") from err
        finally:
            browser.close()
    assert told_after < 30
    [(status, end_reason)] = voice.rows("SELECT status, end_reason FROM interview WHERE id = ?", interview_id.replace("-", ""))
    assert (status, end_reason) == ("failed", INTERVIEWER_LOST_REASON)
    # the worker itself survived and takes the next interview
    assert voice.worker.proc is not None and voice.worker.proc.poll() is None
    wait_until(lambda: voice.workers(), 30, "the worker to be available again")


def test_two_workers_each_interview_gets_exactly_one_agent(voice: VoiceStack) -> None:
    """Two worker processes registered: every dispatched interview is taken by exactly one agent."""
    second = Worker(worker_env(voice.app, voice.speech.base_url), voice.tmp / "worker2.log").start()
    try:
        wait_until(lambda: len(voice.workers()) >= 2, 90, "the second worker to register")
        rooms = []
        for _ in range(4):
            link, interview_id = create_voice_interview(voice.app, candidate=CANDIDATE, questions=QUESTIONS[:1], greeting=GREETING)
            token = link.rstrip("/").rsplit("/", 1)[-1]
            res = httpx.post(f"{voice.app.url}/api/interview/start", json={"invite_token": token}, timeout=30)
            assert res.status_code == 200, res.text
            rooms.append(res.json()["room_name"])
        for room in rooms:
            wait_until(lambda room=room: len(voice.agents_in(room)) >= 1, 60, f"an agent in {room}")
        time.sleep(2)  # a second agent, if any, would have joined by now
        assert all(len(voice.agents_in(room)) == 1 for room in rooms)
        assert all(len(voice.dispatches(room)) == 1 for room in rooms)
        assert len({voice.worker_of(room) for room in rooms}) == 2, "both workers took interviews"
    finally:
        for room in rooms:
            voice.livekit.delete_room(room)
        second.stop()


def test_spanish_voice_interview_with_extra_time(voice: VoiceStack) -> None:
    """An interview held in Spanish with +50 % granted: the room's labels and sentences are Spanish,
    the interviewer greets in Spanish, and the clock the page shows runs from the longer limit."""
    link, interview_id = create_voice_interview(voice.app, candidate=CANDIDATE, questions=QUESTIONS, greeting="", minutes=2)
    key = interview_id.replace("-", "")
    voice.rows("UPDATE interview SET language='es', extra_time_percent=50 WHERE id=?", key)  # chosen and granted (tested elsewhere)
    script = write_spoken_script(voice.tmp / "spanish.wav", [])
    es = lambda k, **v: i18n.t("es", k, **v)  # noqa: E731
    with sync_playwright() as pw:
        browser, page = open_candidate(pw, voice, script.path)
        try:
            page.goto(link)
            expect(page.locator("#consent-text")).to_have_text(es("consent.voice"), timeout=30_000)
            expect(page.locator("#welcome-duration")).to_have_text(es("welcome.duration", minutes=3))  # 2 min + 50 %
            page.locator("#consent-checkbox").click()
            page.locator("#consent-continue").click()
            expect(page.locator("#mic-ok")).to_have_text(es("devices.mic_ok"), timeout=15_000)
            page.locator("#join").click()
            joined = time.monotonic()
            expect(page.locator("#mic-toggle")).to_have_text(es("room.mute"), timeout=30_000)
            expect(page.locator("#leave-interview")).to_have_text(es("room.leave"))
            first = page.locator("#conversation .conversation-turn[data-speaker='interviewer']").first
            expect(first).to_contain_text("Hola, Ada", timeout=60_000)  # the scripted interviewer speaks Spanish
            before, _, after = es("room.progress_time", time="\0").partition("\0")
            clock = re.escape(before) + r"(\d+):(\d\d)" + re.escape(after)
            progress = page.locator("#interview-progress")
            expect(progress).to_have_text(re.compile(re.escape(es("room.progress_question", i=1, n=2)) + ".*" + clock), timeout=20_000)
            minutes, seconds = re.search(clock, progress.inner_text()).groups()
            limit = int(minutes) * 60 + int(seconds) + (time.monotonic() - joined)
            assert 160 <= limit <= 185, f"the clock counts from {limit:.0f} s: 2 min + 50 % is 180 s"
            shot(page, "spanish")
            page.locator("#leave-interview").click()
            page.locator("#leave-confirm").click()
            expect(page.locator("#connection-status")).to_have_text(es("room.left"), timeout=15_000)
        except Exception as err:
            shot(page, "spanish-failure")
            raise AssertionError(f"{err}\n{voice.diagnostics()}") from err
        finally:
            browser.close()
    [(plan_language,)] = voice.rows("SELECT language FROM interview WHERE id=?", key)
    assert plan_language == "es"


# The browser refuses to play audio until the candidate clicks LiveKit's start-audio button, as
# Safari and Chromium's stricter autoplay policies do (a page opened in the background, a reload).
BLOCK_AUTOPLAY = """
(() => {
  const play = HTMLMediaElement.prototype.play;
  let allowed = false;
  document.addEventListener("click", (e) => { if (e.target.closest(".lk-start-audio-button")) allowed = true; }, true);
  HTMLMediaElement.prototype.play = function () {
    if (!allowed && this instanceof HTMLAudioElement) return Promise.reject(new DOMException("blocked", "NotAllowedError"));
    return play.call(this);
  };
})();
"""


def test_phone_pause_typed_answer_and_leave(voice: VoiceStack) -> None:
    """On a phone whose browser blocks audio until a tap: the start-audio prompt, then the interviewer is
    heard. "Leave interview" asks for confirmation; "Stay" keeps the room, "Leave" disconnects with a
    sentence saying how to rejoin, and the interviewer ends the interview once the rejoin grace has passed."""
    link, interview_id = create_voice_interview(voice.app, candidate=CANDIDATE, questions=QUESTIONS, greeting=GREETING)
    script = write_spoken_script(voice.tmp / "leave-button.wav", [])
    key = interview_id.replace("-", "")
    with sync_playwright() as pw:
        browser, page = open_candidate(pw, voice, script.path, phone=True)  # this candidate is on a phone
        page.add_init_script(BLOCK_AUTOPLAY)
        try:
            consent_and_join(page, link)
            start_audio = page.locator(".lk-start-audio-button")
            expect(start_audio).to_be_visible(timeout=30_000)  # the interviewer's audio arrived and could not play
            expect(start_audio).to_have_text("Click to hear the interviewer")
            start_audio.click()
            expect(start_audio).to_be_hidden(timeout=10_000)
            playing = "() => [...document.querySelectorAll('audio')].some((a) => !a.paused)"
            page.wait_for_function(playing, timeout=10_000)
            expect(page.locator("#captions")).to_contain_text("Question 1", timeout=60_000)
            [(room,)] = voice.rows("SELECT room_name FROM interview WHERE id = ?", key)
            mic = page.locator("#mic-toggle")
            expect(mic).to_have_text("Mute microphone")
            mic.click()
            expect(mic).to_have_attribute("data-mic", "off")
            expect(mic).to_have_text("Unmute microphone")
            mic.click()
            expect(mic).to_have_attribute("data-mic", "on")
            # LiveKit measures the candidate's connection as poor: the page says so, and stops once it is fine
            hint = page.locator("#connection-hint")
            voice.livekit.set_connection_quality(room, f"candidate-{interview_id}", "poor")
            expect(hint).to_contain_text("Your connection is weak", timeout=10_000)
            shot(page, "weak-connection")
            assert axe_violations(page) == []
            voice.livekit.set_connection_quality(room, f"candidate-{interview_id}", "excellent")
            expect(hint).to_have_attribute("data-quality", "excellent", timeout=10_000)
            expect(hint).to_have_text("")
            # "Give me a moment": the interviewer says it will wait, the page shows the pause
            page.locator("#give-me-a-moment").click()
            expect(page.locator("#captions")).to_contain_text("take your time", timeout=30_000)
            expect(page.locator("#interview-progress[data-paused='yes']")).to_contain_text("Paused: take your time", timeout=10_000)
            # one answer typed instead of spoken: it is the candidate's turn and the interviewer goes on
            page.locator("#typed-answer-input").fill(TYPED)
            page.locator("#typed-answer-send").click()
            typed = page.locator("#conversation .conversation-turn[data-speaker='candidate'][data-typed='yes']")
            expect(typed).to_contain_text(TYPED, timeout=10_000)
            expect(page.locator("#captions")).to_contain_text("Question 2", timeout=60_000)
            expect(page.locator("#interview-progress[data-paused='no']")).to_contain_text("Question 2 of 2", timeout=10_000)
            shot(page, "typed-answer")
            assert sideways_overflow(page) <= 1  # fits 375 px
            assert axe_violations(page) == []
            page.locator("#leave-interview").click()
            expect(page.get_by_role("alertdialog")).to_contain_text("Leave the interview?")
            shot(page, "leave-dialog")
            page.locator("#leave-cancel").click()
            expect(page.get_by_role("alertdialog")).to_have_count(0)
            expect(page.locator("#connection-status")).to_contain_text("You are connected")
            page.locator("#leave-interview").click()
            page.locator("#leave-confirm").click()
            expect(page.locator("#connection-status")).to_contain_text("You left the interview room", timeout=15_000)
            expect(page.locator("#retry")).to_be_visible()
            wait_until(
                lambda: not [p for p in voice.livekit.participants(room) if p["kind"] != "AGENT"],
                15,
                "the candidate to leave the room",
            )
        except Exception as err:
            shot(page, "leave-button-failure")
            raise AssertionError(f"{err}\n{voice.diagnostics()}") from err
        finally:
            browser.close()
    wait_until(lambda: voice.status(interview_id) in ("processing", "completed"), REJOIN_SECONDS + 60, "the interview to end")
    [(end_reason,)] = voice.rows("SELECT end_reason FROM interview WHERE id = ?", key)
    assert end_reason == "candidate left"
    said = [t for (t,) in voice.rows("SELECT text FROM transcript_segment WHERE interview_id = ? AND speaker = 'candidate'", key)]
    assert said == [TYPED]  # the typed answer is in the transcript like a spoken one
