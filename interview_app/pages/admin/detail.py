"""`/admin/interviews/[interview_id]`: candidate, template, status, timeline, then the review sections."""

from __future__ import annotations

import reflex as rx

from interview_app.components.admin import DETAIL, admin_page, status_badge
from interview_app.components.review import review_sections
from interview_app.state.admin_detail import EXTRA_TIME_OPTIONS, InterviewDetailState
from interview_app.state.auth import AdminState

S = InterviewDetailState


def _fact(label: str, value: rx.Var) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(rx.cond(value != "", value, "—")))


def _actions() -> rx.Component:
    return rx.cond(
        AdminState.can_edit,
        rx.hstack(
            rx.cond(
                S.can_reissue,
                rx.button(rx.icon("refresh-cw", size=14), "New link and email it", variant="soft", on_click=S.reissue, id="reissue"),
            ),
            rx.cond(
                S.can_revoke,
                rx.alert_dialog.root(
                    rx.alert_dialog.trigger(rx.button(rx.icon("ban", size=14), "Revoke", color_scheme="red", variant="soft", id="revoke")),
                    rx.alert_dialog.content(
                        rx.alert_dialog.title("Revoke this interview?"),
                        rx.alert_dialog.description("The candidate's link stops working and the interview is marked cancelled."),
                        rx.hstack(
                            rx.alert_dialog.cancel(rx.button("Keep", variant="soft", color_scheme="gray")),
                            rx.alert_dialog.action(rx.button("Revoke", color_scheme="red", on_click=S.revoke, id="revoke-confirm")),
                            justify="end",
                            spacing="3",
                        ),
                    ),
                ),
            ),
            spacing="3",
        ),
    )


def _summary() -> rx.Component:
    d = S.detail
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.heading(d["candidate_name"], size="6", id="detail-candidate"),
                status_badge(d["status"], id="detail-status", data_status=d["status"]),
                rx.cond(
                    d["blind"] == "True",
                    rx.badge(
                        rx.icon("eye-off", size=14), "Blind review", color_scheme="violet", variant="soft", size="2", id="detail-blind"
                    ),
                ),
                rx.cond(
                    d["decision"] != "",
                    rx.badge(
                        "Decision: ",
                        d["decision"],
                        color_scheme=rx.match(d["decision"], ("advance", "green"), ("decline", "red"), "amber"),
                        variant="soft",
                        size="2",
                        id="detail-decision",
                    ),
                ),
                rx.badge(
                    rx.icon(rx.cond(d["mode"] == "text", "message-square-text", "mic"), size=14),
                    rx.cond(d["mode"] == "text", "Text interview", "Voice interview"),
                    variant="outline",
                    color_scheme="gray",
                    size="2",
                    id="detail-mode",
                ),
                rx.spacer(),
                _actions(),
                align="center",
                wrap="wrap",
                gap="12px",
                width="100%",
            ),
            rx.cond(
                S.new_link != "",
                rx.callout(
                    rx.vstack(
                        rx.text("New link (shown once): ", rx.code(S.new_link, id="new-link")),
                        rx.text(S.action_message, size="2"),
                        rx.button("Copy link", size="1", variant="soft", on_click=[rx.set_clipboard(S.new_link), rx.toast("Link copied.")]),
                        spacing="2",
                    ),
                    icon="key-round",
                    width="100%",
                ),
            ),
            rx.data_list.root(
                _fact("Email", d["candidate_email"]),
                _fact("Reference", d["candidate_ref"]),
                _fact("Template", d["template_title"]),
                _fact("Rubric version", d["template_version"]),
                _fact("Language", d["language"]),
                _fact("Invited", d["created_at"]),
                _fact("Link valid until", d["invite_expires_at"]),
                _fact("Started", d["started_at"]),
                _fact("Ended", d["ended_at"]),
                _fact("End reason", d["end_reason"]),
                orientation="horizontal",
                size="2",
            ),
            spacing="4",
            width="100%",
        ),
        width="100%",
    )


def _adjustment_actions() -> rx.Component:
    """Admins only, while the request is open: the extra time (when it was asked for), Grant, Decline."""
    return rx.cond(
        AdminState.can_edit & S.adjustment_open,
        rx.flex(
            rx.cond(
                S.adjustment_asks_extra_time,
                rx.hstack(
                    rx.text("Extra time", size="2"),
                    rx.select.root(
                        rx.select.trigger(id="adjustment-extra-time", aria_label="Extra time to grant"),
                        rx.select.content(*[rx.select.item(label, value=value) for value, label in EXTRA_TIME_OPTIONS.items()]),
                        value=S.adjustment_extra_time,
                        on_change=S.set_adjustment_extra_time,
                    ),
                    align="center",
                    spacing="2",
                ),
            ),
            rx.button(rx.icon("check", size=14), "Grant", color_scheme="green", on_click=S.grant_adjustment, id="adjustment-grant"),
            rx.button(
                rx.icon("x", size=14),
                "Decline",
                color_scheme="gray",
                variant="soft",
                on_click=S.decline_adjustment,
                id="adjustment-decline",
            ),
            gap="12px",
            wrap="wrap",
            align="center",
        ),
    )


def _adjustment() -> rx.Component:
    """The candidate's request for an adjustment: what they asked, their note (text), the answer."""
    a = S.adjustment
    return rx.cond(
        S.has_adjustment,
        rx.card(
            rx.vstack(
                rx.flex(
                    rx.heading("Adjustment request", size="4"),
                    rx.badge(
                        a["status_label"],
                        color_scheme=rx.match(a["status"], ("requested", "amber"), ("granted", "green"), "gray"),
                        variant="soft",
                        size="2",
                        id="adjustment-status",
                        data_status=a["status"],
                    ),
                    align="center",
                    wrap="wrap",
                    gap="12px",
                ),
                rx.data_list.root(
                    _fact("Asked for", a["kinds_text"]),
                    rx.cond(a["status"] == "granted", _fact("Extra time granted", "+" + a["extra_time_percent"] + " %")),
                    _fact("Decided by", a["decided_by"]),
                    _fact("Decided", a["decided_at"]),
                    orientation="horizontal",
                    size="2",
                ),
                rx.vstack(
                    rx.text("The candidate's note", size="2", weight="medium"),
                    # Plain text (React escapes it); line breaks kept, long words wrapped.
                    rx.text(
                        rx.cond(a["note"] != "", a["note"], "(no note)"),
                        size="2",
                        white_space="pre-wrap",
                        style={"overflowWrap": "anywhere"},
                        id="adjustment-note",
                    ),
                    spacing="1",
                    width="100%",
                ),
                rx.text(a["policy_text"], size="2", color_scheme="gray"),
                _adjustment_actions(),
                rx.cond(
                    S.adjustment_message != "",
                    rx.callout(
                        S.adjustment_message, icon="circle-check", color_scheme="green", size="1", width="100%", id="adjustment-message"
                    ),
                ),
                rx.cond(
                    S.adjustment_error != "",
                    rx.callout(
                        S.adjustment_error, icon="triangle_alert", color_scheme="red", size="1", width="100%", id="adjustment-error"
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
            id="adjustment-card",
        ),
    )


def _event_row(e: rx.Var) -> rx.Component:
    """One event: time, kind and actor in columns; the detail wraps below them on a narrow screen."""
    return rx.flex(
        rx.text(e["at"], size="2", white_space="nowrap", width="180px", flex_shrink="0"),
        rx.text(e["kind"], weight="medium", size="2", width="160px", flex_shrink="0"),
        rx.text(e["actor"], size="2", color_scheme="gray", width="150px", flex_shrink="0", style={"overflowWrap": "anywhere"}),
        rx.text(e["detail"], size="2", flex="1 1 300px", style={"overflowWrap": "anywhere"}),
        wrap="wrap",
        gap="2px 12px",
        padding_y="6px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        width="100%",
        class_name="timeline-event",
    )


def _timeline() -> rx.Component:
    return rx.card(
        rx.flex(
            rx.heading("Timeline", size="4"),
            rx.spacer(),
            rx.cond(
                S.message_count > 0,
                rx.button(
                    rx.icon(rx.cond(S.show_messages, "eye-off", "messages-square"), size=14),
                    rx.cond(S.show_messages, "Hide the chat messages", "Show the " + S.messages_label),
                    variant="soft",
                    size="1",
                    on_click=S.toggle_messages,
                    id="toggle-messages",
                ),
            ),
            align="center",
            wrap="wrap",
            gap="8px",
            margin_bottom="12px",
        ),
        rx.cond(
            (S.message_count > 0) & ~S.show_messages,
            rx.text(
                S.messages_hidden_note,
                size="2",
                color_scheme="gray",
                id="messages-hidden",
                margin_bottom="8px",
            ),
        ),
        rx.flex(
            rx.text("When (UTC)", size="2", weight="bold", width="180px", flex_shrink="0"),
            rx.text("Event", size="2", weight="bold", width="160px", flex_shrink="0"),
            rx.text("By", size="2", weight="bold", width="150px", flex_shrink="0"),
            rx.text("Detail", size="2", weight="bold", flex="1 1 300px"),
            gap="2px 12px",
            padding_bottom="6px",
            border_bottom=f"1px solid {rx.color('gray', 6)}",
            display=rx.breakpoints(initial="none", md="flex"),
            width="100%",
        ),
        rx.vstack(rx.foreach(S.timeline, _event_row), spacing="0", width="100%", id="timeline"),
        width="100%",
    )


def _content() -> rx.Component:
    return rx.vstack(
        rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text("All interviews"), align="center", spacing="1"), href="/admin", size="2"),
        rx.cond(
            S.found,
            rx.vstack(
                _summary(),
                _adjustment(),
                _timeline(),
                review_sections(),
                rx.moment(interval=2000, format="HH:mm:ss", on_change=S.poll, display="none"),
                spacing="4",
                width="100%",
            ),
            rx.cond(
                S.loaded,
                rx.callout("There is no interview at this address. Open it from the interview list.", icon="search-x", id="detail-missing"),
                rx.center(rx.spinner()),
            ),
        ),
        spacing="4",
        width="100%",
    )


@rx.page(route=DETAIL, title="Interview · Admin", on_load=AdminState.check_session)
def interview_detail_page() -> rx.Component:
    return admin_page("Interview", _content(), on_ready=S.load(rx.Var("window.location.pathname").to(str)))
