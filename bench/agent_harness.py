"""Driving an agent through its audio path without a room, with providers of fixed, known delays (P1, P4).

Speech (espeak-ng, synthesized once) goes in through a paced microphone (tests/agent/audio_doubles) in
50 ms frames, the size livekit-agents' room input delivers in production,
Silero VAD + the session's endpointing detect the end of the turn, and:
- ``FixedDelaySTT`` returns the final transcript ``d1`` after it is asked,
- ``FixedDelayLLM`` sends its whole reply ``d2`` after it is asked (first token = last token),
- ``FixedDelayTTS`` emits its first audio ``d3`` after it is asked,
and a capturing audio output notes when the first agent frame arrives. Turn latency is measured
from the VAD's end-of-speech event (``user_state_changed`` → listening) to that first frame.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from livekit import rtc
from livekit.agents import Agent, AgentSession, APIConnectOptions, llm, stt, tts, vad
from livekit.agents.llm import ChatChunk, ChoiceDelta
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr
from livekit.agents.utils import AudioBuffer, shortuuid

from interview_app.contracts import InterviewPlan
from tests.agent.audio_doubles import InstantAudioOutput, SpokenAudioInput, speak_to_wav, wav_to_pcm16k

ANSWER = "I built a billing service in Python"
REPLY = "Thank you. Could you tell me what your own part in that was?"
ENDPOINTING_MIN_DELAY = 0.3  # seconds of silence after the VAD's end of speech before the turn ends
_PHASE = random.Random(50)  # frame-clock shifts before each answer (one_turn)
FRAME_MS = 50  # microphone frame size: what livekit-agents' room input delivers (AudioInputOptions.frame_size_ms)


@dataclass(frozen=True)
class Delays:
    stt: float = 0.10  # d1: final transcript after the turn's audio is handed over
    llm: float = 0.20  # d2: first token
    tts: float = 0.10  # d3: first audio byte

    @property
    def total(self) -> float:
        return self.stt + self.llm + self.tts


class FixedDelaySTT(stt.STT):
    def __init__(self, delay: float) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))
        self._delay = delay

    @property
    def model(self) -> str:
        return "fixed-delay"

    async def _recognize_impl(
        self, buffer: AudioBuffer, *, language: NotGivenOr[str] = NOT_GIVEN, conn_options: APIConnectOptions
    ) -> stt.SpeechEvent:
        await asyncio.sleep(self._delay)
        return stt.SpeechEvent(type=stt.SpeechEventType.FINAL_TRANSCRIPT, alternatives=[stt.SpeechData(language="en", text=ANSWER)])


class FixedDelayLLM(llm.LLM):
    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    @property
    def model(self) -> str:
        return "fixed-delay"

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        return _FixedStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)


class _FixedStream(llm.LLMStream):
    async def _run(self) -> None:
        await asyncio.sleep(self._llm.delay)  # type: ignore[attr-defined]
        self._event_ch.send_nowait(ChatChunk(id=shortuuid("fixed_"), delta=ChoiceDelta(role="assistant", content=REPLY)))


class FixedDelayTTS(tts.TTS):
    RATE = 24000

    def __init__(self, delay: float) -> None:
        super().__init__(capabilities=tts.TTSCapabilities(streaming=False), sample_rate=self.RATE, num_channels=1)
        self.delay = delay
        t = np.arange(int(self.RATE * 0.3)) / self.RATE
        self.pcm = (np.sin(2 * np.pi * 220 * t) * 3000).astype(np.int16).tobytes()  # 300 ms tone

    @property
    def model(self) -> str:
        return "fixed-delay"

    def synthesize(self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS) -> tts.ChunkedStream:
        return _FixedChunked(tts=self, input_text=text, conn_options=conn_options)


class _FixedChunked(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        owner: FixedDelayTTS = self._tts  # type: ignore[assignment]
        await asyncio.sleep(owner.delay)
        output_emitter.initialize(request_id=shortuuid("fixed_"), sample_rate=owner.RATE, num_channels=1, mime_type="audio/pcm")
        output_emitter.push(owner.pcm)
        output_emitter.flush()


class StampedOutput(InstantAudioOutput):
    """Notes the time of the first agent frame after ``arm()`` (and calls ``on_first_frame``)."""

    def __init__(self, on_first_frame: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.first_frame_at: float | None = None
        self._armed = False
        self._on_first_frame = on_first_frame

    def arm(self) -> None:
        self.first_frame_at, self._armed = None, True

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        if self._armed and self.first_frame_at is None:
            self.first_frame_at = time.perf_counter()
            if self._on_first_frame is not None:
                self._on_first_frame()
        await super().capture_frame(frame)


@dataclass
class Voice:
    """One conversation's microphone, speaker, session and the end-of-speech times the VAD reported."""

    session: AgentSession
    mic: SpokenAudioInput
    speaker: StampedOutput
    vad_end_at: list[float] = field(default_factory=list)
    agent_state: str = "initializing"
    #: set whenever something ``one_turn`` waits for may have changed (state, end of speech, frames)
    changed: asyncio.Event = field(default_factory=asyncio.Event)


def speech_pcm(workdir: Path) -> bytes:
    return wav_to_pcm16k(speak_to_wav(ANSWER, workdir / "answer.wav"))


def plan() -> InterviewPlan:
    return InterviewPlan(
        interview_id=uuid.uuid4(),
        candidate_name="Grace Hopper",
        role_title="Backend Engineer",
        duration_limit_seconds=4 * 3600,
        questions=[{"id": f"q{i}", "text": f"Question {i}?", "max_follow_ups": 0} for i in range(1, 6)],
    )


def bare_agent() -> Agent:
    return Agent(instructions="You are an interviewer. Ask one question at a time.")


def interviewer() -> Agent:
    from agent.interviewer import Interviewer

    return Interviewer(plan())


async def open_voice(agent: Agent, delays: Delays, vad_model: vad.VAD, *, turn_detection: str | None = None) -> Voice:
    """An open session speaking through a paced microphone.

    ``turn_detection``: None keeps livekit-agents' default end-of-turn model (the local
    ``turn-detector-v1-mini``, as agent/providers.py's worker uses); ``"vad"`` ends turns on the
    VAD's silence plus endpointing only.
    """
    turn_handling: dict[str, Any] = {"endpointing": {"min_delay": ENDPOINTING_MIN_DELAY, "max_delay": ENDPOINTING_MIN_DELAY}}
    if turn_detection is not None:
        turn_handling["turn_detection"] = turn_detection
    session: AgentSession = AgentSession(
        stt=FixedDelaySTT(delays.stt),
        llm=FixedDelayLLM(delays.llm),
        tts=FixedDelayTTS(delays.tts),
        vad=vad_model,
        turn_handling=turn_handling,  # type: ignore[arg-type]
        user_away_timeout=None,
    )
    changed = asyncio.Event()
    voice = Voice(
        session, SpokenAudioInput(frame_ms=FRAME_MS, on_drained=changed.set), StampedOutput(on_first_frame=changed.set), changed=changed
    )
    session.input.audio = voice.mic
    session.output.audio = voice.speaker

    def on_user_state(ev: Any) -> None:
        if ev.old_state == "speaking" and ev.new_state == "listening":
            voice.vad_end_at.append(time.perf_counter())
            changed.set()

    def on_agent_state(ev: Any) -> None:
        voice.agent_state = ev.new_state
        changed.set()

    session.on("user_state_changed", on_user_state)
    session.on("agent_state_changed", on_agent_state)
    await session.start(agent)
    # The Interviewer greets first: let the greeting (LLM d2 + TTS d3, played instantly) pass.
    await asyncio.sleep(max(1.0, 2 * delays.total))
    await wait_until(voice, lambda: voice.agent_state == "listening", 20.0)
    return voice


async def wait_until(voice: Voice, predicate: Callable[[], bool], timeout: float) -> bool:
    """Wait until ``predicate()`` holds, waking only when the voice signals a change.

    Event-driven rather than polled: 100 sessions polling every 10 ms were 10 000 wake-ups a
    second of the benchmark's own, charged to the process it measures (P4).
    """
    deadline = time.monotonic() + timeout
    while not predicate():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        voice.changed.clear()
        if predicate():
            break
        try:
            await asyncio.wait_for(voice.changed.wait(), remaining)
        except TimeoutError:
            return predicate()
    return True


async def one_turn(voice: Voice, pcm: bytes, timeout: float = 20.0) -> float | None:
    """Speak once; seconds from the VAD's end of speech to the first agent frame (None on timeout)."""
    if not await wait_until(voice, lambda: voice.agent_state == "listening" and not voice.mic.speaking, timeout):
        return None
    await asyncio.sleep(0.3)  # let the previous reply's playback settle
    # A random shift of this microphone's 50 ms frame clock before each answer: otherwise the
    # phase between two sessions' frame clocks is fixed for a whole run, and whether the other
    # session's frame (and its VAD inference) lands inside this turn's reply pipeline biases one
    # session's overhead by 1-2 ms for the run — in either direction from run to run (P1).
    voice.mic.delay(_PHASE.uniform(0, FRAME_MS / 1000))
    ends = len(voice.vad_end_at)
    voice.speaker.arm()
    voice.mic.say(pcm)
    if not await wait_until(voice, lambda: voice.speaker.first_frame_at is not None and len(voice.vad_end_at) > ends, timeout):
        return None
    return voice.speaker.first_frame_at - voice.vad_end_at[ends]  # type: ignore[operator]


class EnergyVAD(vad.VAD):
    """A deterministic VAD for density runs: a 20 ms frame is speech when its RMS exceeds a threshold.

    Silero costs ≈ 1 ms of CPU per 32 ms window per session; a hundred sessions on two cores would
    measure Silero, not the agent. This one costs microseconds, and like Silero it reports the end
    of speech after ``min_silence`` of quiet.
    """

    def __init__(self, *, threshold: float = 500.0, min_speech: float = 0.1, min_silence: float = 0.55) -> None:
        super().__init__(capabilities=vad.VADCapabilities(update_interval=0.02))
        self.threshold, self.min_speech, self.min_silence = threshold, min_speech, min_silence

    @property
    def model(self) -> str:
        return "energy"

    @property
    def provider(self) -> str:
        return "bench"

    def stream(self) -> vad.VADStream:
        return _EnergyStream(self)


class _EnergyStream(vad.VADStream):
    async def _main_task(self) -> None:
        # Per frame: one dot product on the frame's own buffer (no copy, no numpy reductions with
        # their Python-level wrappers) — ≈ 5 µs where np.sqrt(np.mean(x * x)) on a copy took ≈ 28 µs,
        # a quarter of an idle session's CPU at N=100 (bench/README.md, P4).
        owner: EnergyVAD = self._vad  # type: ignore[assignment]
        speaking = False
        speech = silence = speech_run = silence_run = timestamp = 0.0
        samples = 0
        padding: deque[rtc.AudioFrame] = deque(maxlen=11)  # a little audio before the speech
        buffered: list[rtc.AudioFrame] = []
        threshold_sq = owner.threshold * owner.threshold
        event_ch, frame_type = self._event_ch, rtc.AudioFrame
        async for frame in self._input_ch:
            if not isinstance(frame, frame_type):
                continue  # flush sentinel
            t0 = time.perf_counter()
            pcm = np.frombuffer(frame.data, dtype=np.int16).astype(np.float32)
            loud = pcm.size > 0 and float(np.dot(pcm, pcm)) > threshold_sq * pcm.size
            duration = frame.samples_per_channel / frame.sample_rate
            samples += frame.samples_per_channel
            timestamp += duration
            if loud:
                speech_run += duration
                silence_run = 0.0
            else:
                silence_run += duration
                speech_run = 0.0
            if speaking:
                speech += duration
                buffered.append(frame)
            else:
                silence += duration
                padding.append(frame)
            event_ch.send_nowait(
                vad.VADEvent(
                    type=vad.VADEventType.INFERENCE_DONE,
                    samples_index=samples,
                    timestamp=timestamp,
                    silence_duration=silence,
                    speech_duration=speech,
                    probability=1.0 if loud else 0.0,
                    inference_duration=time.perf_counter() - t0,
                    frames=[frame],
                    speaking=speaking,
                    raw_accumulated_silence=silence_run,
                    raw_accumulated_speech=speech_run,
                )
            )
            if not speaking and speech_run >= owner.min_speech:
                speaking, speech, silence = True, speech_run, 0.0
                buffered = list(padding)
                padding.clear()
                event_ch.send_nowait(
                    vad.VADEvent(
                        type=vad.VADEventType.START_OF_SPEECH,
                        samples_index=samples,
                        timestamp=timestamp,
                        silence_duration=0.0,
                        speech_duration=speech,
                        frames=[rtc.combine_audio_frames(buffered)],
                        speaking=True,
                    )
                )
            elif speaking and silence_run >= owner.min_silence:
                speaking = False
                event_ch.send_nowait(
                    vad.VADEvent(
                        type=vad.VADEventType.END_OF_SPEECH,
                        samples_index=samples,
                        timestamp=timestamp,
                        silence_duration=silence_run,
                        speech_duration=max(0.0, speech - silence_run),
                        frames=[rtc.combine_audio_frames(buffered)],
                        speaking=False,
                    )
                )
                speech, silence, buffered = 0.0, silence_run, []
