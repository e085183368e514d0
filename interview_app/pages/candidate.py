"""The candidate's interview page: `/interview/[token]`.

Unusable links get a page saying what happened and whom to contact. A valid
link: welcome → consent → device check → voice room; or the text interview
(``text_interview_panel()``) when LiveKit is not configured or the candidate
cannot use a microphone.
"""

from __future__ import annotations

import reflex as rx

from interview_app import routes
from interview_app.components import livekit as lk
from interview_app.components.inline_icons import callout, inline_icon
from interview_app.components.layout import candidate_shell, confirm_dialog
from interview_app.components.text_interview import text_interview_panel
from interview_app.sanitize import MAX_MESSAGE_CHARS
from interview_app.state.candidate import CandidateState

_TITLES = {
    "unknown": "We could not find this interview",
    "expired": "This interview link has expired",
    "revoked": "This invitation was withdrawn",
    "finished": "This interview is finished",
    "failed": "This interview could not be completed",
}

# The heading says what happened; this says what to do next (the service's sentence would repeat the heading).
_NEXT_STEPS = {
    "unknown": "Check that you copied the whole link: if it came in an email, make sure nothing was cut off at the end.",
    "expired": "Ask the recruiter for a new invitation link.",
    "revoked": "The hiring team withdrew this invitation; contact them if you think this is a mistake.",
    "finished": "Thank you for taking part. There is nothing more to do: the hiring team will be in touch.",
    "failed": "Contact the hiring team to arrange another interview.",
}


def _contact() -> rx.Component:
    return rx.text(
        "Questions? Contact ",
        rx.link(CandidateState.support_email, href="mailto:" + CandidateState.support_email),
        " and mention the link you received.",
        size="2",
        color_scheme="gray",
    )


def _unusable_link() -> rx.Component:
    return rx.vstack(
        rx.heading(
            rx.match(CandidateState.link_state, *_TITLES.items(), "This link cannot be used"),
            size="6",
            id="link-problem",
        ),
        rx.text(rx.match(CandidateState.link_state, *_NEXT_STEPS.items(), CandidateState.message), id="link-next-step"),
        _contact(),
        spacing="3",
    )


def _welcome() -> rx.Component:
    return rx.vstack(
        rx.heading("Hello, ", CandidateState.candidate_name, size="6", id="welcome"),
        rx.text(
            CandidateState.org_name,
            " invites you to an interview for the role of ",
            rx.text.strong(CandidateState.role_title),
            ".",
        ),
        rx.hstack(
            inline_icon("clock", size=16),
            rx.text("About ", CandidateState.duration_minutes, " minutes, with an AI interviewer"),
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
        dot("1 · Consent", CandidateState.step == "consent"),
        rx.cond(
            voice,
            rx.fragment(dot("2 · Devices", CandidateState.step == "devices"), dot("3 · Interview", interview)),
            dot("2 · Interview", interview),
        ),
        spacing="2",
        wrap="wrap",
        id="flow-steps",
    )


def _consent() -> rx.Component:
    return rx.vstack(
        rx.heading("Before we start", size="4"),
        rx.box(
            rx.text(CandidateState.consent_text, size="2", id="consent-text"),
            padding="12px 14px",
            border_radius="var(--radius-3)",
            background=rx.color("gray", 3),
            width="100%",
        ),
        rx.checkbox(
            "I have read this and agree to be interviewed and recorded.",
            checked=CandidateState.consent_checked,
            on_change=CandidateState.set_consent_checked,
            id="consent-checkbox",
        ),
        rx.button(
            "Continue",
            on_click=CandidateState.accept_consent,
            disabled=~CandidateState.consent_checked,
            id="consent-continue",
            size="3",
        ),
        spacing="3",
        width="100%",
    )


def _device_check() -> rx.Component:
    return rx.vstack(
        rx.cond(
            CandidateState.rejoining,
            callout(
                "Welcome back: your interview is still in progress. Check your microphone, then rejoin the same interview.",
                icon="rotate-ccw",
                color_scheme="indigo",
                id="rejoin-notice",
            ),
        ),
        rx.heading("Check your microphone", size="4"),
        rx.text(
            "Say a few words: the bar below should move. Use headphones if you can, and turn on your camera only if you want to.",
            size="2",
            color_scheme="gray",
        ),
        lk.device_check(
            on_mic_ready=CandidateState.on_mic_ready,
            on_mic_device=CandidateState.on_mic_device,
            on_camera_change=CandidateState.on_camera_change,
            on_speaker_test=CandidateState.on_speaker_test,
            on_device_error=CandidateState.on_device_error,
            id="device-check",
        ),
        rx.cond(
            CandidateState.mic_ready,
            callout("We can hear you. Your microphone works.", icon="circle-check", color_scheme="green", size="1", id="mic-ok"),
            callout("Waiting to hear you… speak or make a sound.", icon="mic", color_scheme="gray", size="1", id="mic-waiting"),
        ),
        rx.cond(
            CandidateState.speaker_tested,
            rx.text("Did you hear the test sound? If not, check your speaker volume.", size="2", color_scheme="gray"),
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
                    "Preparing your interview…",
                    rx.cond(CandidateState.rejoining, "Rejoin the interview", "Join the interview"),
                ),
                on_click=CandidateState.join,
                disabled=CandidateState.joining | ~CandidateState.mic_ready,
                id="join",
                size="3",
            ),
            rx.cond(
                CandidateState.allow_text_mode,
                rx.button(
                    "I can't use a microphone",
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
                "Try again",
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
        rx.button("Leave interview", color_scheme="red", variant="soft", id="leave-interview"),
        "Leave the interview?",
        "The interviewer waits a short while for you to come back through your link; after that the interview ends "
        "with what you have said so far.",
        rx.button("Stay in the interview", variant="soft", color_scheme="gray", id="leave-cancel"),
        rx.button("Leave", color_scheme="red", on_click=CandidateState.leave_room, id="leave-confirm"),
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
                    question_template="Question {i} of {n}",
                    time_template="{time} left",
                    paused_template="Paused: take your time ({time})",
                    ended_text="The interviewer is closing the interview.",
                    id="interview-progress",
                    style={"fontSize": "14px", "fontWeight": 500, "opacity": 0.8, "minHeight": "1.4em"},
                ),
                lk.connection_hint(
                    poor_text="Your connection is weak: the interviewer may hear you with gaps. Move closer to your Wi-Fi or close other"
                    " programs that use the network.",
                    lost_text="Your connection is lost for the moment; it usually comes back by itself within a few seconds.",
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
                    placeholder="The interviewer's words appear here as captions.",
                    id="captions",
                    style={"minHeight": "3em", "fontSize": "16px", "lineHeight": "1.5", "textAlign": "center", "opacity": 0.9},
                ),
                lk.start_audio(label="Click to hear the interviewer"),
                rx.cond(
                    (CandidateState.connection == "connected") | (CandidateState.connection == "reconnecting"),
                    rx.hstack(
                        lk.mic_toggle(
                            mute_label="Mute microphone",
                            unmute_label="Unmute microphone",
                            on_device_error=CandidateState.on_device_error,
                            id="mic-toggle",
                        ),
                        lk.moment_button(label="Give me a moment", id="give-me-a-moment"),
                        _leave_button(),
                        spacing="3",
                        align="center",
                        justify="center",
                        wrap="wrap",
                    ),
                ),
                lk.conversation(
                    agent_label="Interviewer",
                    you_label="You",
                    empty_text="The conversation appears here as you speak.",
                    log_label="Conversation with the interviewer",
                    typing=CandidateState.connection == "connected",
                    type_placeholder="Prefer to type this answer? Write it here and press Enter.",
                    send_label="Send",
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
            "Speak naturally; the interviewer waits until you finish. Say “could you repeat that?” or “could you rephrase"
            " that?” whenever you need to; “Give me a moment” (or saying so) stops the question clock while you think."
            " You can leave at any time with “Leave interview”.",
            size="1",
            color_scheme="gray",
        ),
        spacing="3",
        width="100%",
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
        rx.cond(CandidateState.step != "consent", lk.integrity_watcher(on_signal=CandidateState.on_integrity_signal)),
        rx.divider(),
        _contact(),
        spacing="4",
        width="100%",
    )


@rx.page(route=routes.CANDIDATE, title="Your interview", on_load=CandidateState.load_link)
def candidate_page() -> rx.Component:
    return candidate_shell(
        rx.cond(
            CandidateState.link_state == "loading",
            rx.hstack(rx.spinner(), rx.text("Checking your interview link…"), id="link-loading"),
            rx.cond(CandidateState.link_state == "valid", _flow(), _unusable_link()),
        )
    )
