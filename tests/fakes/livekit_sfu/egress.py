"""Room composite egress, audio only: the mix of every audio track, OGG/Opus, uploaded to S3.

Recording runs from StartRoomCompositeEgress until StopEgress or the room closing. The file goes
to the S3 location the request names (boto3, path style when asked) or, without S3, under the
server's ``egress_dir``. The EgressInfo then reads EGRESS_COMPLETE with ``file_results[0]``
(``location`` ``s3://bucket/key``) — or EGRESS_FAILED with ``error`` — and ``egress_ended`` goes out.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from livekit.protocol import egress as pb_egress

from .media import SAMPLE_RATE, AudioMixer, OggOpusWriter, PublishedAudio

if TYPE_CHECKING:
    from .rooms import Room
    from .signal import ParticipantSession

logger = logging.getLogger("livekit_sfu.egress")
Status = pb_egress.EgressStatus


def _expand(template: str, room_name: str, egress_id: str) -> str:
    now = datetime.now(UTC)
    return (
        template.replace("{room_name}", room_name)
        .replace("{room_id}", room_name)
        .replace("{time}", now.strftime("%Y-%m-%dT%H%M%S"))
        .replace("{utc}", now.strftime("%Y%m%d%H%M%S"))
        .replace("{egress_id}", egress_id)
    )


def _upload_s3(s3: pb_egress.S3Upload, key: str, path: str) -> None:
    import boto3
    from botocore.config import Config

    endpoint = s3.endpoint or None
    if endpoint and "://" not in endpoint:
        endpoint = "https://" + endpoint
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=s3.region or "us-east-1",
        aws_access_key_id=s3.access_key or None,
        aws_secret_access_key=s3.secret or None,
        aws_session_token=s3.session_token or None,
        config=Config(s3={"addressing_style": "path" if s3.force_path_style else "auto"}, retries={"max_attempts": 2}),
    )
    client.upload_file(path, s3.bucket, key, ExtraArgs={"ContentType": "audio/ogg"})


class RoomRecorder:
    """One egress: subscribes to the room's audio, mixes, encodes, uploads on stop."""

    def __init__(self, room: Room, info: pb_egress.EgressInfo, egress_dir: Path, api_lock: object) -> None:
        self.room = room
        self.info = info  # the object ListEgress returns; updated in place under api_lock
        self._lock = api_lock
        self.egress_dir = egress_dir
        request = info.room_composite
        outputs = list(request.file_outputs) or ([request.file] if request.HasField("file") else [])
        self.output = outputs[0] if outputs else pb_egress.EncodedFileOutput(file_type=pb_egress.EncodedFileType.OGG)
        fd, self._tmp = tempfile.mkstemp(prefix="egress-", suffix=".ogg")
        os.close(fd)
        self._writer = OggOpusWriter(self._tmp)
        self._mixer = AudioMixer(self._write)
        self._sources: dict[tuple[str, str], PublishedAudio] = {}
        self._started_ns = time.time_ns()
        self._stopping = False
        self.done = asyncio.Event()

    def _write(self, pcm: np.ndarray) -> None:
        self._writer.write(pcm)

    def start(self) -> None:
        for session in self.room.active():
            for track_sid, published in session.published.items():
                self.add_source(session, track_sid, published)
        self._mixer.start()
        with self._lock:  # type: ignore[attr-defined]
            self.info.status = Status.EGRESS_ACTIVE
            self.info.updated_at = time.time_ns()
        self.room.registry.webhooks.emit("egress_started", egress_info=self.snapshot())

    def snapshot(self) -> pb_egress.EgressInfo:
        copy = pb_egress.EgressInfo()
        with self._lock:  # type: ignore[attr-defined]
            copy.CopyFrom(self.info)
        return copy

    def add_source(self, session: ParticipantSession, track_sid: str, published: PublishedAudio) -> None:
        key = (session.sid, track_sid)
        if key in self._sources or self._stopping:
            return
        self._sources[key] = published
        published.add_sink(self, self._mixer.sink_for(key))

    def forget(self, session: ParticipantSession) -> None:
        for key in [k for k in self._sources if k[0] == session.sid]:
            self._sources.pop(key).remove_sink(self)

    def stop_soon(self) -> None:
        """StopEgress or the room closing: status ENDING now, the file and webhook follow."""
        if self._stopping:
            return
        self._stopping = True
        with self._lock:  # type: ignore[attr-defined]
            self.info.status = Status.EGRESS_ENDING
            self.info.updated_at = time.time_ns()
        asyncio.ensure_future(self._finish())

    async def _finish(self) -> None:
        await self._mixer.stop()
        for published in self._sources.values():
            published.remove_sink(self)
        ended_ns = time.time_ns()
        samples = self._mixer.samples_written
        loop = asyncio.get_running_loop()
        error = ""
        location = filename = ""
        size = 0
        try:
            await loop.run_in_executor(None, self._writer.close)
            size = os.path.getsize(self._tmp)
            key = _expand(self.output.filepath or "{room_name}-{time}.ogg", self.room.name, self.info.egress_id).lstrip("/")
            filename = key
            if self.output.HasField("s3") and self.output.s3.bucket:
                await loop.run_in_executor(None, _upload_s3, self.output.s3, key, self._tmp)
                location = f"s3://{self.output.s3.bucket}/{key}"
            else:
                target = self.egress_dir / key
                target.parent.mkdir(parents=True, exist_ok=True)
                await loop.run_in_executor(None, Path(self._tmp).replace, target)
                location = str(target)
        except Exception as err:  # noqa: BLE001 - any failure becomes EGRESS_FAILED, as egress reports it
            logger.warning("egress %s failed: %s", self.info.egress_id, err)
            error = f"upload failed: {err}"
        finally:
            Path(self._tmp).unlink(missing_ok=True)
        with self._lock:  # type: ignore[attr-defined]
            self.info.ended_at = ended_ns
            self.info.updated_at = ended_ns
            if error:
                self.info.status = Status.EGRESS_FAILED
                self.info.error = error
            else:
                self.info.status = Status.EGRESS_COMPLETE
                result = self.info.file_results.add(
                    filename=filename,
                    started_at=self._started_ns,
                    ended_at=ended_ns,
                    duration=int(samples * 1_000_000_000 / SAMPLE_RATE),
                    size=size,
                    location=location,
                )
                self.info.file.CopyFrom(result)
        if self in self.room.recorders:
            self.room.recorders.remove(self)
        self.room.registry.webhooks.emit("egress_ended", egress_info=self.snapshot())
        self.done.set()
