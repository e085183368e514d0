"""The voice pipeline without a room: espeak-ng speech → Silero VAD + offline turn detector → offline STT → Interviewer → TTS.

Checks what the worker relies on in a real room: candidate turns detected and transcribed with
timestamps, the Interviewer's tools run from speech, per-turn latency collected, and the idle
reminder when the candidate stays silent.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from livekit.agents import AgentSession

from agent.interviewer import Interviewer
from agent.providers import build_turn_detector, build_vad, turn_handling
from agent.scripted import ScriptedLLM
from agent.transcript import TranscriptCollector
from interview_app.contracts import InterviewPlan
from interview_app.settings import load_settings

pytest.importorskip("pocketsphinx", reason="pocketsphinx (requirements-dev.txt) provides the offline test STT")
from tests.agent.audio_doubles import ESPEAK, EspeakTTS, InstantAudioOutput, PhraseSTT, SpokenAudioInput, speak_to_wav, wav_to_pcm16k

pytestmark = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng is not installed (apt-get install espeak-ng)")

ANSWER = "i built a billing service in python"
REPEAT = "could you repeat the question please"


async def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


async def test_spoken_interview_turns_latency_and_idle(tmp_path: Path) -> None:
    plan = InterviewPlan(
        interview_id=uuid.uuid4(),
        candidate_name="Grace Hopper",
        role_title="Backend Engineer",
        questions=[
            {
                "id": "q1",
                "text": "Tell me about a system you built.",
                "follow_up_guidance": "Ask what their own part was.",
                "max_follow_ups": 1,
            },
            {"id": "q2", "text": "How do you debug a slow service?"},
        ],
    )
    speech = {text: wav_to_pcm16k(speak_to_wav(text, tmp_path / f"{i}.wav")) for i, text in enumerate([ANSWER, REPEAT])}
    settings = load_settings({"SECRET_KEY": "k" * 40, "ENDPOINTING_MIN_DELAY": "0.5", "ENDPOINTING_MAX_DELAY": "2.0"})
    detector = build_turn_detector()
    assert detector is not None, "the offline turn detector (livekit-local-inference) should load without network"
    mic = SpokenAudioInput()
    speaker = InstantAudioOutput()
    interviewer = Interviewer(plan)
    session: AgentSession = AgentSession(
        stt=PhraseSTT([ANSWER, REPEAT, "how much time is left"]),
        llm=ScriptedLLM(),
        tts=EspeakTTS(),
        vad=build_vad(),
        # what the worker uses: the offline end-of-turn model + interview endpointing from settings
        turn_handling=turn_handling(settings, turn_detector=detector),  # type: ignore[arg-type]
        user_away_timeout=3.0,
        max_tool_steps=5,
    )
    collector = TranscriptCollector(plan, progress=interviewer.progress, mode="voice")
    collector.attach(session)
    session.input.audio = mic
    session.output.audio = speaker

    def agent_turns() -> list[str]:
        return [s.text for s in collector.segments if s.speaker == "agent"]

    await session.start(interviewer)
    try:
        await wait_for(lambda: len(agent_turns()) == 1, 30, "the greeting")
        assert "Grace Hopper" in agent_turns()[0] and speaker.frames > 0

        mic.say(speech[ANSWER])
        await wait_for(lambda: len(agent_turns()) == 2, 30, "the follow-up")
        assert agent_turns()[1] == "Thank you. A follow-up on that: could you tell me what your own part was?"
        assert interviewer.progress.current.follow_ups_used == 1

        mic.say(speech[REPEAT])
        await wait_for(lambda: len(agent_turns()) == 3, 30, "the repeated question")
        assert agent_turns()[2] == "Of course. The question is: Tell me about a system you built."

        # silence → the session marks the candidate away → one reminder
        await wait_for(lambda: len(agent_turns()) == 4, 20, "the idle reminder")
        assert "are you still there" in agent_turns()[3]
        # still silent → a polite end
        await wait_for(lambda: interviewer.finished, 20, "the end after a second silence")
        assert "end the interview here" in agent_turns()[4]
        assert interviewer.progress.end_reason == "candidate idle"
    finally:
        await session.aclose()

    candidate = [s for s in collector.segments if s.speaker == "candidate"]
    assert [s.text for s in candidate] == [ANSWER, REPEAT]
    for seg in candidate:  # VAD timing: about the length of the spoken phrase
        assert 1000 <= seg.end_ms - seg.start_ms <= 5000, seg
    assert [s.seq for s in collector.segments] == list(range(len(collector.segments)))
    assert collector.segments[1].start_ms > collector.segments[0].start_ms

    assert len(collector.latency) == 2
    for turn in collector.latency:
        assert turn.total_ms is not None and 0 < turn.total_ms < 10000
        assert turn.end_of_turn_ms is not None and turn.end_of_turn_ms >= 400  # endpointing min_delay 0.5 s
        assert turn.llm_ttft_ms is not None and turn.tts_ttfb_ms is not None
    result = collector.build_result(outcome="completed", end_reason="test")
    assert result.latency == collector.latency and result.mode == "voice"
