"""`/admin/webhooks`: signed outbound webhooks — add endpoints, pause, rotate secrets, delete; the delivery log."""

from __future__ import annotations

import reflex as rx

from interview_app.components.admin import WEBHOOKS, admin_page
from interview_app.services.webhooks import LOG_LIMIT, MAX_ATTEMPTS, SIGNATURE_HEADER
from interview_app.state.admin_webhooks import WebhooksState
from interview_app.state.auth import AdminState

S = WebhooksState

DELIVERY_COLORS = {"pending": "blue", "delivering": "amber", "delivered": "green", "failed": "red"}


def _secret_card() -> rx.Component:
    return rx.cond(
        S.secret_shown != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("key-round", size=16)),
            rx.vstack(
                rx.text(
                    "Signing secret for ",
                    rx.text.strong(S.secret_for),
                    ". It is shown only this once: copy it into the receiver now.",
                    size="2",
                ),
                rx.hstack(
                    rx.code(
                        S.secret_shown,
                        id="webhook-secret",
                        size="3",
                        variant="outline",
                        style={"word_break": "break-all", "user_select": "all", "padding": "6px 10px"},
                    ),
                    rx.icon_button(
                        rx.icon("copy", size=14),
                        on_click=[rx.set_clipboard(S.secret_shown), rx.toast("Secret copied.")],
                        variant="soft",
                        id="webhook-secret-copy",
                        aria_label="Copy the secret",
                    ),
                    align="center",
                    width="100%",
                ),
                rx.button("I have copied it", size="1", variant="soft", on_click=S.dismiss_secret, id="webhook-secret-done"),
                spacing="2",
                width="100%",
            ),
            color_scheme="amber",
            width="100%",
        ),
    )


def _type_checkbox(choice: rx.Var) -> rx.Component:
    return rx.checkbox(
        choice["label"],
        checked=choice["checked"] != "",
        on_change=lambda checked: S.set_form_type(choice["type"], checked),
        class_name="webhook-type",
        data_event_type=choice["type"],
    )


def _add_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Add an endpoint", size="4"),
            rx.text(
                "Events are posted as JSON, signed with the endpoint's secret in the ",
                rx.code(SIGNATURE_HEADER),
                " header (docs/admin.md has the check). Payloads include the candidate's name and email.",
                size="2",
                color_scheme="gray",
            ),
            rx.input(
                value=S.form_url,
                on_change=S.set_form_url,
                placeholder="https://ats.example.com/hooks/interviews",
                max_length=500,
                width="100%",
                id="webhook-url",
            ),
            rx.input(
                value=S.form_description,
                on_change=S.set_form_description,
                placeholder="Description (optional), e.g. Greenhouse sync",
                max_length=200,
                width="100%",
                id="webhook-description",
            ),
            rx.flex(rx.foreach(S.event_choices, _type_checkbox), gap="8px 20px", wrap="wrap"),
            rx.cond(S.form_error != "", rx.callout(S.form_error, icon="triangle_alert", color_scheme="red", size="1", id="webhook-error")),
            rx.button(rx.icon("plus", size=14), "Add endpoint", on_click=S.add_endpoint, id="webhook-add"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _endpoint_row(e: rx.Var) -> rx.Component:
    active = e["active"] != ""
    return rx.table.row(
        rx.table.cell(
            rx.text(e["url"], weight="medium", style={"word_break": "break-all"}),
            rx.text(e["description"], size="1", color_scheme="gray"),
        ),
        rx.table.cell(rx.text(e["types"], size="2")),
        rx.table.cell(
            rx.hstack(
                rx.switch(checked=active, on_change=lambda value: S.set_endpoint_active(e["id"], value), class_name="endpoint-active"),
                rx.cond(active, rx.badge("active", color_scheme="green"), rx.badge("paused", color_scheme="gray")),
                align="center",
            )
        ),
        rx.table.cell(e["created"]),
        rx.table.cell(
            rx.hstack(
                rx.alert_dialog.root(
                    rx.alert_dialog.trigger(rx.button("Rotate secret", size="1", variant="soft", class_name="rotate-secret")),
                    rx.alert_dialog.content(
                        rx.alert_dialog.title("Make a new secret?"),
                        rx.alert_dialog.description(
                            "Deliveries from now on are signed with the new secret; the receiver refuses them until it has it."
                        ),
                        rx.hstack(
                            rx.alert_dialog.cancel(rx.button("Keep the old one", variant="soft", color_scheme="gray")),
                            rx.alert_dialog.action(rx.button("Rotate", on_click=S.rotate(e["id"]), class_name="rotate-confirm")),
                            justify="end",
                            spacing="3",
                        ),
                    ),
                ),
                rx.alert_dialog.root(
                    rx.alert_dialog.trigger(
                        rx.button("Delete", size="1", variant="soft", color_scheme="red", class_name="delete-endpoint")
                    ),
                    rx.alert_dialog.content(
                        rx.alert_dialog.title("Delete this endpoint?"),
                        rx.alert_dialog.description(
                            "Its queued events are not sent, and its delivery log goes with it. Pause it instead to keep them."
                        ),
                        rx.hstack(
                            rx.alert_dialog.cancel(rx.button("Keep", variant="soft", color_scheme="gray")),
                            rx.alert_dialog.action(
                                rx.button("Delete", color_scheme="red", on_click=S.delete(e["id"]), class_name="delete-confirm")
                            ),
                            justify="end",
                            spacing="3",
                        ),
                    ),
                ),
                spacing="2",
            )
        ),
        data_endpoint_id=e["id"],
    )


def _endpoints() -> rx.Component:
    return rx.cond(
        S.endpoints.length() > 0,
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Endpoint"),
                    rx.table.column_header_cell("Events"),
                    rx.table.column_header_cell("Active"),
                    rx.table.column_header_cell("Added (UTC)"),
                    rx.table.column_header_cell(""),
                )
            ),
            rx.table.body(rx.foreach(S.endpoints, _endpoint_row)),
            variant="surface",
            width="100%",
            id="endpoint-table",
        ),
        rx.card(rx.text("No endpoints yet. Add one above to send interview events to your ATS.", color_scheme="gray")),
    )


def _delivery_row(d: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(d["created"], size="1")),
        rx.table.cell(rx.code(d["event_type"], size="1")),
        rx.table.cell(rx.text(d["endpoint_url"], size="1", style={"word_break": "break-all"})),
        rx.table.cell(
            rx.badge(
                d["status"],
                color_scheme=rx.match(d["status"], *DELIVERY_COLORS.items(), "gray"),
                variant="soft",
                class_name="delivery-status",
            )
        ),
        rx.table.cell(d["attempts"]),
        rx.table.cell(d["last_status_code"]),
        rx.table.cell(rx.text(d["last_error"], size="1", color_scheme="gray", style={"word_break": "break-word"})),
        rx.table.cell(rx.text(d["next_attempt"], size="1")),
        rx.table.cell(
            rx.cond(
                d["can_send_again"] != "",
                rx.button("Send again", size="1", variant="soft", on_click=S.send_again(d["id"]), class_name="send-again"),
            )
        ),
        data_delivery_id=d["id"],
    )


def _deliveries() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Delivery log", size="4"),
            rx.spacer(),
            rx.button(rx.icon("refresh-cw", size=14), "Refresh", size="1", variant="soft", on_click=S.refresh, id="webhook-refresh"),
            width="100%",
            align="center",
        ),
        rx.text(
            f"The latest {LOG_LIMIT} deliveries. A failed attempt is tried again after 30 s, 2 min, 10 min, 1 h, 6 h and 12 h; "
            f"after attempt {MAX_ATTEMPTS} the delivery is failed. Times are UTC.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            S.deliveries.length() > 0,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Time"),
                        rx.table.column_header_cell("Event"),
                        rx.table.column_header_cell("Endpoint"),
                        rx.table.column_header_cell("Status"),
                        rx.table.column_header_cell("Attempts"),
                        rx.table.column_header_cell("HTTP"),
                        rx.table.column_header_cell("Last error"),
                        rx.table.column_header_cell("Next attempt"),
                        rx.table.column_header_cell(""),
                    )
                ),
                rx.table.body(rx.foreach(S.deliveries, _delivery_row)),
                variant="surface",
                size="1",
                width="100%",
                id="delivery-table",
            ),
            rx.card(rx.text("Nothing sent yet.", color_scheme="gray")),
        ),
        spacing="3",
        width="100%",
    )


def _content() -> rx.Component:
    return rx.vstack(_secret_card(), _add_card(), _endpoints(), _deliveries(), spacing="4", width="100%")


@rx.page(route=WEBHOOKS, title="Webhooks · Admin", on_load=AdminState.check_session)
def webhooks_page() -> rx.Component:
    return admin_page("Webhooks", _content(), on_ready=S.load, admin_only=True)
