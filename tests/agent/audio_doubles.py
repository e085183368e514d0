"""Real, offline audio components for the voice-path test (no room, no keys, no downloads).

- ``SpokenAudioInput``: a microphone that plays 16 kHz speech when told and silence otherwise,
  paced in real time like a room track.
- ``PhraseSTT``: PocketSphinx (model ships in the wheel) restricted to a JSGF grammar of the
  phrases a test speaks, so recognition of espeak-ng speech is exact.
- ``EspeakTTS``: espeak-ng (system package) as a non-streaming TTS.
- ``InstantAudioOutput``: an audio sink that "plays" instantly and reports playback like a room.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
import wave
from collections import deque
from collections.abc import Callable
from pathlib import Path

import numpy as np
from livekit import rtc
from livekit.agents import APIConnectOptions, stt, tts
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr
from livekit.agents.utils import AudioBuffer, shortuuid
from livekit.agents.voice.io import AudioInput, AudioOutput, AudioOutputCapabilities

RATE = 16000
ESPEAK = shutil.which("espeak-ng")


def _resample(samples: np.ndarray, rate: int, target: int = RATE) -> np.ndarray:
    if rate == target:
        return samples
    n = int(len(samples) * target / rate)
    return np.interp(np.linspace(0, len(samples) - 1, n), np.arange(len(samples)), samples.astype(np.float32)).astype(np.int16)


def _wav_pcm(data: bytes) -> tuple[np.ndarray, int]:
    """PCM samples and rate of espeak-ng's WAV (its streamed header may carry a bogus size)."""
    rate = int.from_bytes(data[24:28], "little")
    start = data.find(b"data") + 8
    return np.frombuffer(data[start : start + (len(data) - start) // 2 * 2], dtype=np.int16), rate


def speak_to_wav(text: str, path: Path) -> Path:
    """Synthesize ``text`` with espeak-ng into a WAV file."""
    import subprocess

    subprocess.run([ESPEAK or "espeak-ng", "-v", "en-us", "-s", "150", "-w", str(path), text], check=True, timeout=30)
    return path


def wav_to_pcm16k(path: Path) -> bytes:
    with wave.open(str(path)) as w:
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        return _resample(samples, w.getframerate()).tobytes()


class SpokenAudioInput(AudioInput):
    """A paced microphone: ``say()`` queues speech, silence fills the gaps, one frame per ``frame_ms``.

    livekit-agents' room input hands the session 50 ms frames (``AudioInputOptions.frame_size_ms``);
    the tests use 20 ms, the benchmarks pass 50 to match production.
    """

    def __init__(self, frame_ms: int = 20, on_drained: Callable[[], None] | None = None) -> None:
        super().__init__(label="spoken-wav")
        self._pending: deque[bytes] = deque()
        self._next_at: float | None = None
        self._frame_samples = RATE * frame_ms // 1000
        self._on_drained = on_drained  # called when the last queued speech has been sent

    def say(self, pcm16k: bytes) -> None:
        self._pending.append(pcm16k)

    def delay(self, seconds: float) -> None:
        """Send the next frame ``seconds`` late (and every later one): shifts the frame clock."""
        if self._next_at is not None:
            self._next_at += seconds

    @property
    def speaking(self) -> bool:
        return bool(self._pending)

    async def __anext__(self) -> rtc.AudioFrame:
        now = time.monotonic()
        self._next_at = now if self._next_at is None else self._next_at
        if self._next_at > now:
            await asyncio.sleep(self._next_at - now)
        self._next_at += self._frame_samples / RATE
        size = self._frame_samples * 2
        if self._pending:
            chunk, rest = self._pending[0][:size], self._pending[0][size:]
            if rest:
                self._pending[0] = rest
            else:
                self._pending.popleft()
                if not self._pending and self._on_drained is not None:
                    self._on_drained()
            chunk = chunk.ljust(size, b"\x00")
        else:
            chunk = b"\x00" * size
        return rtc.AudioFrame(data=chunk, sample_rate=RATE, num_channels=1, samples_per_channel=self._frame_samples)


class PhraseSTT(stt.STT):
    def __init__(self, phrases: list[str]) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))
        from pocketsphinx import Decoder

        grammar = "#JSGF V1.0;\ngrammar phrases;\npublic <utt> = " + " | ".join(p.lower() for p in phrases) + ";\n"
        self._decoder = Decoder(samprate=RATE, lm=None)
        self._decoder.add_jsgf_string("phrases", grammar)
        self._decoder.activate_search("phrases")
        self._lock = threading.Lock()

    @property
    def model(self) -> str:
        return "pocketsphinx-phrases"

    def _decode(self, pcm: bytes) -> str:
        with self._lock:
            self._decoder.start_utt()
            self._decoder.process_raw(pcm, full_utt=True)
            self._decoder.end_utt()
            hyp = self._decoder.hyp()
            return hyp.hypstr if hyp else ""

    async def _recognize_impl(
        self, buffer: AudioBuffer, *, language: NotGivenOr[str] = NOT_GIVEN, conn_options: APIConnectOptions
    ) -> stt.SpeechEvent:
        frame = rtc.combine_audio_frames(buffer)
        samples = np.frombuffer(bytes(frame.data), dtype=np.int16)
        if frame.num_channels > 1:
            samples = samples.reshape(-1, frame.num_channels)[:, 0]
        text = await asyncio.to_thread(self._decode, _resample(samples, frame.sample_rate).tobytes())
        return stt.SpeechEvent(type=stt.SpeechEventType.FINAL_TRANSCRIPT, alternatives=[stt.SpeechData(language="en", text=text)])


class EspeakTTS(tts.TTS):
    def __init__(self) -> None:
        super().__init__(capabilities=tts.TTSCapabilities(streaming=False), sample_rate=22050, num_channels=1)

    @property
    def model(self) -> str:
        return "espeak-ng"

    def synthesize(self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS) -> tts.ChunkedStream:
        return _EspeakStream(tts=self, input_text=text, conn_options=conn_options)


class _EspeakStream(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        proc = await asyncio.create_subprocess_exec(
            ESPEAK or "espeak-ng", "-v", "en-us", "-s", "175", "--stdout", self.input_text, stdout=asyncio.subprocess.PIPE
        )
        data, _ = await proc.communicate()
        samples, rate = _wav_pcm(data)
        output_emitter.initialize(request_id=shortuuid("espeak_"), sample_rate=rate, num_channels=1, mime_type="audio/pcm")
        output_emitter.push(samples.tobytes())
        output_emitter.flush()


class InstantAudioOutput(AudioOutput):
    """Accepts agent audio and reports it played as soon as the segment is flushed."""

    def __init__(self) -> None:
        super().__init__(label="instant", next_in_chain=None, sample_rate=None, capabilities=AudioOutputCapabilities(pause=False))
        self._pushed = 0.0
        self.frames = 0

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if not self._pushed:
            self.on_playback_started(created_at=time.time())
        self._pushed += frame.duration
        self.frames += 1

    def flush(self) -> None:
        super().flush()
        if self._pushed:
            pushed, self._pushed = self._pushed, 0.0
            asyncio.get_event_loop().call_soon(
                lambda: self.on_playback_finished(playback_position=pushed, interrupted=False, synchronized_transcript=None)
            )

    def clear_buffer(self) -> None:
        if self._pushed:
            pushed, self._pushed = self._pushed, 0.0
            self.on_playback_finished(playback_position=pushed, interrupted=True, synchronized_transcript=None)
