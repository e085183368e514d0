"""`/admin/overview`: counts by status, interviews per day, completion rate, median duration."""

from __future__ import annotations

import reflex as rx

from interview_app.components.admin import OVERVIEW, admin_page, status_badge
from interview_app.state.admin_overview import WINDOWS, OverviewState
from interview_app.state.auth import AdminState

S = OverviewState


def _stat(label: str, value: rx.Var, hint: str, id_: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="2", color_scheme="gray"),
            rx.heading(value, size="7", id=id_),
            rx.text(hint, size="1", color_scheme="gray"),
            spacing="1",
        ),
        width="100%",
    )


def _content() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Interviews invited in the last", size="2"),
            rx.select(WINDOWS, value=S.window, on_change=S.set_window, size="1"),
            rx.text("days", size="2"),
            align="center",
        ),
        rx.grid(
            _stat("Interviews", S.total.to(str), "invited in the window", "stat-total"),
            _stat("Completion rate", S.completion_rate, "completed ÷ finished (completed, failed, expired, cancelled)", "stat-completion"),
            _stat("Median duration", S.median_duration, "of completed interviews", "stat-median"),
            columns="3",
            spacing="4",
            width="100%",
        ),
        rx.card(
            rx.heading("Interviews per day", size="4", margin_bottom="3"),
            rx.recharts.bar_chart(
                rx.recharts.bar(data_key="interviews", fill=rx.color("accent", 9), radius=[4, 4, 0, 0]),
                rx.recharts.x_axis(data_key="day", tick_line=False),
                rx.recharts.y_axis(allow_decimals=False, width=40),
                rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
                rx.recharts.graphing_tooltip(),
                data=S.per_day,
                width="100%",
                height=280,
            ),
            width="100%",
            id="per-day-chart",
        ),
        rx.card(
            rx.heading("By status", size="4", margin_bottom="3"),
            rx.flex(
                rx.foreach(
                    S.counts,
                    lambda c: rx.hstack(
                        status_badge(c["status"]),
                        rx.text(c["count"], weight="bold"),
                        align="center",
                        spacing="2",
                        class_name="status-count",
                    ),
                ),
                spacing="5",
                wrap="wrap",
            ),
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


@rx.page(route=OVERVIEW, title="Overview · Admin", on_load=AdminState.check_session)
def overview_page() -> rx.Component:
    return admin_page("Overview", _content(), on_ready=S.load)
