"""The candidate's interview page: `/interview/[token]`.

Unusable links get a page saying what happened and whom to contact. A valid
link: welcome → consent → device check → voice room; or the text interview
(``text_interview_panel()``) when LiveKit is not configured or the candidate
cannot use a microphone.
"""

from __future__ import annotations

import reflex as rx
from reflex.event import no_args_event_spec

from interview_app import routes
from interview_app.components import livekit as lk
from interview_app.components.inline_icons import callout, inline_icon
from interview_app.components.layout import candidate_shell, confirm_dialog
from interview_app.components.text_interview import text_interview_panel
from interview_app.sanitize import MAX_MESSAGE_CHARS
from interview_app.state.candidate import CandidateState
from interview_app.state.text_interview import TextInterviewState

M = CandidateState.msg  # every sentence, in the candidate's language (interview_app/i18n)
_LINK_STATES = ("unknown", "expired", "revoked", "finished", "failed")
#: The browser's clock when an event fires: integrity periods are timed by the page, not by when the server sees them.
_NOW = rx.Var("Date.now()").to(int)

_FIELD_STYLE = {
    "padding": "6px 10px",
    "borderRadius": "var(--radius-3)",
    "border": "1px solid var(--gray-a7)",
    "background": "var(--color-surface)",
    "fontSize": "14px",
    "minHeight": "36px",
    "maxWidth": "100%",
}
_LABEL_STYLE = {"fontWeight": 500, "fontSize": "14px"}
#: The microphone level: a bar filling from the reading direction's start (the meter sets its width).
_METER_STYLE = {
    "position": "relative",
    "height": "12px",
    "width": "100%",
    "borderRadius": "999px",
    "background": "var(--gray-a4)",
    "overflow": "hidden",
    "& > div": {
        "position": "absolute",
        "insetBlock": 0,
        "insetInlineStart": 0,
        "background": "var(--accent-9)",
        "transition": "width 60ms linear",
    },
}
_PREVIEW_STYLE = {"width": "100%", "maxHeight": "240px", "borderRadius": "var(--radius-4)", "background": "#000", "objectFit": "cover"}
#: A short tone (assets/sound-check.wav) the candidate plays with the browser's own player.
SOUND_CHECK = "/sound-check.wav"


class _SoundCheck(rx.el.Audio):
    """The speaker test: playing the tone counts as tested."""

    on_play: rx.EventHandler[no_args_event_spec]


def _contact() -> rx.Component:
    return rx.text(
        M["contact.before"],
        " ",
        rx.link(CandidateState.support_email, href="mailto:" + CandidateState.support_email),
        " ",
        M["contact.after"],
        size="2",
        color_scheme="gray",
    )


def _unusable_link() -> rx.Component:
    return rx.vstack(
        rx.heading(
            rx.match(CandidateState.link_state, *((s, M[f"link.{s}.title"]) for s in _LINK_STATES), M["link.other.title"]),
            size="6",
            id="link-problem",
        ),
        rx.text(
            rx.match(CandidateState.link_state, *((s, M[f"link.{s}.next"]) for s in _LINK_STATES), CandidateState.message),
            id="link-next-step",
        ),
        _contact(),
        spacing="3",
    )


def _welcome() -> rx.Component:
    return rx.vstack(
        rx.heading(M["welcome.hello"], size="6", id="welcome"),
        rx.text(M["welcome.invite"]),
        rx.hstack(
            inline_icon("clock", size=16),
            rx.text(M["welcome.duration"], id="welcome-duration"),
            align="center",
            spacing="2",
            color=rx.color("gray", 11),
        ),
        spacing="2",
    )


def _steps() -> rx.Component:
    def dot(label: str, active: rx.Var[bool]) -> rx.Component:
        return rx.badge(label, variant=rx.cond(active, "solid", "soft"), color_scheme=rx.cond(active, "indigo", "gray"))

    interview = (CandidateState.step == "room") | (CandidateState.step == "text")
    # The device check only exists for voice: without LiveKit (or once the candidate chose text) there are two steps.
    voice = CandidateState.voice_available & (CandidateState.mode != "text")
    return rx.hstack(
        dot(M["steps.consent"], CandidateState.step == "consent"),
        rx.cond(
            voice,
            rx.fragment(dot(M["steps.devices"], CandidateState.step == "devices"), dot(M["steps.interview3"], interview)),
            dot(M["steps.interview2"], interview),
        ),
        spacing="2",
        wrap="wrap",
        id="flow-steps",
    )


def _language_picker() -> rx.Component:
    """The interview's language, before consent (default: the browser's); only when the template offers several."""
    return rx.cond(
        (CandidateState.language_options.length() > 1) & ~CandidateState.language_locked,
        rx.vstack(
            rx.el.label(M["language.label"], html_for="language-select", style=_LABEL_STYLE),
            rx.el.select(
                rx.foreach(
                    CandidateState.language_options,
                    lambda option: rx.el.option(option["name"], value=option["code"], lang=option["code"]),
                ),
                value=CandidateState.lang,
                on_change=CandidateState.set_language,
                id="language-select",
                style=_FIELD_STYLE,
            ),
            rx.text(M["language.hint"], size="1", color_scheme="gray"),
            spacing="1",
            width="100%",
            id="language-choice",
        ),
    )


def _consent() -> rx.Component:
    return rx.vstack(
        _language_picker(),
        rx.heading(M["consent.heading"], size="4"),
        rx.box(
            rx.text(CandidateState.consent_text, size="2", id="consent-text"),
            padding="12px 14px",
            border_radius="var(--radius-3)",
            background=rx.color("gray", 3),
            width="100%",
        ),
        rx.checkbox(
            M["consent.checkbox"],
            checked=CandidateState.consent_checked,
            on_change=CandidateState.set_consent_checked,
            id="consent-checkbox",
        ),
        rx.button(
            M["consent.continue"],
            on_click=CandidateState.accept_consent,
            disabled=~CandidateState.consent_checked | CandidateState.adjust_waiting,
            id="consent-continue",
            size="3",
        ),
        spacing="3",
        width="100%",
    )


def _devices() -> rx.Component:
    """The microphone (choice and live level), the speaker test and an optional camera preview."""
    mic = rx.cond(
        CandidateState.mic_open,
        lk.mic_select(
            value=CandidateState.mic_device_id,
            numbered_label=M["devices.mic_numbered"],
            on_pick=CandidateState.on_mic_device,
            id="mic-select",
            style=_FIELD_STYLE,
        ),
        rx.el.select(rx.el.option(M["devices.mic_waiting_access"], value=""), disabled=True, id="mic-select", style=_FIELD_STYLE),
    )
    return rx.vstack(
        rx.vstack(
            rx.el.label(M["devices.mic_label"], html_for="mic-select", style=_LABEL_STYLE),
            mic,
            lk.mic_level(
                device_id=CandidateState.mic_choice,
                on_open=CandidateState.on_mic_open,
                on_heard=CandidateState.on_mic_ready,
                on_error=CandidateState.on_device_error,
                aria_label=M["devices.mic_level"],
                id="mic-level",
                style=_METER_STYLE,
            ),
            spacing="2",
            width="100%",
        ),
        rx.vstack(
            rx.text(M["devices.speaker"], size="2", weight="medium"),
            _SoundCheck.create(
                src=SOUND_CHECK,
                controls=True,
                preload="metadata",
                on_play=CandidateState.on_speaker_test,
                aria_label=M["devices.speaker"],
                id="speaker-test",
                style={"width": "100%", "maxWidth": "360px", "height": "40px"},
            ),
            spacing="2",
            width="100%",
        ),
        rx.button(
            rx.cond(CandidateState.camera_on, M["devices.camera_off"], M["devices.camera_on"]),
            on_click=CandidateState.toggle_camera,
            variant="outline",
            color_scheme="gray",
            id="camera-toggle",
        ),
        rx.cond(
            CandidateState.camera_on,
            lk.camera_preview(
                on_error=lambda error: CandidateState.on_device_error(error, "videoinput"),
                id="camera-preview",
                style=_PREVIEW_STYLE,
            ),
        ),
        spacing="4",
        width="100%",
        id="device-check",
    )


def _device_check() -> rx.Component:
    return rx.vstack(
        rx.cond(
            CandidateState.rejoining,
            callout(
                M["devices.rejoin"],
                icon="rotate-ccw",
                color_scheme="indigo",
                id="rejoin-notice",
            ),
        ),
        rx.heading(M["devices.heading"], size="4"),
        rx.text(
            M["devices.intro"],
            size="2",
            color_scheme="gray",
        ),
        _devices(),
        rx.cond(
            CandidateState.mic_ready,
            callout(M["devices.mic_ok"], icon="circle-check", color_scheme="green", size="1", id="mic-ok"),
            callout(M["devices.mic_waiting"], icon="mic", color_scheme="gray", size="1", id="mic-waiting"),
        ),
        rx.cond(
            CandidateState.speaker_tested,
            rx.text(M["devices.speaker_tested"], size="2", color_scheme="gray"),
        ),
        rx.cond(
            CandidateState.device_error != "",
            callout(CandidateState.device_error, icon="triangle-alert", color_scheme="red", id="device-error"),
        ),
        rx.cond(
            CandidateState.start_error != "",
            callout(CandidateState.start_error, icon="triangle-alert", color_scheme="red", id="start-error"),
        ),
        rx.hstack(
            rx.button(
                rx.cond(CandidateState.joining, rx.spinner(size="2"), inline_icon("phone", size=16)),
                rx.cond(
                    CandidateState.joining,
                    M["devices.preparing"],
                    rx.cond(CandidateState.rejoining, M["devices.rejoin_button"], M["devices.join"]),
                ),
                on_click=CandidateState.join,
                disabled=CandidateState.joining | ~CandidateState.mic_ready | CandidateState.adjust_waiting,
                id="join",
                size="3",
            ),
            rx.cond(
                CandidateState.allow_text_mode,
                rx.button(
                    M["devices.choose_text"],
                    on_click=CandidateState.choose_text,
                    variant="ghost",
                    color_scheme="gray",
                    id="choose-text",
                ),
            ),
            spacing="4",
            align="center",
            wrap="wrap",
        ),
        spacing="3",
        width="100%",
    )


def _interview_ended() -> rx.Component:
    """What the candidate sees once the interview is over (or the interviewer could not go on)."""
    return rx.cond(
        CandidateState.ended_ok,
        callout(CandidateState.connection_error, icon="circle-check", color_scheme="green", size="2", id="interview-ended", width="100%"),
        callout(CandidateState.connection_error, icon="triangle-alert", color_scheme="amber", size="2", id="interview-ended", width="100%"),
    )


def _room_status() -> rx.Component:
    failed = CandidateState.connection_error != ""
    return rx.vstack(
        # Two complete callouts with fixed icons, not icon=rx.cond(...): a state-dependent icon name
        # makes Reflex ship lucide's dynamic icon loader (≈ 54 KB) with this page (bench P5).
        rx.cond(
            failed,
            callout(
                CandidateState.connection_sentence,
                icon="triangle-alert",
                color_scheme="red",
                size="1",
                id="connection-status",
                width="100%",
            ),
            callout(
                CandidateState.connection_sentence,
                icon="wifi",
                color_scheme=rx.cond(CandidateState.connection == "connected", "green", "gray"),
                size="1",
                id="connection-status",
                width="100%",
            ),
        ),
        rx.cond(
            CandidateState.agent_sentence != "",
            rx.cond(
                CandidateState.agent_wait_expired,
                callout(
                    CandidateState.agent_sentence, icon="triangle-alert", color_scheme="amber", size="1", id="agent-status", width="100%"
                ),
                callout(CandidateState.agent_sentence, icon="bot", color_scheme="indigo", size="1", id="agent-status", width="100%"),
            ),
        ),
        rx.cond(
            CandidateState.device_error != "", callout(CandidateState.device_error, icon="triangle-alert", color_scheme="red", size="1")
        ),
        rx.cond(CandidateState.start_error != "", callout(CandidateState.start_error, icon="triangle-alert", color_scheme="red", size="1")),
        rx.cond(
            CandidateState.can_retry,
            rx.button(
                rx.cond(CandidateState.joining, rx.spinner(size="2"), inline_icon("refresh-cw", size=16)),
                M["room.retry"],
                on_click=CandidateState.retry,
                disabled=CandidateState.joining,
                id="retry",
            ),
        ),
        spacing="2",
        width="100%",
    )


def _leave_button() -> rx.Component:
    """Leaving is one click away but asks first: an accidental click would otherwise end the conversation."""
    return confirm_dialog(
        rx.button(M["room.leave"], color_scheme="red", variant="soft", id="leave-interview"),
        M["room.leave_title"],
        M["room.leave_body"],
        rx.button(M["room.leave_cancel"], variant="soft", color_scheme="gray", id="leave-cancel"),
        rx.button(M["room.leave_confirm"], color_scheme="red", on_click=CandidateState.leave_room, id="leave-confirm"),
    )


def _room() -> rx.Component:
    return rx.cond(CandidateState.connection == "ended", _interview_ended(), _live_room())


def _live_room() -> rx.Component:
    return rx.vstack(
        _room_status(),
        lk.livekit_room(
            lk.room_audio_renderer(),
            rx.vstack(
                lk.interview_progress(
                    question_template=M["room.progress_question"],
                    time_template=M["room.progress_time"],
                    paused_template=M["room.progress_paused"],
                    ended_text=M["room.progress_ended"],
                    id="interview-progress",
                    style={"fontSize": "14px", "fontWeight": 500, "opacity": 0.8, "minHeight": "1.4em"},
                ),
                lk.connection_hint(
                    poor_text=M["room.poor_connection"],
                    lost_text=M["room.lost_connection"],
                    id="connection-hint",
                    style={"fontSize": "14px", "color": "#ffca16", "textAlign": "center"},
                ),
                lk.agent_visualizer(
                    on_agent_state=CandidateState.on_agent_state,
                    on_agent_presence=CandidateState.on_agent_presence,
                    on_connection_state=CandidateState.on_connection_state,
                    bar_count=7,
                    id="agent-visualizer",
                    style={"width": "100%"},
                ),
                lk.agent_captions(
                    placeholder=M["room.captions_placeholder"],
                    id="captions",
                    style={"minHeight": "3em", "fontSize": "16px", "lineHeight": "1.5", "textAlign": "center", "opacity": 0.9},
                ),
                lk.start_audio(label=M["room.start_audio"]),
                rx.cond(
                    (CandidateState.connection == "connected") | (CandidateState.connection == "reconnecting"),
                    rx.hstack(
                        lk.mic_toggle(
                            mute_label=M["room.mute"],
                            unmute_label=M["room.unmute"],
                            on_device_error=lambda error: CandidateState.on_media_failure(error, "audioinput"),
                            id="mic-toggle",
                        ),
                        lk.moment_button(label=M["room.moment"], id="give-me-a-moment"),
                        _leave_button(),
                        spacing="3",
                        align="center",
                        justify="center",
                        wrap="wrap",
                    ),
                ),
                lk.conversation(
                    agent_label=M["room.agent_label"],
                    you_label=M["room.you_label"],
                    empty_text=M["room.conversation_empty"],
                    log_label=M["room.conversation_label"],
                    typing=CandidateState.connection == "connected",
                    type_placeholder=M["room.type_placeholder"],
                    send_label=M["room.send"],
                    max_length=MAX_MESSAGE_CHARS,
                    id="conversation",
                    style={"width": "100%", "fontSize": "15px", "paddingTop": "8px", "borderTop": "1px solid var(--gray-a5)"},
                ),
                spacing="4",
                align="center",
                width="100%",
                padding="5",
            ),
            server_url=CandidateState.server_url,
            token=CandidateState.room_token,
            connect=CandidateState.connect,
            audio=CandidateState.audio_options,
            video=CandidateState.camera_on,
            on_connected=CandidateState.on_connected,
            on_disconnected=CandidateState.on_disconnected,
            on_error=CandidateState.on_error,
            on_media_device_failure=CandidateState.on_media_failure,
            custom_attrs={"data-lk-theme": "default"},
            id="interview-room",
            style={"width": "100%", "borderRadius": "var(--radius-4)", "overflow": "hidden"},
        ),
        rx.text(
            M["room.help"],
            size="1",
            color_scheme="gray",
        ),
        spacing="3",
        width="100%",
    )


def _adjust_kind(kind: str) -> rx.Component:
    return rx.checkbox(
        M[f"adjust.{kind}"],
        checked=CandidateState.adjust_kinds.contains(kind),
        on_change=lambda checked: CandidateState.set_adjust_kind(kind, checked),
        id=f"adjust-{kind.replace('_', '-')}",
    )


def _adjustments() -> rx.Component:
    """Before the start: ask for extra time, a text chat instead of voice, or a human interviewer (with a note)."""
    # The checkboxes are state, not form fields (only the note is submitted): they stay outside the <form>.
    form = rx.vstack(
        rx.heading(M["adjust.heading"], size="3", as_="h2"),
        rx.text(M["adjust.intro"], size="2"),
        _adjust_kind("extra_time"),
        _adjust_kind("text"),
        _adjust_kind("human"),
        rx.el.form(
            rx.vstack(
                rx.el.label(M["adjust.note_label"], html_for="adjust-note", style={"fontSize": "14px", "fontWeight": 500}),
                rx.text_area(name="note", id="adjust-note", rows="3", max_length=2000, width="100%"),
                rx.cond(
                    CandidateState.adjust_error != "",
                    callout(CandidateState.adjust_error, icon="triangle-alert", color_scheme="red", size="1", id="adjust-error"),
                ),
                rx.hstack(
                    rx.button(M["adjust.send"], type="submit", id="adjust-send"),
                    rx.button(
                        M["adjust.cancel"], type="button", variant="soft", color_scheme="gray", on_click=CandidateState.toggle_adjustments
                    ),
                    spacing="3",
                    wrap="wrap",
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=CandidateState.send_adjustment,
            style={"width": "100%"},
            id="adjust-form",
        ),
        spacing="3",
        width="100%",
        padding="12px 14px",
        border=f"1px solid {rx.color('gray', 6)}",
        border_radius="var(--radius-3)",
    )
    return rx.cond(
        CandidateState.adjust_notice != "",
        rx.cond(
            CandidateState.adjust_status == "declined",
            callout(CandidateState.adjust_notice, icon="info", color_scheme="amber", size="1", id="adjust-notice", width="100%"),
            rx.cond(
                CandidateState.adjust_waiting,
                callout(CandidateState.adjust_notice, icon="clock", color_scheme="indigo", size="1", id="adjust-notice", width="100%"),
                callout(
                    CandidateState.adjust_notice, icon="circle-check", color_scheme="green", size="1", id="adjust-notice", width="100%"
                ),
            ),
        ),
        rx.cond(
            CandidateState.adjust_open,
            form,
            rx.button(
                M["adjust.open"],
                variant="ghost",
                color_scheme="gray",
                size="2",
                on_click=CandidateState.toggle_adjustments,
                id="adjust-open",
                style={"whiteSpace": "normal", "textAlign": "start", "height": "auto"},
            ),
        ),
    )


def _flow() -> rx.Component:
    return rx.vstack(
        _welcome(),
        _steps(),
        rx.divider(),
        rx.match(
            CandidateState.step,
            ("consent", _consent()),
            ("devices", _device_check()),
            ("room", _room()),
            ("text", text_interview_panel()),
            _consent(),
        ),
        rx.cond(((CandidateState.step == "consent") | (CandidateState.step == "devices")) & ~CandidateState.rejoining, _adjustments()),
        # Leaving the tab or the window, for human review (the state counts them only after the consent).
        rx.window_event_listener(
            on_blur=CandidateState.on_integrity_signal("window_blur", True, _NOW),
            on_focus=CandidateState.on_integrity_signal("window_blur", False, _NOW),
            on_visibility_change=lambda hidden: CandidateState.on_integrity_signal("tab_hidden", hidden, _NOW),
        ),
        rx.divider(),
        _contact(),
        spacing="4",
        width="100%",
    )


# on_load runs on every (re)connect of the websocket: a text interview whose process died resumes here.
@rx.page(route=routes.CANDIDATE, title="Your interview", on_load=[CandidateState.load_link, TextInterviewState.resume_after_reconnect])
def candidate_page() -> rx.Component:
    return candidate_shell(
        rx.cond(
            CandidateState.link_state == "loading",
            rx.hstack(rx.spinner(), rx.text(M["link.loading"]), id="link-loading"),
            rx.cond(CandidateState.link_state == "valid", _flow(), _unusable_link()),
        ),
        brand_text=M["shell.brand"],
        footer=M["shell.footer"],
        lang=CandidateState.lang,
        direction=CandidateState.text_direction,
    )
