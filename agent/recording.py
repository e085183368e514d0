"""Room-composite egress to the private S3 bucket (``STORAGE_BACKEND=s3``).

Audio-only OGG by default; ``RECORDING_FORMAT=mp4`` records the composite with video.
Started when the candidate joins, stopped when the interview ends; the object
location (``s3://bucket/interviews/<id>/recording.<ext>``) goes into the result.
With local storage there is no recording (LiveKit egress cannot write to this disk).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from livekit import api

from interview_app.services.storage import recording_key
from interview_app.settings import Settings

logger = logging.getLogger("agent.recording")


@dataclass
class Recording:
    egress_id: str
    uri: str


def recording_enabled(settings: Settings) -> bool:
    return settings.storage_backend == "s3"


def egress_request(settings: Settings, room_name: str, interview_id: str) -> tuple[api.RoomCompositeEgressRequest, str]:
    """The egress request for one interview and the storage URI it will produce."""
    mp4 = settings.recording_format == "mp4"
    key = recording_key(interview_id, "mp4" if mp4 else "ogg")
    s3 = api.S3Upload(
        access_key=settings.aws_access_key_id,
        secret=settings.aws_secret_access_key,
        region=settings.s3_region,
        bucket=settings.s3_bucket,
        force_path_style=settings.s3_force_path_style,
    )
    if settings.s3_endpoint_url:
        s3.endpoint = settings.s3_endpoint_url
    output = api.EncodedFileOutput(file_type=api.EncodedFileType.MP4 if mp4 else api.EncodedFileType.OGG, filepath=key, s3=s3)
    request = api.RoomCompositeEgressRequest(room_name=room_name, audio_only=not mp4, file_outputs=[output])
    if mp4:
        request.layout = "speaker"
    return request, f"s3://{settings.s3_bucket}/{key}"


async def start_recording(lkapi: api.LiveKitAPI, settings: Settings, room_name: str, interview_id: str) -> Recording | None:
    """Start egress; None (logged) when recording is off or LiveKit refuses — the interview goes on."""
    if not recording_enabled(settings):
        return None
    request, uri = egress_request(settings, room_name, interview_id)
    try:
        info = await lkapi.egress.start_room_composite_egress(request)
    except Exception as err:  # noqa: BLE001 - a missing recording must not stop the interview
        logger.error("could not start the recording of %s: %s", interview_id, err)
        return None
    logger.info("recording %s started (egress %s) → %s", interview_id, info.egress_id, uri)
    return Recording(egress_id=info.egress_id, uri=uri)


async def stop_recording(lkapi: api.LiveKitAPI, recording: Recording | None) -> None:
    if recording is None:
        return
    try:
        await lkapi.egress.stop_egress(api.StopEgressRequest(egress_id=recording.egress_id))
    except Exception as err:  # noqa: BLE001 - egress also ends by itself when the room closes
        logger.warning("could not stop egress %s: %s", recording.egress_id, err)
