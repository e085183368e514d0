"""The text interview panel shown on the candidate page when the interview runs as a chat.

The candidate page renders ``text_interview_panel()`` when ``CandidateState.step == "text"``
(no LiveKit configured, or the candidate chose "I can't use a microphone"). The same
Interviewer as in the voice room runs in the app backend; see interview_app/state/text_interview.py.
"""

from __future__ import annotations

import reflex as rx

from interview_app.components.inline_icons import callout, inline_icon
from interview_app.components.layout import confirm_dialog
from interview_app.sanitize import MAX_MESSAGE_CHARS
from interview_app.state.text_interview import TextInterviewState as S

M = S.msg  # the candidate's language (interview_app/i18n)


def _bubble(message: rx.Var) -> rx.Component:
    is_agent = message["speaker"] == "agent"
    return rx.hstack(
        rx.cond(is_agent, rx.avatar(fallback="AI", size="2", radius="full", color_scheme="indigo", variant="soft")),
        rx.box(
            rx.text(message["text"], size="3", white_space="pre-wrap", style={"overflowWrap": "anywhere"}),
            padding_x="0.9em",
            padding_y="0.6em",
            border_radius="16px",
            max_width="82%",
            background=rx.cond(is_agent, rx.color("gray", 3), rx.color("indigo", 9)),
            color=rx.cond(is_agent, rx.color("gray", 12), "white"),
            border_top_left_radius=rx.cond(is_agent, "4px", "16px"),
            border_top_right_radius=rx.cond(is_agent, "16px", "4px"),
        ),
        justify=rx.cond(is_agent, "start", "end"),
        align="start",
        spacing="2",
        width="100%",
        class_name=rx.cond(is_agent, "ti-message ti-agent", "ti-message ti-candidate"),
        custom_attrs={"data-streaming": message["streaming"]},
    )


def _typing() -> rx.Component:
    return rx.hstack(
        rx.avatar(fallback="AI", size="2", radius="full", color_scheme="indigo", variant="soft"),
        rx.hstack(
            rx.spinner(size="1"),
            rx.text(M["text.typing"], size="2", color_scheme="gray"),
            padding_x="0.9em",
            padding_y="0.6em",
            border_radius="16px",
            background=rx.color("gray", 3),
            align="center",
            spacing="2",
        ),
        align="center",
        spacing="2",
        id="ti-typing",
    )


def _header() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.badge(
                inline_icon("list-checks", size=14),
                S.ti_question_text,
                size="2",
                variant="soft",
                id="ti-progress",
            ),
            rx.badge(
                inline_icon("clock", size=14),
                S.ti_time_text,
                size="2",
                variant="soft",
                color_scheme=rx.cond(S.ti_seconds_left < 120, "amber", "gray"),
                id="ti-time",
            ),
            rx.spacer(),
            _end_button(),
            width="100%",
            align="center",
            spacing="2",
            wrap="wrap",
        ),
        rx.progress(value=S.ti_progress_percent, size="1", width="100%", custom_attrs={"aria-label": M["text.progress_label"]}),
        width="100%",
        spacing="2",
    )


def _end_button() -> rx.Component:
    return confirm_dialog(
        rx.button(inline_icon("square", size=14), M["text.end"], variant="soft", color_scheme="red", size="2", id="ti-end"),
        M["text.end_title"],
        M["text.end_body"],
        rx.button(M["text.end_cancel"], variant="soft", color_scheme="gray", id="ti-end-cancel"),
        rx.button(M["text.end"], color_scheme="red", on_click=S.end_interview, id="ti-end-confirm"),
        open=S.ti_confirm_end,
        on_open_change=S.set_confirm_end,
    )


def _conversation(height: str) -> rx.Component:
    return rx.auto_scroll(
        rx.vstack(
            rx.foreach(S.ti_messages, _bubble),
            rx.cond(S.ti_streaming, _bubble(rx.Var.create({"speaker": "agent", "text": S.ti_partial, "streaming": "1"}))),
            rx.cond(S.ti_thinking & ~S.ti_streaming, _typing()),
            spacing="3",
            width="100%",
        ),
        height=height,
        padding="12px",
        box_sizing="border-box",
        width="100%",
        border=f"1px solid {rx.color('gray', 5)}",
        border_radius="var(--radius-4)",
        background=rx.color("gray", 1),
        id="ti-messages",
        # focusable so that keyboard users can scroll it (axe: scrollable-region-focusable)
        custom_attrs={"role": "log", "aria-live": "polite", "aria-label": M["text.conversation_label"], "tabIndex": "0"},
    )


def _composer() -> rx.Component:
    return rx.el.form(
        rx.hstack(
            rx.text_area(
                name="message",
                placeholder=M["text.placeholder"],
                enter_key_submit=True,
                rows="3",
                resize="vertical",
                width="100%",
                max_length=MAX_MESSAGE_CHARS,
                auto_focus=True,
                # A refused answer comes back as state (plain JSON), never through rx.set_value.
                default_value=S.ti_draft,
                key=S.ti_draft_key,
                id="ti-input",
                custom_attrs={"aria-label": M["text.answer_label"]},
            ),
            rx.button(
                rx.cond(S.ti_can_send, inline_icon("send-horizontal", size=16), rx.spinner(size="2")),
                M["text.send"],
                type="submit",
                disabled=~S.ti_can_send,
                size="3",
                id="ti-send",
            ),
            align="end",
            spacing="2",
            width="100%",
        ),
        on_submit=S.send_message,
        reset_on_submit=True,
        style={"width": "100%"},
    )


def _active() -> rx.Component:
    return rx.vstack(
        _header(),
        _conversation("52vh"),
        rx.cond(
            S.ti_error != "",
            callout(S.ti_error, icon="triangle-alert", color_scheme="red", size="1", width="100%", id="ti-error"),
        ),
        _composer(),
        rx.text(
            M["text.help"],
            size="1",
            color_scheme="gray",
        ),
        spacing="3",
        width="100%",
    )


def _finished() -> rx.Component:
    return rx.vstack(
        callout(
            M["text.finished"],
            icon="circle-check",
            color_scheme="green",
            width="100%",
            id="ti-finished",
        ),
        rx.cond(S.ti_messages.length() > 0, _conversation("40vh")),
        spacing="3",
        width="100%",
    )


def _refused() -> rx.Component:
    # Fixed icon names (see pages/candidate.py _room_status): no dynamic icon loader on the candidate page.
    return rx.cond(
        S.ti_status == "refused",
        callout(S.ti_notice, icon="info", color_scheme="blue", width="100%", id="ti-refused"),
        callout(S.ti_notice, icon="triangle-alert", color_scheme="red", width="100%", id="ti-refused"),
    )


def _starting() -> rx.Component:
    return rx.hstack(rx.spinner(), rx.text(M["text.starting"]), align="center", spacing="2", id="ti-starting")


def text_interview_panel() -> rx.Component:
    return rx.box(
        rx.match(
            S.ti_status,
            ("active", _active()),
            ("finished", _finished()),
            ("refused", _refused()),
            ("error", _refused()),
            _starting(),
        ),
        on_mount=S.open_interview,
        width="100%",
        id="text-interview",
    )
