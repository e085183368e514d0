"""A keyless OpenAI-compatible speech server on 127.0.0.1 — a test double, not a speech service.

The voice worker talks to it through the same ``livekit-plugins-openai`` code a production
deployment uses (``STT_BASE_URL`` / ``TTS_BASE_URL`` = ``server.base_url``, any API key).
Recognition is PocketSphinx restricted to the phrases the test registered (``PhraseSTT``'s
grammar), so espeak-ng speech of a registered phrase comes back exactly, and anything else
(silence, noise, unregistered speech) comes back as empty text. Speech is espeak-ng.

What livekit-plugins-openai 1.8.9 sends, and what this server answers:

- ``POST /v1/audio/transcriptions`` (``STT._recognize_impl``, every model except the
  realtime-only ``gpt-realtime-whisper*`` / ``gpt-live-transcribe*``): multipart form with
  ``file`` (``file.wav``, ``audio/wav``, 16-bit PCM at the frames' own rate), ``model``,
  ``language``, ``response_format`` = ``json`` (``verbose_json`` for ``whisper-1``), optionally
  ``prompt``, ``temperature``, ``languages[]``, ``keywords[]``. Answer: ``{"text": ...}``
  (verbose_json adds language/duration/segments; ``text``/``srt``/``vtt`` get plain text).
  Any upload PyAV can decode is accepted and resampled to 16 kHz.
- ``POST /v1/audio/speech`` (``TTS.ChunkedStream``): JSON ``{input, model, voice,
  response_format (plugin default "mp3"), speed, stream_format}``; ``stream_format`` is ``"sse"``
  except for ``tts-1``/``tts-1-hd`` (``"audio"``). Answer, like OpenAI: chunked
  ``text/event-stream`` of ``speech.audio.delta`` events (base64 of the encoded audio) and one
  ``speech.audio.done``, or for ``audio`` the encoded bytes themselves with their Content-Type.
  Audio is 24 kHz mono (what the plugin decodes at) in pcm (s16le), wav, mp3, opus, aac or flac.
- ``POST /v1/chat/completions``: the replies of ``tests/text/fake_openai.py``, so one base URL
  can serve ``LLM_PROVIDER=openai`` too.
- ``/v1/realtime`` (the websocket path) is not served: 404 with a sentence saying so.

Usage::

    with OpenAISpeechServer(phrases=["i built a billing service"]) as server:
        ...  # STT_BASE_URL=TTS_BASE_URL=server.base_url
        server.transcriptions[-1].text, server.speeches[-1].input

By hand: ``python -m tests.fakes.openai_speech --port 8765 --phrase "hello there"``.
"""

from __future__ import annotations

import argparse
import base64
import email.parser
import email.policy
import io
import json
import re
import subprocess
import threading
import time
import uuid
import wave
from dataclasses import dataclass, field
from fractions import Fraction
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import av
import numpy as np

from tests.agent.audio_doubles import ESPEAK, RATE, PhraseSTT
from tests.fakes.http_server import ServedInThread
from tests.text.fake_openai import FakeOpenAI

TTS_RATE = 24000  # OpenAI's speech output rate; livekit-plugins-openai decodes at 24 kHz mono
ESPEAK_WPM = 170
REALTIME_ONLY_STT_MODELS = ("gpt-realtime-whisper", "gpt-live-transcribe")
SERVED_MODELS = ("gpt-4o-mini-transcribe", "gpt-4o-transcribe", "whisper-1", "gpt-4o-mini-tts", "tts-1", "tts-1-hd")
# response_format -> (PyAV container, codec, Content-Type); pcm and wav are written directly
_ENCODED = {
    "mp3": ("mp3", "mp3", "audio/mpeg"),
    "opus": ("ogg", "libopus", "audio/opus"),
    "aac": ("adts", "aac", "audio/aac"),
    "flac": ("flac", "flac", "audio/flac"),
}
_CHUNK = 4800  # bytes per streamed chunk (100 ms of 24 kHz pcm)


@dataclass
class TranscriptionRequest:
    """One ``/audio/transcriptions`` call: what was uploaded and what the server answered."""

    received_at: float
    model: str
    language: str
    response_format: str
    audio_seconds: float = 0.0
    upload_sample_rate: int = 0
    text: str = ""
    answered_at: float = 0.0
    status: int = 200


@dataclass
class SpeechRequest:
    """One ``/audio/speech`` call: the text spoken, the format asked for, when audio left."""

    received_at: float
    model: str
    voice: str
    input: str
    response_format: str
    stream_format: str
    audio_seconds: float = 0.0
    first_byte_at: float = 0.0
    done_at: float = 0.0
    status: int = 200


@dataclass
class _Upload:
    fields: dict[str, list[str]] = field(default_factory=dict)
    file: bytes = b""

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default


class _OpenAIError(Exception):
    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code = status, message, type_, code

    def body(self) -> bytes:
        return json.dumps({"error": {"message": self.message, "type": self.type, "param": None, "code": self.code}}).encode()


def normalize_phrase(text: str) -> str:
    """The words PocketSphinx can match: lower case, letters and apostrophes only."""
    return " ".join(re.sub(r"[^a-z' ]+", " ", text.lower()).split())


def decode_to_pcm16k(data: bytes) -> tuple[bytes, int]:
    """Mono s16le at 16 kHz, and the upload's own sample rate, from any file PyAV can read."""
    if not data:
        return b"", 0
    out = bytearray()
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        source_rate = stream.rate or 0
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        for frame in container.decode(stream):
            for resampled in resampler.resample(frame):
                out += resampled.to_ndarray().tobytes()
        for resampled in resampler.resample(None):
            out += resampled.to_ndarray().tobytes()
    return bytes(out), source_rate


def espeak_pcm24k(text: str, speed: float = 1.0) -> bytes:
    """espeak-ng speech of ``text`` as mono s16le at 24 kHz."""
    wpm = str(max(80, min(450, round(ESPEAK_WPM * speed))))
    data = subprocess.run(
        [ESPEAK or "espeak-ng", "-v", "en-us", "-s", wpm, "--stdout", text], check=True, capture_output=True, timeout=30
    ).stdout
    # espeak-ng's streamed WAV header carries a bogus size: take the rate and everything after "data"
    rate = int.from_bytes(data[24:28], "little")
    start = data.find(b"data") + 8
    samples = np.frombuffer(data[start : start + (len(data) - start) // 2 * 2], dtype=np.int16)
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="s16", layout="mono", rate=TTS_RATE)
    out = bytearray()
    for resampled in [*resampler.resample(frame), *resampler.resample(None)]:
        out += resampled.to_ndarray().tobytes()
    return bytes(out)


def encode_speech(pcm: bytes, response_format: str) -> tuple[bytes, str]:
    """Encoded audio and its Content-Type for an OpenAI ``response_format``."""
    if response_format == "pcm":
        return pcm, "audio/pcm"
    if response_format == "wav":
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(TTS_RATE)
            w.writeframes(pcm)
        return buf.getvalue(), "audio/wav"
    if response_format not in _ENCODED:
        raise _OpenAIError(400, f"response_format {response_format!r} is not one of mp3, opus, aac, flac, wav, pcm.")
    container_format, codec, content_type = _ENCODED[response_format]
    buf = io.BytesIO()
    with av.open(buf, "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=TTS_RATE, layout="mono")
        stream.bit_rate = 128000  # libmp3lame defaults to 32 kb/s at 24 kHz, which loses words
        frame_samples = stream.codec_context.frame_size or 1024
        samples = np.frombuffer(pcm, dtype=np.int16)
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout="mono", rate=TTS_RATE)
        for start in range(0, len(samples), frame_samples):
            chunk = samples[start : start + frame_samples]
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = TTS_RATE, start, Fraction(1, TTS_RATE)
            for converted in resampler.resample(frame):
                container.mux(stream.encode(converted))
        container.mux(stream.encode(None))
    return buf.getvalue(), content_type


class OpenAISpeechServer(ServedInThread):
    """OpenAI-compatible transcription and speech on 127.0.0.1, keyless unless ``api_key`` is set.

    Args:
        phrases: what the recogniser may hear (more with ``add_phrases``); recognised text is the
            phrase as registered, so punctuation and case survive.
        stt_delay: a transcription is answered no sooner than this many seconds after the upload
            arrived (recognition runs inside the delay), for benchmarks with a fixed-delay provider.
        tts_delay: the same for the first byte of synthesized speech.
        api_key: when set, requests without ``Authorization: Bearer <api_key>`` get a 401.
        port: 0 picks a free port.
    """

    def __init__(
        self, phrases: list[str] | None = None, stt_delay: float = 0.0, tts_delay: float = 0.0, api_key: str | None = None, port: int = 0
    ) -> None:
        self.stt_delay = stt_delay
        self.tts_delay = tts_delay
        self.api_key = api_key
        self.transcriptions: list[TranscriptionRequest] = []
        self.speeches: list[SpeechRequest] = []
        self.chat_requests: list[dict[str, Any]] = []
        self._port = port
        self._phrases: dict[str, str] = {}  # normalized -> as registered
        self._recognizer: PhraseSTT | None = None
        self._lock = threading.Lock()
        self._chat = FakeOpenAI(word_delay=0.0)  # only its replies; it is never started
        self.add_phrases(phrases or [])

    # -- phrases ---------------------------------------------------------
    @property
    def phrases(self) -> list[str]:
        return list(self._phrases.values())

    def add_phrases(self, phrases: list[str]) -> None:
        """Let the recogniser hear these phrases too (tests generate speech at test time)."""
        with self._lock:
            new = {normalize_phrase(p): p.strip() for p in phrases if normalize_phrase(p) and normalize_phrase(p) not in self._phrases}
            if not new:
                return
            merged = {**self._phrases, **new}
            try:
                recognizer = PhraseSTT(list(merged))
            except Exception as err:
                raise ValueError(
                    f"PocketSphinx could not build a grammar from {list(new.values())!r} ({err}); "
                    "use dictionary words only (spell numbers out)"
                ) from err
            self._phrases, self._recognizer = merged, recognizer

    def recognize_pcm16k(self, pcm: bytes) -> str:
        """The registered phrase heard in 16 kHz mono s16le audio, or "" for anything else."""
        with self._lock:
            recognizer = self._recognizer
            if recognizer is None or not pcm:
                return ""
            heard = normalize_phrase(recognizer._decode(pcm))
            return self._phrases.get(heard, "")

    # -- lifecycle -------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> OpenAISpeechServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # TCP_NODELAY + a buffered writer: each response part leaves in one segment instead of
            # waiting for the client's delayed ACK (≈ 40 ms) behind Nagle on a keep-alive connection.
            disable_nagle_algorithm = True
            wbufsize = 1 << 16

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                fake._handle(self)

            def do_GET(self) -> None:
                fake._handle(self)

        return self._serve(Handler, name="fake-openai-speech", port=self._port)

    # -- HTTP ------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        received_at = time.time()
        path = h.path.split("?")[0].rstrip("/")
        try:
            body = _read_body(h)
            if self.api_key is not None and h.headers.get("Authorization", "") != f"Bearer {self.api_key}":
                raise _OpenAIError(401, "Incorrect API key provided; send Authorization: Bearer <OPENAI_API_KEY>.", code="invalid_api_key")
            if h.command == "POST" and path == "/v1/audio/transcriptions":
                self._transcribe(h, body, received_at)
            elif h.command == "POST" and path == "/v1/audio/speech":
                self._speak(h, body, received_at)
            elif h.command == "POST" and path == "/v1/chat/completions":
                self._chat_completion(h, body)
            elif h.command == "GET" and path == "/v1/models":
                models = [{"id": m, "object": "model", "owned_by": "fake"} for m in SERVED_MODELS]
                _send(h, 200, json.dumps({"object": "list", "data": models}).encode())
            elif path == "/v1/realtime":
                raise _OpenAIError(
                    404,
                    "This fake serves transcription over HTTP only (/v1/audio/transcriptions), not the realtime websocket; "
                    f"use an STT model other than {' / '.join(REALTIME_ONLY_STT_MODELS)}, e.g. gpt-4o-mini-transcribe.",
                    code="not_found",
                )
            else:
                raise _OpenAIError(
                    404, f"Unknown endpoint {h.command} {path}: this fake serves /v1/audio/transcriptions and /v1/audio/speech."
                )
        except _OpenAIError as err:
            _send(h, err.status, err.body())

    def _transcribe(self, h: BaseHTTPRequestHandler, body: bytes, received_at: float) -> None:
        upload = _parse_multipart(h.headers.get("Content-Type", ""), body)
        record = TranscriptionRequest(
            received_at=received_at,
            model=upload.get("model"),
            language=upload.get("language"),
            response_format=upload.get("response_format", "json"),
        )
        self.transcriptions.append(record)
        try:
            if not upload.file:
                raise _OpenAIError(400, "No audio: send the recording as the multipart field 'file'.")
            if not record.model:
                raise _OpenAIError(400, "Missing the multipart field 'model' (e.g. gpt-4o-mini-transcribe).")
            try:
                pcm, record.upload_sample_rate = decode_to_pcm16k(upload.file)
            except (av.error.FFmpegError, IndexError) as err:
                raise _OpenAIError(400, f"The uploaded file is not audio this server can decode ({err}); send WAV.") from err
            record.audio_seconds = len(pcm) / 2 / RATE
            record.text = self.recognize_pcm16k(pcm)
            payload, content_type = _transcription_body(record)
        except _OpenAIError as err:
            record.status = err.status
            raise
        _sleep_until(received_at + self.stt_delay)
        record.answered_at = time.time()
        _send(h, 200, payload, content_type)

    def _speak(self, h: BaseHTTPRequestHandler, body: bytes, received_at: float) -> None:
        try:
            request = json.loads(body or b"{}")
        except json.JSONDecodeError as err:
            raise _OpenAIError(400, f"The request body is not JSON ({err}).") from err
        record = SpeechRequest(
            received_at=received_at,
            model=str(request.get("model", "")),
            voice=str(request.get("voice", "")),
            input=str(request.get("input", "")),
            response_format=str(request.get("response_format") or "mp3"),
            stream_format=str(request.get("stream_format") or "audio"),
        )
        self.speeches.append(record)
        try:
            if not record.input.strip():
                raise _OpenAIError(400, "Missing 'input': the text to speak.")
            if record.stream_format not in ("sse", "audio"):
                raise _OpenAIError(400, f"stream_format {record.stream_format!r} is not 'sse' or 'audio'.")
            pcm = espeak_pcm24k(record.input, float(request.get("speed") or 1.0))
            audio, content_type = encode_speech(pcm, record.response_format)
        except _OpenAIError as err:
            record.status = err.status
            raise
        record.audio_seconds = len(pcm) / 2 / TTS_RATE
        _sleep_until(received_at + self.tts_delay)
        record.first_byte_at = time.time()
        chunks = [audio[i : i + _CHUNK] for i in range(0, len(audio), _CHUNK)]
        if record.stream_format == "sse":
            events = [{"type": "speech.audio.delta", "audio": base64.b64encode(c).decode()} for c in chunks]
            usage = {"input_tokens": len(record.input.split()), "output_tokens": len(chunks)}
            events.append({"type": "speech.audio.done", "usage": {**usage, "total_tokens": sum(usage.values())}})
            chunks = [f"data: {json.dumps(e)}\n\n".encode() for e in events]
            content_type = "text/event-stream"
        _send_chunked(h, content_type, chunks)
        record.done_at = time.time()

    def _chat_completion(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        request = json.loads(body or b"{}")
        self.chat_requests.append(request)
        reply, created, model = self._chat.reply_for(request), int(time.time()), request.get("model", "fake")
        if not request.get("stream"):
            choice = {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}
            completion = {"id": "chatcmpl-fake", "object": "chat.completion", "created": created, "model": model, "choices": [choice]}
            _send(h, 200, json.dumps(completion).encode())
            return

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            payload = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created, "model": model}
            payload["choices"] = [{"index": 0, "delta": delta, "finish_reason": finish}]
            return f"data: {json.dumps(payload)}\n\n".encode()

        words = reply.split(" ")
        parts = [chunk({"role": "assistant", "content": ""})]
        parts += [chunk({"content": w if i == 0 else " " + w}) for i, w in enumerate(words)]
        parts += [chunk({}, "stop"), b"data: [DONE]\n\n"]
        _send_chunked(h, "text/event-stream", parts)


def _transcription_body(record: TranscriptionRequest) -> tuple[bytes, str]:
    fmt, text, seconds = record.response_format, record.text, round(record.audio_seconds, 3)
    if fmt == "json":
        return json.dumps({"text": text, "usage": {"type": "duration", "seconds": seconds}}).encode(), "application/json"
    if fmt == "verbose_json":
        segment = {"id": 0, "seek": 0, "start": 0.0, "end": seconds, "text": text, "tokens": [], "temperature": 0.0}
        segment.update(avg_logprob=0.0, compression_ratio=1.0, no_speech_prob=0.0)
        verbose = {"task": "transcribe", "language": "english", "duration": seconds, "text": text, "segments": [segment] if text else []}
        return json.dumps(verbose).encode(), "application/json"
    if fmt in ("text", "srt", "vtt"):
        return (text + "\n").encode(), "text/plain; charset=utf-8"
    raise _OpenAIError(400, f"response_format {fmt!r} is not one of json, verbose_json, text, srt, vtt.")


def _read_body(h: BaseHTTPRequestHandler) -> bytes:
    if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
        body = bytearray()
        while size := int(h.rfile.readline().split(b";")[0].strip() or b"0", 16):
            body += h.rfile.read(size)
            h.rfile.readline()
        while h.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return bytes(body)
    return h.rfile.read(int(h.headers.get("Content-Length") or 0))


def _parse_multipart(content_type: str, body: bytes) -> _Upload:
    if not content_type.startswith("multipart/form-data"):
        raise _OpenAIError(400, "Send the audio as multipart/form-data (fields 'file', 'model', ...).")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    upload = _Upload()
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition") or "")
        payload = part.get_payload(decode=True) or b""
        if name == "file":
            upload.file = payload
        else:
            upload.fields.setdefault(name.removesuffix("[]"), []).append(payload.decode("utf-8", "replace"))
    return upload


def _sleep_until(deadline: float) -> None:
    remaining = deadline - time.time()
    if remaining > 0:
        time.sleep(remaining)


def _send(h: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str = "application/json") -> None:
    h.send_response(status)
    h.send_header("x-request-id", f"req_{uuid.uuid4().hex}")
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)
    h.wfile.flush()


def _send_chunked(h: BaseHTTPRequestHandler, content_type: str, chunks: list[bytes]) -> None:
    h.send_response(200)
    h.send_header("x-request-id", f"req_{uuid.uuid4().hex}")
    h.send_header("Content-Type", content_type)
    h.send_header("Transfer-Encoding", "chunked")
    if content_type == "text/event-stream":
        h.send_header("Cache-Control", "no-cache")
    h.end_headers()
    for c in chunks:
        h.wfile.write(f"{len(c):x}\r\n".encode() + c + b"\r\n")
        h.wfile.flush()
    h.wfile.write(b"0\r\n\r\n")
    h.wfile.flush()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Keyless OpenAI-compatible speech server (test double: PocketSphinx + espeak-ng).")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--phrase", action="append", default=[], help="a phrase the recogniser may hear (repeatable)")
    parser.add_argument("--phrases-file", type=Path, help="one phrase per line")
    parser.add_argument("--stt-delay", type=float, default=0.0, help="answer transcriptions no sooner than this (s)")
    parser.add_argument("--tts-delay", type=float, default=0.0, help="send the first byte of speech no sooner than this (s)")
    parser.add_argument("--api-key", help="require Authorization: Bearer <key>")
    args = parser.parse_args(argv)
    import pocketsphinx

    pocketsphinx.set_loglevel("ERROR")  # its INFO lines would bury the base URL
    phrases = list(args.phrase)
    if args.phrases_file:
        phrases += [line for line in args.phrases_file.read_text().splitlines() if line.strip()]
    server = OpenAISpeechServer(phrases, stt_delay=args.stt_delay, tts_delay=args.tts_delay, api_key=args.api_key, port=args.port).start()
    print(server.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
