"""`/admin/calibration`: how close the AI's rubric scores are to the human reviewers', per criterion and version."""

from __future__ import annotations

import reflex as rx

from interview_app import routes
from interview_app.components.admin import admin_page
from interview_app.services.calibration import DRIFT_MAD_POINTS, DRIFT_WITHIN_ONE_DROP, RECENT_INTERVIEWS
from interview_app.state.admin_calibration import CalibrationState
from interview_app.state.auth import AdminState

S = CalibrationState

EMPTY = (
    "No interviews have both an AI evaluation and a human scorecard yet. Calibration compares the two: "
    "an interview counts once its AI evaluation has finished and at least one reviewer has submitted a "
    "scorecard for it on the same rubric version."
)
EXPLAINER = (
    "Per criterion, the AI's score is compared with the mean of the reviewers' scores of the same interview. "
    "MAD is the mean absolute difference in scale points; “within 1” is the share of interviews where the two "
    "are at most one point apart; AI − human is the mean signed difference (positive: the AI scores higher). "
    "Criteria the AI marked as insufficient evidence, and reviewers' blank scores, are left out. "
    "Versions are never mixed."
)
DRIFT_NOTE = (
    f"Drift compares the {RECENT_INTERVIEWS} most recent interviews with all of them: it is flagged when their MAD is "
    f"{DRIFT_MAD_POINTS:g} points or more above the overall MAD, or their within-1 share is "
    f"{DRIFT_WITHIN_ONE_DROP * 100:g} percentage points or more below it — and only once more than {RECENT_INTERVIEWS} interviews "
    "are compared, since before that the most recent interviews are all of them."
)


def _choice(label: str, select_id: str, options: rx.Var, value: rx.Var[str], on_change: rx.EventHandler) -> rx.Component:
    """A labelled select of ``options`` (``{"label", "value"}`` rows)."""
    return rx.hstack(
        rx.text(label, size="2", weight="medium"),
        rx.select.root(
            rx.select.trigger(placeholder=label, id=select_id),
            rx.select.content(rx.foreach(options, lambda o: rx.select.item(o["label"], value=o["value"]))),
            value=value,
            on_change=on_change,
        ),
        align="center",
        spacing="2",
    )


def _selectors() -> rx.Component:
    return rx.flex(
        _choice("Template", "calibration-template", S.cal_template_options, S.cal_template, S.set_cal_template),
        _choice("Version", "calibration-version", S.cal_version_options, S.cal_version, S.set_cal_version),
        rx.spacer(),
        rx.hstack(
            rx.button(rx.icon("download", size=14), "Download CSV", on_click=S.download_csv, variant="soft", id="calibration-csv"),
            rx.button(
                rx.icon("download", size=14),
                "Per-interview CSV",
                on_click=S.download_interviews_csv,
                variant="ghost",
                id="calibration-interviews-csv",
            ),
            spacing="3",
            align="center",
        ),
        gap="12px 20px",
        wrap="wrap",
        align="center",
        width="100%",
    )


def _drift_badge(row: rx.Var) -> rx.Component:
    badge = rx.match(
        row.drift,
        ("drift", rx.badge(rx.icon("triangle-alert", size=12), row.drift_label, color_scheme="red", variant="solid")),
        ("steady", rx.badge(row.drift_label, color_scheme="green", variant="soft")),
        rx.badge(row.drift_label, color_scheme="gray", variant="soft"),
    )
    return rx.tooltip(rx.box(badge, class_name="drift-badge", data_drift=row.drift, aria_label=row.drift_reason), content=row.drift_reason)


def _criterion_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.text(row.criterion, weight="medium"),
            rx.text(row.scale, size="1", color_scheme="gray"),
        ),
        rx.table.cell(row.n, class_name="cal-n"),
        rx.table.cell(row.mad, class_name="cal-mad"),
        rx.table.cell(row.within_one, class_name="cal-within"),
        rx.table.cell(row.signed, class_name="cal-signed", white_space="nowrap"),
        rx.table.cell(row.recent_n, class_name="cal-recent-n", border_left=f"1px solid {rx.color('gray', 5)}"),
        rx.table.cell(row.recent_mad, class_name="cal-recent-mad"),
        rx.table.cell(row.recent_within_one, class_name="cal-recent-within"),
        rx.table.cell(row.recent_signed, class_name="cal-recent-signed", white_space="nowrap"),
        rx.table.cell(_drift_badge(row)),
        class_name="calibration-row",
        data_criterion=row.criterion,
    )


def _table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell(""),
                    rx.table.column_header_cell("All interviews", col_span=4),
                    rx.table.column_header_cell(
                        f"Most recent {RECENT_INTERVIEWS}", col_span=4, border_left=f"1px solid {rx.color('gray', 5)}"
                    ),
                    rx.table.column_header_cell(""),
                ),
                rx.table.row(
                    rx.table.column_header_cell("Criterion"),
                    rx.table.column_header_cell("n"),
                    rx.table.column_header_cell("MAD"),
                    rx.table.column_header_cell("Within 1"),
                    rx.table.column_header_cell("AI − human"),
                    rx.table.column_header_cell("n", border_left=f"1px solid {rx.color('gray', 5)}"),
                    rx.table.column_header_cell("MAD"),
                    rx.table.column_header_cell("Within 1"),
                    rx.table.column_header_cell("AI − human"),
                    rx.table.column_header_cell("Drift"),
                ),
            ),
            rx.table.body(rx.foreach(S.cal_criteria, _criterion_row)),
            variant="surface",
            width="100%",
            id="calibration-table",
        ),
        overflow_x="auto",
        width="100%",
    )


def _chart() -> rx.Component:
    return rx.card(
        rx.heading("Mean absolute difference per criterion", size="4", margin_bottom="2"),
        rx.text("Points between the AI's score and the reviewers' mean; lower is closer.", size="2", color_scheme="gray"),
        rx.recharts.bar_chart(
            rx.recharts.bar(
                data_key="all", name="All interviews", fill=rx.color("accent", 9), radius=[4, 4, 0, 0], is_animation_active=False
            ),
            rx.recharts.bar(
                data_key="recent",
                name=f"Most recent {RECENT_INTERVIEWS}",
                fill=rx.color("amber", 9),
                radius=[4, 4, 0, 0],
                is_animation_active=False,
            ),
            rx.recharts.x_axis(data_key="criterion", tick_line=False),
            rx.recharts.y_axis(width=40),
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
            rx.recharts.legend(),
            rx.recharts.graphing_tooltip(),
            data=S.cal_chart,
            width="100%",
            height=300,
        ),
        width="100%",
        id="calibration-chart",
    )


def _figures() -> rx.Component:
    return rx.vstack(
        rx.text(S.cal_summary, size="2", id="calibration-summary"),
        _table(),
        rx.cond(
            S.cal_drift_notes.length() > 0,
            rx.callout.root(
                rx.callout.icon(rx.icon("triangle-alert", size=16)),
                rx.vstack(rx.foreach(S.cal_drift_notes, lambda note: rx.text(note, size="2")), spacing="1"),
                color_scheme="red",
                width="100%",
                id="calibration-drift",
            ),
        ),
        rx.text(DRIFT_NOTE, size="1", color_scheme="gray"),
        _chart(),
        spacing="4",
        width="100%",
    )


def _content() -> rx.Component:
    return rx.vstack(
        rx.text(EXPLAINER, size="2", color_scheme="gray", max_width="900px"),
        rx.cond(
            S.cal_loaded,
            rx.cond(
                S.cal_empty,
                rx.callout(EMPTY, icon="info", color_scheme="gray", id="calibration-empty", width="100%"),
                rx.vstack(_selectors(), _figures(), spacing="4", width="100%"),
            ),
            rx.center(rx.spinner(size="3"), padding="32px", width="100%"),
        ),
        spacing="4",
        width="100%",
    )


@rx.page(route=routes.ADMIN_CALIBRATION, title="Calibration · Admin", on_load=AdminState.check_session)
def calibration_page() -> rx.Component:
    return admin_page("Calibration", _content(), on_ready=S.load)
