"""`/admin`: the interview list (sign-in form when signed out)."""

from __future__ import annotations

import reflex as rx

from interview_app import routes
from interview_app.components.admin import admin_page, status_badge
from interview_app.state.admin_list import STATUS_CHOICES, InterviewListState
from interview_app.state.auth import AdminState

S = InterviewListState


def _search() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(
                name="search",
                placeholder="Search name or email",
                value=S.search,
                on_change=S.set_search,
                width="240px",
                id="list-search",
            ),
            rx.button(rx.icon("search", size=14), "Search", type="submit", variant="soft"),
            spacing="2",
        ),
        on_submit=S.apply_search,
        reset_on_submit=False,
        width="auto",  # a form is a full-width block; the toolbar would wrap even on a wide screen
    )


def _filters() -> rx.Component:
    return rx.flex(
        rx.select.root(
            rx.select.trigger(placeholder="Status", id="status-filter"),
            rx.select.content(*[rx.select.item("All statuses" if s == "all" else s.replace("_", " "), value=s) for s in STATUS_CHOICES]),
            value=S.status_filter,
            on_change=S.set_status_filter,
        ),
        rx.select.root(
            rx.select.trigger(placeholder="Template", id="template-filter"),
            rx.select.content(
                rx.select.item("All templates", value="all"),
                rx.foreach(S.template_options, lambda t: rx.select.item(t["title"], value=t["id"])),
            ),
            value=S.template_filter,
            on_change=S.set_template_filter,
        ),
        rx.hstack(
            rx.text("From", size="2", color_scheme="gray"),
            rx.input(type="date", value=S.date_from, on_change=S.set_date_from, id="date-from"),
            rx.text("to", size="2", color_scheme="gray"),
            rx.input(type="date", value=S.date_to, on_change=S.set_date_to, id="date-to"),
            align="center",
            spacing="2",
            wrap="wrap",
        ),
        rx.button("Clear", on_click=S.clear_filters, variant="ghost"),
        spacing="3",
        wrap="wrap",
        align="center",
    )


def _adjustment_badge(accommodation: rx.Var) -> rx.Component:
    """The candidate asked for an adjustment: amber while the team has not answered, green once granted."""
    return rx.match(
        accommodation,
        (
            "requested",
            rx.badge(
                "Adjustment requested",
                color_scheme="amber",
                variant="soft",
                size="2",
                class_name="adjustment-badge",
                data_adjustment="requested",
            ),
        ),
        (
            "granted",
            rx.badge(
                "Adjustment granted",
                color_scheme="green",
                variant="soft",
                size="2",
                class_name="adjustment-badge",
                data_adjustment="granted",
            ),
        ),
        rx.fragment(),
    )


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(row["candidate_name"], href="/admin/interviews/" + row["id"].to(str), weight="medium"),
            rx.text(row["candidate_email"], size="1", color_scheme="gray"),
        ),
        rx.table.cell(row["template_title"]),
        rx.table.cell(
            rx.flex(
                status_badge(row["status"], data_status=row["status"], class_name="status-badge"),
                _adjustment_badge(row["accommodation"]),
                gap="6px",
                wrap="wrap",
                align="center",
            )
        ),
        rx.table.cell(rx.text(row["created_at"], size="2")),
        rx.table.cell(rx.text(row["updated_at"], size="2", color_scheme="gray")),
        data_interview_id=row["id"],
        class_name="interview-row",
    )


def _table() -> rx.Component:
    return rx.cond(
        S.rows.length() > 0,
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Candidate"),
                    rx.table.column_header_cell("Template"),
                    rx.table.column_header_cell("Status"),
                    rx.table.column_header_cell("Invited (UTC)"),
                    rx.table.column_header_cell("Last change"),
                )
            ),
            rx.table.body(rx.foreach(S.rows, _row)),
            variant="surface",
            width="100%",
            id="interview-table",
        ),
        rx.card(
            rx.vstack(
                rx.text("No interviews match.", weight="medium"),
                rx.text("Invite a candidate from the Candidates page, or clear the filters.", size="2", color_scheme="gray"),
                spacing="1",
            ),
            id="no-interviews",
        ),
    )


def _pager() -> rx.Component:
    return rx.hstack(
        rx.button(
            rx.icon("chevron-left", size=14), "Newer", on_click=S.previous_page, disabled=S.cursor_stack.length() == 0, variant="soft"
        ),
        rx.text("Page ", S.page_number, size="2", color_scheme="gray", white_space="nowrap"),
        rx.button(
            "Older", rx.icon("chevron-right", size=14), on_click=S.next_page, disabled=S.next_cursor == "", variant="soft", id="next-page"
        ),
        rx.spacer(),
        rx.text("Live · checked ", S.last_refresh, " UTC", size="1", color_scheme="gray", id="live-indicator"),
        width="100%",
        align="center",
    )


def _content() -> rx.Component:
    return rx.vstack(
        rx.flex(
            _search(),
            rx.spacer(),
            rx.hstack(
                rx.button(rx.icon("download", size=14), "Export CSV", on_click=S.export, variant="outline", id="export-csv"),
                rx.cond(
                    AdminState.can_edit,
                    rx.link(rx.button(rx.icon("user-plus", size=14), "Invite a candidate", white_space="nowrap"), href="/admin/candidates"),
                ),
                spacing="3",
            ),
            width="100%",
            align="center",
            wrap="wrap",
            gap="12px",
        ),
        _filters(),
        rx.cond(S.filter_error != "", rx.callout(S.filter_error, icon="triangle_alert", color_scheme="red", size="1")),
        _table(),
        _pager(),
        # Ticks every 2 s while this page is open; each tick refreshes the visible rows' status (one indexed query).
        rx.moment(interval=2000, format="HH:mm:ss", on_change=S.poll_statuses, display="none"),
        spacing="4",
        width="100%",
    )


@rx.page(route=routes.ADMIN, title="Interviews · Admin", on_load=AdminState.check_session)
def admin_home() -> rx.Component:
    return admin_page("Interviews", _content(), on_ready=S.load)
