"""LiveKit's React components wrapped as Reflex components (pinned versions).

``@livekit/components-react`` renders only in the browser, so every wrapper is a
``NoSSRComponent``. The few behaviours no prop can express (agent state and
presence flowing back to Reflex, captions from the agent's transcription stream,
the pre-join microphone level meter, page-focus signals) live in the small module
``livekit_bridge.jsx`` next to this file, wrapped the same way.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex_base.components.component import NoSSRComponent
from reflex_base.event import no_args_event_spec, passthrough_event_spec

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


class _LiveKitReact(NoSSRComponent):
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

    def add_imports(self) -> dict[str, str]:
        return {"": "@livekit/components-styles"}  # LiveKit's stylesheet (lk-* classes)


class RoomAudioRenderer(_LiveKitReact):
    """Plays every remote audio track (the interviewer's voice)."""

    tag = "RoomAudioRenderer"


class StartAudio(_LiveKitReact):
    """A button shown only when the browser blocked audio playback until a click."""

    tag = "StartAudio"

    label: rx.Var[str]


class _Bridge(NoSSRComponent):
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


def _mic_error(message: rx.Var) -> tuple[rx.Var[str]]:
    """MicToggle's ``onDeviceError(message)`` → the sentence the page shows."""
    return (
        rx.Var(
            f"`The microphone could not be used (${{({message}) || 'unknown error'}}). Check your browser's permission for this page.`"
        ).to(str),
    )


class MicToggle(_Bridge):
    """Mute / unmute the microphone: a button whose text says what it does."""

    tag = "MicToggle"

    mute_label: rx.Var[str]
    unmute_label: rx.Var[str]

    on_device_error: rx.EventHandler[_mic_error]


class ConnectionHint(_Bridge):
    """A sentence while the candidate's own connection is poor or lost (LiveKit's quality measurements)."""

    tag = "ConnectionHint"

    poor_text: rx.Var[str]
    lost_text: rx.Var[str]


class MomentButton(_Bridge):
    """ "Give me a moment": asks the interviewer to pause (RPC ``interview.pause``)."""

    tag = "MomentButton"

    label: rx.Var[str]


class DeviceCheck(_Bridge):
    """Microphone choice with a live level meter, optional camera preview, speaker test."""

    tag = "DeviceCheck"

    mic_label: rx.Var[str]
    camera_label: rx.Var[str]
    camera_off_label: rx.Var[str]
    speaker_label: rx.Var[str]
    playing_label: rx.Var[str]
    waiting_label: rx.Var[str]
    numbered_label: rx.Var[str]  # "Microphone {n}" for a device without a name
    level_label: rx.Var[str]
    # what on_device_error reports: blocked / not found / other ({error} = the browser's error name)
    blocked_text: rx.Var[str]
    missing_text: rx.Var[str]
    failed_text: rx.Var[str]
    camera_failed_text: rx.Var[str]

    on_mic_ready: rx.EventHandler[passthrough_event_spec(str)]
    on_mic_device: rx.EventHandler[passthrough_event_spec(str)]
    on_camera_change: rx.EventHandler[passthrough_event_spec(bool)]
    on_speaker_test: rx.EventHandler[no_args_event_spec]
    on_device_error: rx.EventHandler[passthrough_event_spec(str)]


class IntegrityWatcher(_Bridge):
    """Reports tab-hidden and window-blur periods (kind, duration in ms) when the candidate comes back."""

    tag = "IntegrityWatcher"

    on_signal: rx.EventHandler[passthrough_event_spec(str, int)]


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
device_check = DeviceCheck.create
integrity_watcher = IntegrityWatcher.create

__all__ = [
    "COMPONENTS_REACT",
    "COMPONENTS_STYLES",
    "LIVEKIT_CLIENT",
    "agent_captions",
    "agent_visualizer",
    "connection_hint",
    "conversation",
    "device_check",
    "integrity_watcher",
    "interview_progress",
    "livekit_room",
    "mic_toggle",
    "moment_button",
    "room_audio_renderer",
    "start_audio",
]
