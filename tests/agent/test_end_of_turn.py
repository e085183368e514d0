"""When the interviewer replies: right after a finished answer, not during a mid-thought pause.

The real AgentSession without a room, as in a LiveKit room with an OpenAI-compatible STT: espeak-ng
speech on a paced microphone → Silero VAD → non-streaming STT (PocketSphinx, wrapped by
livekit-agents in a StreamAdapter) → the worker's turn detector and interview endpointing
(ENDPOINTING_MIN_DELAY 0.8 s, ENDPOINTING_MAX_DELAY 6.0 s, the settings' defaults) → Interviewer
with ScriptedLLM → espeak-ng TTS.

Bound for a finished answer: ENDPOINTING_MIN_DELAY + REPLY_ALLOWANCE. Measured on this pipeline
(end of speech → agent speaking): 0.87-0.95 s, i.e. 0.07-0.15 s over min_delay — the commit
fires min_delay after the VAD's end of speech (the transcript is in after 0.6-0.7 s) and LLM +
TTS start take ~0.05 s. The allowance of 1.0 s is several times that (a loaded CI machine),
and the bound (1.8 s) stays far from max_delay: before the fix every one of these answers
waited 6.1-6.2 s.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from livekit.agents import AgentSession, llm

from agent.interviewer import Interviewer
from agent.providers import TranscriptTurnDetector, build_turn_detector, build_vad, end_of_turn_probability, turn_handling
from agent.scripted import ScriptedLLM
from interview_app.contracts import InterviewPlan
from interview_app.settings import load_settings

MIN_DELAY, MAX_DELAY = 0.8, 6.0
REPLY_ALLOWANCE = 1.0  # s over min_delay: measured 0.07-0.15 s (see the module docstring)

COMPLETE = ["I built a billing service in Python.", "I would add caching in front of the database.", "I led a team of four engineers."]
# (first words, pause in s, continuation): a sentence left hanging while the candidate thinks
UNFINISHED = [("I think the main problem was", 1.8, "the database."), ("My role in the team was", 1.5, "mostly the backend.")]


def _norm(text: str) -> str:
    return text.lower().strip(".?!,")


# --- the detector on its own (no audio) ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I built a billing service in Python.",
        "i built a billing service in python",  # PocketSphinx-like: no case, no punctuation
        "I led a team of four engineers.",
        "Could you repeat the question please?",
        "That's what it was.",  # a rarely-last word the STT closed with a period
        "i think the main problem was the database",
    ],
)
def test_finished_answers_are_likely_ends(text: str) -> None:
    assert end_of_turn_probability(text) >= TranscriptTurnDetector.UNLIKELY_THRESHOLD


@pytest.mark.parametrize(
    "text",
    [
        "I think the main problem was",
        "i think the main problem was",
        "I think the main problem was...",  # Whisper-style trailing off
        "I would start by looking at the.",  # a dangling article, whatever the punctuation
        "First I checked the logs and",
        "So, um,",
        "We chose it because",
        "The reason is that it’s",
    ],
)
def test_mid_thought_pauses_are_unlikely_ends(text: str) -> None:
    assert end_of_turn_probability(text) < TranscriptTurnDetector.UNLIKELY_THRESHOLD


async def test_detector_reads_the_last_user_message_and_the_language() -> None:
    from livekit.agents.language import LanguageCode

    detector = build_turn_detector("en-US")
    assert isinstance(detector, TranscriptTurnDetector)
    ctx = llm.ChatContext.empty()
    ctx.add_message(role="assistant", content="Tell me about a system you built.")
    ctx.add_message(role="user", content="I think the main problem was")
    assert await detector.predict_end_of_turn(ctx) < TranscriptTurnDetector.UNLIKELY_THRESHOLD
    ctx.add_message(role="system", content="INTERVIEW STATE (JSON): {}")
    assert await detector.predict_end_of_turn(ctx) < TranscriptTurnDetector.UNLIKELY_THRESHOLD
    for language in (None, LanguageCode("en"), LanguageCode("en-US")):  # STTs report none, "en" or "en-US"
        assert await detector.supports_language(language)
        assert await detector.unlikely_threshold(language) == TranscriptTurnDetector.UNLIKELY_THRESHOLD
    assert not await detector.supports_language(LanguageCode("de"))  # → min_delay, never a max_delay stall
    assert build_turn_detector("de") is None


def test_turn_handling_always_names_the_detector() -> None:
    # without the key, livekit-agents 1.8 silently builds its own default TurnDetector
    settings = load_settings({"SECRET_KEY": "k" * 40})
    assert turn_handling(settings) == {"endpointing": {"min_delay": 0.8, "max_delay": 6.0}, "turn_detection": None}
    detector = build_turn_detector()
    assert turn_handling(settings, turn_detector=detector)["turn_detection"] is detector


# --- the spoken pipeline ----------------------------------------------------------------------


class _Clock:
    """Session events on the monotonic clock of the microphone."""

    def __init__(self, session: AgentSession) -> None:
        self.agent: list[tuple[float, str]] = []
        self.users: list[llm.ChatMessage] = []
        session.on("agent_state_changed", lambda ev: self.agent.append((time.monotonic(), ev.new_state)))
        session.on(
            "conversation_item_added",
            lambda ev: self.users.append(ev.item) if isinstance(ev.item, llm.ChatMessage) and ev.item.role == "user" else None,
        )

    def agent_state_after(self, state: str, after: float) -> float | None:
        return next((t for t, s in self.agent if t > after and s == state), None)

    async def wait_agent(self, state: str, after: float, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while (t := self.agent_state_after(state, after)) is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"the agent did not reach {state!r} within {timeout} s")
            await asyncio.sleep(0.02)
        return t


def _speech(text: str, path: Path) -> np.ndarray:
    from tests.agent.audio_doubles import speak_to_wav, wav_to_pcm16k

    pcm = np.frombuffer(wav_to_pcm16k(speak_to_wav(text, path)), dtype=np.int16)
    voiced = np.nonzero(np.abs(pcm) > 200)[0]
    return pcm[: voiced[-1] + 1]  # ends where the voice ends: the end of speech is the end of the buffer


async def test_reply_after_finished_answers_and_not_during_a_pause(tmp_path: Path) -> None:
    pytest.importorskip("pocketsphinx", reason="pocketsphinx (requirements-dev.txt) provides the offline test STT")
    from tests.agent.audio_doubles import ESPEAK, EspeakTTS, InstantAudioOutput, PhraseSTT, SpokenAudioInput

    if ESPEAK is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")

    settings = load_settings({"SECRET_KEY": "k" * 40})
    assert (settings.endpointing_min_delay, settings.endpointing_max_delay) == (MIN_DELAY, MAX_DELAY)  # the shipped defaults
    plan = InterviewPlan(
        interview_id=uuid.uuid4(),
        candidate_name="Grace Hopper",
        role_title="Backend Engineer",
        questions=[{"id": f"q{i}", "text": f"Question {i}?", "max_follow_ups": 0} for i in range(1, 8)],
        duration_limit_seconds=3600,
    )
    phrases = [_norm(t) for t in COMPLETE] + [_norm(p) for first, _, rest in UNFINISHED for p in (first, rest)]
    speech = {p: _speech(p, tmp_path / f"{i}.wav") for i, p in enumerate([*COMPLETE, *(p for u in UNFINISHED for p in (u[0], u[2]))])}

    drained: list[float] = []
    mic = SpokenAudioInput(on_drained=lambda: drained.append(time.monotonic()))
    session: AgentSession = AgentSession(
        stt=PhraseSTT(phrases),
        llm=ScriptedLLM(),
        tts=EspeakTTS(),
        vad=build_vad(),
        turn_handling=turn_handling(settings, turn_detector=build_turn_detector(plan.language)),  # type: ignore[arg-type]
        user_away_timeout=120.0,
        max_tool_steps=5,
    )
    clock = _Clock(session)
    session.input.audio = mic
    session.output.audio = InstantAudioOutput()

    async def say(pcm: np.ndarray) -> tuple[float, float]:
        """Speak; returns (when speech started, when it ended) on the monotonic clock."""
        n = len(drained)
        mic.say(pcm.tobytes())
        started = time.monotonic()
        while len(drained) == n:
            await asyncio.sleep(0.01)
        return started, drained[-1]

    await session.start(Interviewer(plan))
    try:
        await clock.wait_agent("listening", clock.agent_state_after("speaking", 0) or 0, 30)  # after the greeting
        await asyncio.sleep(0.5)
        bound = MIN_DELAY + REPLY_ALLOWANCE

        for text in COMPLETE:
            started, ended = await say(speech[text])
            speaking = await clock.wait_agent("speaking", started, 10)
            assert clock.users[-1].text_content == _norm(text)
            waited = speaking - ended
            assert waited <= bound, f"{text!r}: the reply came {waited:.2f} s after the answer (bound {bound} s, max_delay {MAX_DELAY} s)"
            assert clock.users[-1].metrics["end_of_turn_delay"] < MIN_DELAY + 0.5, clock.users[-1].metrics
            await clock.wait_agent("listening", speaking, 10)
            await asyncio.sleep(0.5)

        for first, pause, rest in UNFINISHED:
            gap = np.zeros(int(pause * 16000), dtype=np.int16)
            started, ended = await say(np.concatenate([speech[first], gap, speech[rest]]))
            paused_at = started + len(speech[first]) / 16000
            speaking = await clock.wait_agent("speaking", started, 10)
            thinking = clock.agent_state_after("thinking", started)
            assert thinking is not None and thinking > ended, (
                f"{first!r}: the agent took the turn {thinking - paused_at if thinking else 0:.2f} s into a {pause} s pause"
            )
            assert clock.users[-1].text_content == f"{_norm(first)} {_norm(rest)}"  # one turn, the whole answer
            waited = speaking - ended
            assert waited <= bound, f"{first!r} … {rest!r}: the reply came {waited:.2f} s after the answer (bound {bound} s)"
            await clock.wait_agent("listening", speaking, 10)
            await asyncio.sleep(0.5)
    finally:
        await session.aclose()
