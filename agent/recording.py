"""The interview's recording: LiveKit egress to S3, or the agent's own recorder.

Two ways, one result (a storage URI in the ``InterviewResult``):

- **Egress** (``STORAGE_BACKEND=s3``): a room-composite egress writes
  ``s3://bucket/interviews/<id>/recording.<ext>`` — audio-only OGG by default,
  ``RECORDING_FORMAT=mp4`` records the composite with video. Started when the candidate
  joins, stopped when the interview ends. Needs LiveKit's egress service.
- **Agent recorder** (local storage, or when egress could not be started): livekit-agents'
  session recorder writes what the agent heard (the candidate) and what it played (the
  interviewer) as a stereo OGG/Opus file; at the end it is stored through the storage
  service as ``interviews/<id>/recording.ogg``. Audio only. With local storage the agent
  must write to the app's ``STORAGE_LOCAL_DIR`` (same machine, or a shared volume).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from livekit import api
from livekit.agents import RecordingOptions

from interview_app.services.storage import StorageError, recording_key, storage_from_settings
from interview_app.settings import Settings

logger = logging.getLogger("agent.recording")

#: ``AgentSession.start(record=...)`` for the agent recorder: audio only, nothing sent to LiveKit Cloud.
AGENT_RECORDER_OPTIONS: RecordingOptions = {"audio": True, "traces": False, "logs": False, "transcript": False}
NO_RECORDING_OPTIONS: RecordingOptions = {"audio": False, "traces": False, "logs": False, "transcript": False}


@dataclass
class Recording:
    """A recording in progress: ``egress_id`` is empty when the agent records it itself."""

    uri: str
    egress_id: str = ""

    @property
    def by_agent(self) -> bool:
        return not self.egress_id


def egress_enabled(settings: Settings) -> bool:
    """Egress can only write to S3; with local storage the agent records."""
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


async def start_recording(lkapi: api.LiveKitAPI, settings: Settings, room_name: str, interview_id: str) -> Recording:
    """Start egress where it can write; otherwise (or when LiveKit refuses) the agent records."""
    agent_uri = storage_from_settings(settings).uri(recording_key(interview_id, "ogg"))
    if not egress_enabled(settings):
        logger.info("recording %s with the agent's recorder → %s", interview_id, agent_uri)
        return Recording(uri=agent_uri)
    request, uri = egress_request(settings, room_name, interview_id)
    try:
        info = await lkapi.egress.start_room_composite_egress(request)
    except Exception as err:  # noqa: BLE001 - a missing egress service must not stop the interview
        logger.error("egress for %s could not start (%s); the agent records the audio instead → %s", interview_id, err, agent_uri)
        return Recording(uri=agent_uri)
    logger.info("recording %s started (egress %s) → %s", interview_id, info.egress_id, uri)
    return Recording(uri=uri, egress_id=info.egress_id)


def session_record_options(recording: Recording | None) -> RecordingOptions:
    """What ``AgentSession.start(record=...)`` gets: the recorder on only when the agent records."""
    return (AGENT_RECORDER_OPTIONS if recording is not None and recording.by_agent else NO_RECORDING_OPTIONS).copy()


async def stop_recording(lkapi: api.LiveKitAPI, recording: Recording | None) -> None:
    if recording is None or recording.by_agent:
        return
    try:
        await lkapi.egress.stop_egress(api.StopEgressRequest(egress_id=recording.egress_id))
    except Exception as err:  # noqa: BLE001 - egress also ends by itself when the room closes
        logger.warning("could not stop egress %s: %s", recording.egress_id, err)


def store_agent_recording(recording: Recording | None, audio_file: Path | None, settings: Settings, interview_id: str) -> str | None:
    """Store the agent recorder's file (call after the session closed); the URI, or None (logged)."""
    if recording is None or not recording.by_agent:
        return recording.uri if recording is not None else None
    if audio_file is None or not audio_file.is_file() or audio_file.stat().st_size == 0:
        logger.error("no audio was recorded for %s (%s)", interview_id, audio_file)
        return None
    try:
        return storage_from_settings(settings).put(recording_key(interview_id, "ogg"), audio_file.read_bytes(), "audio/ogg")
    except (StorageError, OSError) as err:
        logger.error("recording of %s not stored: %s", interview_id, err)
        return None
