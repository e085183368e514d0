"""LiveKit's React components wrapped as Reflex components (pinned versions).

``@livekit/components-react`` renders only in the browser, so every wrapper is a
``NoSSRComponent``. Where a hook must run in the browser and its values flow back to
Reflex (agent state and presence, captions from the agent's transcription stream, the
pre-join microphone list, level meter and camera preview), a few lines in
``livekit_bridge.jsx`` next to this file call it, wrapped the same way. Every label and
sentence comes from Python (the candidate's catalogue in ``interview_app/i18n``).
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import no_args_event_spec, passthrough_event_spec

COMPONENTS_REACT = "@livekit/components-react@2.9.24"
LIVEKIT_CLIENT = "livekit-client@2.23.0"
COMPONENTS_STYLES = "@livekit/components-styles@1.2.0"

_BRIDGE = rx.asset("livekit_bridge.jsx", shared=True)


def _error_message(error: rx.Var) -> tuple[rx.Var[str]]:
    """LiveKitRoom's ``onError(error: Error)`` → the error's message."""
    return (rx.Var(f"String(({error})?.message ?? ({error}) ?? '')").to(str),)


def _disconnect_reason(reason: rx.Var) -> tuple[rx.Var[int]]:
    """``onDisconnected(reason?: DisconnectReason)`` → the numeric reason (0 when absent)."""
    return (rx.Var(f"Number(({reason}) ?? 0)").to(int),)


def _media_failure(failure: rx.Var, kind: rx.Var) -> tuple[rx.Var[str], rx.Var[str]]:
    """``onMediaDeviceFailure(failure?, kind?)`` → (failure name, device kind)."""
    return (rx.Var(f"String(({failure}) ?? 'Unknown')").to(str), rx.Var(f"String(({kind}) ?? '')").to(str))


class _LiveKitReact(rx.NoSSRComponent):
    library = COMPONENTS_REACT
    lib_dependencies: list[str] = [LIVEKIT_CLIENT, COMPONENTS_STYLES]


class LiveKitRoom(_LiveKitReact):
    """The room: connects with ``server_url`` + ``token`` while ``connect`` is true; provides the context."""

    tag = "LiveKitRoom"

    server_url: rx.Var[str]
    token: rx.Var[str]
    connect: rx.Var[bool]
    audio: rx.Var[Any]
    video: rx.Var[Any]

    on_connected: rx.EventHandler[no_args_event_spec]
    on_disconnected: rx.EventHandler[_disconnect_reason]
    on_error: rx.EventHandler[_error_message]
    on_media_device_failure: rx.EventHandler[_media_failure]

    def add_imports(self) -> rx.ImportDict:
        return {"": "@livekit/components-styles"}  # LiveKit's stylesheet (lk-* classes)


class RoomAudioRenderer(_LiveKitReact):
    """Plays every remote audio track (the interviewer's voice)."""

    tag = "RoomAudioRenderer"


class StartAudio(_LiveKitReact):
    """A button shown only when the browser blocked audio playback until a click."""

    tag = "StartAudio"

    label: rx.Var[str]


class _Bridge(rx.NoSSRComponent):
    library = _BRIDGE.importable_path
    lib_dependencies: list[str] = [COMPONENTS_REACT, LIVEKIT_CLIENT, COMPONENTS_STYLES]


class AgentVisualizer(_Bridge):
    """LiveKit's BarVisualizer for the agent (listening/thinking/speaking), reporting its state to Reflex."""

    tag = "AgentVisualizer"

    bar_count: rx.Var[int]

    on_agent_state: rx.EventHandler[passthrough_event_spec(str)]
    on_agent_presence: rx.EventHandler[passthrough_event_spec(bool)]
    on_connection_state: rx.EventHandler[passthrough_event_spec(str)]


class AgentCaptions(_Bridge):
    """The agent's latest words, from its transcription stream."""

    tag = "AgentCaptions"

    placeholder: rx.Var[str]


class Conversation(_Bridge):
    """The conversation so far, both sides, from the transcription streams and what the candidate
    typed; with ``typing`` a box to type one answer (sent on ``lk.chat``). Labels from Python."""

    tag = "Conversation"

    agent_label: rx.Var[str]
    you_label: rx.Var[str]
    empty_text: rx.Var[str]
    log_label: rx.Var[str]
    typing: rx.Var[bool]
    type_placeholder: rx.Var[str]
    send_label: rx.Var[str]
    max_length: rx.Var[int]


class InterviewProgressLine(_Bridge):
    """ "Question i of n · m:ss left" from the interviewer's participant attributes (templates from Python)."""

    tag = "InterviewProgressLine"

    question_template: rx.Var[str]
    time_template: rx.Var[str]
    paused_template: rx.Var[str]
    ended_text: rx.Var[str]


def _error_name(error: rx.Var) -> tuple[rx.Var[str]]:
    """A browser error (``DOMException`` of getUserMedia, or LiveKit's) → its name: ``NotAllowedError`` …"""
    return (rx.Var(f"String(({error})?.name ?? ({error}) ?? '')").to(str),)


class MicToggle(_Bridge):
    """Mute / unmute the microphone: a button whose text says what it does."""

    tag = "MicToggle"

    mute_label: rx.Var[str]
    unmute_label: rx.Var[str]

    on_device_error: rx.EventHandler[_error_name]


class ConnectionHint(_Bridge):
    """A sentence while the candidate's own connection is poor or lost (LiveKit's quality measurements)."""

    tag = "ConnectionHint"

    poor_text: rx.Var[str]
    lost_text: rx.Var[str]


class MomentButton(_Bridge):
    """ "Give me a moment": asks the interviewer to pause (RPC ``interview.pause``)."""

    tag = "MomentButton"

    label: rx.Var[str]


class MicSelect(_Bridge):
    """The microphones the browser lists, as a native ``<select>`` (``useMediaDevices``)."""

    tag = "MicSelect"

    value: rx.Var[str]
    numbered_label: rx.Var[str]  # "Microphone {n}" for a device without a name

    on_pick: rx.EventHandler[passthrough_event_spec(str)]


class MicLevel(_Bridge):
    """Opens the chosen microphone before the interview and draws its level as a ``role="meter"`` bar.

    ``on_open`` / ``on_heard`` get the device id once the microphone is open / the first time it hears sound.
    """

    tag = "MicLevel"

    device_id: rx.Var[str]

    on_open: rx.EventHandler[passthrough_event_spec(str)]
    on_heard: rx.EventHandler[passthrough_event_spec(str)]
    on_error: rx.EventHandler[_error_name]


class CameraPreview(_Bridge):
    """The camera's picture before the interview (a ``<video>``), while it is on the page."""

    tag = "CameraPreview"

    on_error: rx.EventHandler[_error_name]


livekit_room = LiveKitRoom.create
room_audio_renderer = RoomAudioRenderer.create
start_audio = StartAudio.create
agent_visualizer = AgentVisualizer.create
agent_captions = AgentCaptions.create
conversation = Conversation.create
interview_progress = InterviewProgressLine.create
moment_button = MomentButton.create
connection_hint = ConnectionHint.create
mic_toggle = MicToggle.create
mic_select = MicSelect.create
mic_level = MicLevel.create
camera_preview = CameraPreview.create

__all__ = [
    "COMPONENTS_REACT",
    "COMPONENTS_STYLES",
    "LIVEKIT_CLIENT",
    "agent_captions",
    "agent_visualizer",
    "camera_preview",
    "connection_hint",
    "conversation",
    "interview_progress",
    "livekit_room",
    "mic_level",
    "mic_select",
    "mic_toggle",
    "moment_button",
    "room_audio_renderer",
    "start_audio",
]
