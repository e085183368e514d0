"""The keyless speech server through livekit-plugins-openai: the worker's STT and TTS with no account.

Everything goes through the real plugin classes (and the worker's own ``build_stt``/``build_tts``
from settings), so a pass means a deployment pointing ``STT_BASE_URL``/``TTS_BASE_URL`` at an
OpenAI-compatible server is exercised end to end: espeak-ng speech in, exact text out, and
synthesized speech back as 24 kHz audio.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from livekit import rtc
from livekit.agents import APIConnectOptions, APIStatusError, stt
from livekit.plugins import openai

from agent.providers import build_stt, build_tts, build_vad
from interview_app.settings import Settings, load_settings

pytest.importorskip("pocketsphinx", reason="pocketsphinx (requirements-dev.txt) provides the server's offline recogniser")
from tests.agent.audio_doubles import ESPEAK, speak_to_wav, wav_to_pcm16k
from tests.fakes.openai_speech import OpenAISpeechServer

pytestmark = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng is not installed (apt-get install espeak-ng)")

ROOT = Path(__file__).resolve().parents[2]
ANSWER = "I built a billing service in Python."
REPEAT = "Could you repeat the question please?"
LATE = "can we move on"  # registered at test time


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAISpeechServer]:
    with OpenAISpeechServer(phrases=[ANSWER, REPEAT]) as s:
        yield s


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("speech")
    return {text: speak_to_wav(text, folder / f"{i}.wav") for i, text in enumerate([ANSWER, REPEAT, LATE])}


def wav_frame(path: Path) -> rtc.AudioFrame:
    """The WAV at its own rate (espeak-ng: 22.05 kHz), so the server has to resample."""
    with wave.open(str(path)) as w:
        n = w.getnframes()
        return rtc.AudioFrame(data=w.readframes(n), sample_rate=w.getframerate(), num_channels=1, samples_per_channel=n)


def silence(seconds: float, rate: int = 16000) -> rtc.AudioFrame:
    n = int(seconds * rate)
    return rtc.AudioFrame(data=b"\x00" * (2 * n), sample_rate=rate, num_channels=1, samples_per_channel=n)


def rms(frame: rtc.AudioFrame) -> float:
    samples = np.frombuffer(bytes(frame.data), dtype=np.int16).astype(np.float64)
    return float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0


def worker_settings(url: str, **extra: str) -> Settings:
    return load_settings({"SECRET_KEY": "k" * 40, "OPENAI_API_KEY": "test-key", "STT_BASE_URL": url, "TTS_BASE_URL": url, **extra})


async def synthesize(tts_: openai.TTS, text: str) -> tuple[rtc.AudioFrame, float]:
    """All audio of one synthesis, and the seconds until its first frame."""
    started, first, frames = time.perf_counter(), 0.0, []
    async for audio in tts_.synthesize(text):
        first = first or time.perf_counter() - started
        frames.append(audio.frame)
    return rtc.combine_audio_frames(frames), first


@pytest.mark.parametrize("model", [Settings.stt_model, "whisper-1"])
async def test_plugin_transcribes_spoken_phrase_exactly(server: OpenAISpeechServer, speech: dict[str, Path], model: str) -> None:
    plugin = openai.STT(base_url=server.base_url, api_key="test-key", model=model, language="en")
    # the transcriptions endpoint (json; verbose_json for whisper-1), not the realtime websocket
    assert not plugin.capabilities.streaming
    event = await plugin.recognize(wav_frame(speech[ANSWER]))
    assert event.alternatives[0].text == ANSWER
    sent = server.transcriptions[-1]
    assert (sent.model, sent.language, sent.upload_sample_rate) == (model, "en", 22050)
    assert sent.response_format == ("verbose_json" if model == "whisper-1" else "json")
    assert 1.5 < sent.audio_seconds < 4.0

    assert (await plugin.recognize(silence(1.0))).alternatives[0].text == ""


async def test_phrases_added_at_run_time_are_recognised(server: OpenAISpeechServer, speech: dict[str, Path]) -> None:
    plugin = openai.STT(base_url=server.base_url, api_key="test-key")
    assert (await plugin.recognize(wav_frame(speech[LATE]))).alternatives[0].text == ""
    server.add_phrases([LATE])
    assert (await plugin.recognize(wav_frame(speech[LATE]))).alternatives[0].text == LATE
    assert (await plugin.recognize(wav_frame(speech[REPEAT]))).alternatives[0].text == REPEAT


@pytest.mark.parametrize(("model", "response_format"), [(Settings.tts_model, None), ("tts-1", "pcm")])
async def test_plugin_synthesizes_audible_speech(server: OpenAISpeechServer, model: str, response_format: str | None) -> None:
    kwargs = {"response_format": response_format} if response_format else {}
    plugin = openai.TTS(base_url=server.base_url, api_key="test-key", model=model, voice="alloy", **kwargs)
    try:
        audio, _ = await synthesize(plugin, "Hello candidate")
    finally:
        await plugin.aclose()
    said = server.speeches[-1]
    # the plugin default is mp3 over SSE; tts-1 gets the raw byte stream
    expected = ("Hello candidate", response_format or "mp3", "audio" if model == "tts-1" else "sse")
    assert (said.input, said.response_format, said.stream_format) == expected
    assert audio.sample_rate == 24000 and audio.num_channels == 1
    assert 0.6 < audio.duration < 2.0 and abs(audio.duration - said.audio_seconds) < 0.15
    assert rms(audio) > 500


async def test_worker_settings_build_stt_and_tts_that_round_trip(server: OpenAISpeechServer) -> None:
    settings = worker_settings(server.base_url)
    speaker, listener = build_tts(settings), build_stt(settings, language="en")
    try:
        spoken, _ = await synthesize(speaker, REPEAT)  # type: ignore[arg-type]
        event = await listener.recognize(spoken)
    finally:
        await speaker.aclose()
    assert event.alternatives[0].text == REPEAT
    assert server.speeches[-1].model == settings.tts_model and server.speeches[-1].voice == settings.tts_voice
    assert server.transcriptions[-1].model == settings.stt_model and server.transcriptions[-1].upload_sample_rate == 24000


async def test_stream_adapter_gives_final_transcript_after_silence(server: OpenAISpeechServer, speech: dict[str, Path]) -> None:
    """What AgentSession does with a non-streaming STT: Silero VAD cuts the utterance, the server transcribes it."""
    adapter = stt.StreamAdapter(stt=build_stt(worker_settings(server.base_url)), vad=build_vad())
    stream = adapter.stream()
    pcm = wav_to_pcm16k(speech[ANSWER]) + bytes(2 * 24000)  # 1.5 s of silence
    for start in range(0, len(pcm), 640):  # 20 ms frames
        chunk = pcm[start : start + 640].ljust(640, b"\x00")
        stream.push_frame(rtc.AudioFrame(data=chunk, sample_rate=16000, num_channels=1, samples_per_channel=320))
    stream.end_input()
    events = [event async for event in stream]
    await stream.aclose()
    kinds = [e.type for e in events]
    assert kinds == [stt.SpeechEventType.START_OF_SPEECH, stt.SpeechEventType.END_OF_SPEECH, stt.SpeechEventType.FINAL_TRANSCRIPT]
    assert events[-1].alternatives[0].text == ANSWER


async def test_fixed_delays_and_api_key(speech: dict[str, Path]) -> None:
    with OpenAISpeechServer(phrases=[ANSWER], stt_delay=0.4, tts_delay=0.3, api_key="secret-key") as keyed:
        refused = openai.STT(base_url=keyed.base_url, api_key="wrong-key")
        with pytest.raises(APIStatusError) as err:
            await refused.recognize(wav_frame(speech[ANSWER]), conn_options=APIConnectOptions(max_retry=0))
        assert err.value.status_code == 401 and "API key" in str(err.value.body)

        plugin = openai.STT(base_url=keyed.base_url, api_key="secret-key")
        started = time.perf_counter()
        assert (await plugin.recognize(wav_frame(speech[ANSWER]))).alternatives[0].text == ANSWER
        assert time.perf_counter() - started >= 0.4

        speaker = openai.TTS(base_url=keyed.base_url, api_key="secret-key", response_format="pcm")
        try:
            _, first = await synthesize(speaker, "Hello candidate")
        finally:
            await speaker.aclose()
        assert first >= 0.3
        assert keyed.speeches[-1].first_byte_at - keyed.speeches[-1].received_at >= 0.3


def test_unserved_paths_answer_like_openai(server: OpenAISpeechServer) -> None:
    for path in ("/realtime?intent=transcription", "/embeddings"):
        request = urllib.request.Request(server.base_url + path, data=b"{}", method="POST")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(request, timeout=5)
        assert err.value.code == 404
        assert json.loads(err.value.read())["error"]["message"]


async def test_chat_completions_answer_like_the_text_fake(server: OpenAISpeechServer) -> None:
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=server.base_url, api_key="test-key")
    messages = [{"role": "user", "content": "a billing service"}]
    stream = await client.chat.completions.create(model="fake", messages=messages, stream=True)  # type: ignore[arg-type]
    text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream])
    await client.close()
    assert text.startswith("Thank you for telling me about a billing service")


def test_started_by_hand_prints_base_url(tmp_path: Path) -> None:
    phrases = tmp_path / "phrases.txt"
    phrases.write_text("hello there\ngood morning\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.openai_speech", "--port", "0", "--phrase", "thank you", "--phrases-file", str(phrases)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        with urllib.request.urlopen(base_url + "/models", timeout=5) as resp:
            assert "gpt-4o-mini-transcribe" in {m["id"] for m in json.loads(resp.read())["data"]}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
