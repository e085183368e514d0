"""Audio through aiortc: publishers' tracks fanned out to subscribers and to the egress mixer.

aiortc decodes every received Opus packet; a published track is re-encoded only for each peer that
subscribes to it (the costly half), and mixed to PCM only while an egress records the room.
This is a test double, not a forwarding SFU.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import time
from collections.abc import Callable

import aioice.ice
import av
import numpy as np
from aiortc import MediaStreamTrack, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError

logger = logging.getLogger("livekit_sfu.media")

SAMPLE_RATE = 48000
FRAME_SAMPLES = 960  # 20 ms
_QUEUE_FRAMES = 25  # 0.5 s; older frames are dropped when a consumer lags

_loopback_installed = False


def use_loopback_ice() -> None:
    """aioice leaves 127.0.0.1 out of its host candidates; a loopback-only test needs exactly that."""
    global _loopback_installed
    if not _loopback_installed:
        aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]  # type: ignore[assignment]
        _loopback_installed = True


def new_peer_connection() -> RTCPeerConnection:
    use_loopback_ice()
    return RTCPeerConnection()


class ForwardedAudioTrack(MediaStreamTrack):
    """What one subscriber receives of one published track: its id is the LiveKit track sid."""

    kind = "audio"

    def __init__(self, track_sid: str) -> None:
        super().__init__()
        self._id = track_sid
        self._frames: asyncio.Queue[av.AudioFrame | None] = asyncio.Queue(maxsize=_QUEUE_FRAMES)

    def push(self, frame: av.AudioFrame) -> None:
        if self.readyState != "live":
            return
        if self._frames.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self._frames.get_nowait()
        self._frames.put_nowait(frame)

    def stop(self) -> None:
        if self.readyState == "live":
            with contextlib.suppress(asyncio.QueueFull):
                self._frames.put_nowait(None)
        super().stop()

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        frame = await self._frames.get()
        if frame is None:
            raise MediaStreamError
        return frame


FrameSink = Callable[[av.AudioFrame], None]


class PublishedAudio:
    """Reads one received track and hands each decoded frame to the current sinks."""

    def __init__(self, track: MediaStreamTrack, track_sid: str) -> None:
        self.track = track
        self.track_sid = track_sid
        self.sinks: dict[object, FrameSink] = {}
        self.frames_received = 0
        self._task = asyncio.create_task(self._pump(), name=f"audio-{track_sid}")

    async def _pump(self) -> None:
        try:
            while True:
                frame = await self.track.recv()
                self.frames_received += 1
                for sink in list(self.sinks.values()):
                    try:
                        sink(frame)
                    except Exception:
                        logger.exception("audio sink failed")
        except (MediaStreamError, asyncio.CancelledError):
            pass
        finally:
            for owner in list(self.sinks):
                if isinstance(owner, ForwardedAudioTrack):
                    owner.stop()  # ends the subscriber's RTP sender
            self.sinks.clear()

    def subscribe(self, track_sid: str) -> ForwardedAudioTrack:
        forwarded = ForwardedAudioTrack(track_sid)
        self.sinks[forwarded] = forwarded.push
        return forwarded

    def add_sink(self, owner: object, sink: FrameSink) -> None:
        self.sinks[owner] = sink

    def remove_sink(self, owner: object) -> None:
        self.sinks.pop(owner, None)

    def close(self) -> None:
        self._task.cancel()


def frame_to_mono(frame: av.AudioFrame) -> np.ndarray:
    """A decoded frame (s16, mono or interleaved stereo, 48 kHz) as mono int16 samples."""
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if frame.format.is_planar:
        mono = data.mean(axis=0) if data.shape[0] > 1 else data[0]
    else:
        interleaved = data.reshape(-1)
        mono = interleaved.reshape(-1, channels).mean(axis=1) if channels > 1 else interleaved
    if frame.sample_rate != SAMPLE_RATE:  # aiortc always decodes Opus at 48 kHz; be safe anyway
        idx = np.linspace(0, len(mono) - 1, int(len(mono) * SAMPLE_RATE / frame.sample_rate))
        mono = np.interp(idx, np.arange(len(mono)), mono)
    return mono.astype(np.int16)


class AudioMixer:
    """Mixes every source to one mono 48 kHz timeline, 20 ms at a time, on the wall clock.

    Each tick takes what each source delivered (silence for a source that delivered nothing) and
    passes the sum to ``on_frame``; a source's backlog is capped so a stalled peer cannot drift.
    """

    def __init__(self, on_frame: Callable[[np.ndarray], None]) -> None:
        self._on_frame = on_frame
        self._buffers: dict[object, list[np.ndarray]] = {}
        self._buffered: dict[object, int] = {}
        self._task: asyncio.Task[None] | None = None
        self.samples_written = 0
        self.peak = 0

    def sink_for(self, key: object) -> FrameSink:
        self._buffers.setdefault(key, [])
        self._buffered.setdefault(key, 0)

        def push(frame: av.AudioFrame) -> None:
            chunk = frame_to_mono(frame)
            buf = self._buffers.setdefault(key, [])
            buf.append(chunk)
            self._buffered[key] = self._buffered.get(key, 0) + len(chunk)
            while self._buffered[key] > SAMPLE_RATE // 2 and len(buf) > 1:  # keep at most 0.5 s
                self._buffered[key] -= len(buf.pop(0))

        return push

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="egress-mixer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _take(self, key: object, n: int) -> np.ndarray:
        buf = self._buffers[key]
        out = np.zeros(n, dtype=np.int32)
        filled = 0
        while buf and filled < n:
            chunk = buf[0]
            use = min(n - filled, len(chunk))
            out[filled : filled + use] = chunk[:use]
            filled += use
            if use == len(chunk):
                buf.pop(0)
            else:
                buf[0] = chunk[use:]
        self._buffered[key] = max(0, self._buffered[key] - filled)
        return out

    def _tick(self) -> None:
        mix = np.zeros(FRAME_SAMPLES, dtype=np.int32)
        for key in list(self._buffers):
            mix += self._take(key, FRAME_SAMPLES)
        pcm = np.clip(mix, -32768, 32767).astype(np.int16)
        self.peak = max(self.peak, int(np.abs(pcm).max(initial=0)))
        self.samples_written += FRAME_SAMPLES
        self._on_frame(pcm)

    async def _run(self) -> None:
        started = time.monotonic()
        ticks = 0
        while True:
            due = started + (ticks + 1) * FRAME_SAMPLES / SAMPLE_RATE
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            # catch up after a stall, but never more than 0.5 s at once
            behind = int((time.monotonic() - started) * SAMPLE_RATE / FRAME_SAMPLES) - ticks
            for _ in range(max(1, min(behind, 25))):
                self._tick()
                ticks += 1
            if behind > 25:
                ticks += behind - 25


class OggOpusWriter:
    """Encodes mono PCM to an OGG/Opus file with PyAV."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._container = av.open(path, mode="w", format="ogg")
        self._stream = self._container.add_stream("libopus", rate=SAMPLE_RATE, layout="mono")
        self._pts = 0

    def write(self, pcm: np.ndarray) -> None:
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        self._pts += pcm.shape[0]
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> None:
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
