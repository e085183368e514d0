"""The page shells: a centred card for candidates, a header+content frame for admins."""

from __future__ import annotations

import reflex as rx


def brand() -> rx.Component:
    return rx.hstack(
        rx.icon("mic", size=22, color=rx.color("accent", 9)),
        rx.heading("Interview", size="5", weight="bold"),
        align="center",
        spacing="2",
    )


def candidate_shell(*children: rx.Component) -> rx.Component:
    """A calm, centred frame for the candidate's pages."""
    return rx.box(
        rx.center(
            rx.vstack(
                brand(),
                rx.card(rx.vstack(*children, spacing="4", width="100%"), size="4", width="100%"),
                rx.text("Powered by an open-source AI interview platform", size="1", color_scheme="gray"),
                spacing="5",
                width="100%",
                max_width="640px",
                align="center",
            ),
            padding_y="8vh",
            padding_x="16px",
        ),
        min_height="100vh",
        background=rx.color("gray", 2),
    )


def admin_shell(title: str, *children: rx.Component, actions: rx.Component | None = None) -> rx.Component:
    """Header with navigation above the admin page's content."""
    return rx.box(
        rx.hstack(
            brand(),
            rx.badge("Admin", variant="soft"),
            rx.spacer(),
            actions if actions is not None else rx.fragment(),
            padding_x="24px",
            padding_y="12px",
            align="center",
            border_bottom=f"1px solid {rx.color('gray', 5)}",
            background=rx.color("gray", 1),
            width="100%",
        ),
        rx.box(
            rx.heading(title, size="7", margin_bottom="16px"),
            *children,
            padding="24px",
            max_width="1200px",
            margin_x="auto",
        ),
        min_height="100vh",
        background=rx.color("gray", 2),
    )
