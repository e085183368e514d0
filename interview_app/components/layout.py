"""The candidate pages' shell (admin pages use ``components.admin.admin_page``)."""

from __future__ import annotations

import reflex as rx

from interview_app.components.inline_icons import inline_icon


def brand(text: str | rx.Var[str] = "Interview") -> rx.Component:
    return rx.hstack(
        inline_icon("mic", size=22, color=rx.color("accent", 9)),
        rx.heading(text, size="5", weight="bold"),
        align="center",
        spacing="2",
    )


def candidate_shell(
    *children: rx.Component,
    brand_text: str | rx.Var[str] = "Interview",
    footer: str | rx.Var[str] = "Powered by an open-source AI interview platform",
    lang: str | rx.Var[str] = "en",
    direction: str | rx.Var[str] = "ltr",
) -> rx.Component:
    """A calm, centred frame for the candidate's pages, in the language ``lang`` written in ``direction`` (ltr/rtl)."""
    return rx.box(
        rx.center(
            rx.vstack(
                brand(brand_text),
                rx.card(
                    rx.vstack(*children, spacing="4", width="100%"),
                    size=rx.breakpoints(initial="2", sm="4"),  # a phone keeps its width for the content
                    width="100%",
                ),
                rx.text(footer, size="1", color_scheme="gray"),
                spacing="5",
                width="100%",
                max_width="640px",
                align="center",
            ),
            padding_y=rx.breakpoints(initial="24px", sm="8vh"),
            padding_x=rx.breakpoints(initial="12px", sm="16px"),
        ),
        min_height="100vh",
        background=rx.color("gray", 2),
        custom_attrs={"lang": lang, "dir": direction},
    )


def confirm_dialog(
    trigger: rx.Component, title: str, description: str, cancel: rx.Component, confirm: rx.Component, **root_props: object
) -> rx.Component:
    """A question before an action the candidate cannot take back: ``cancel`` and ``confirm`` are the two buttons."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(trigger),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description, size="2"),
            rx.hstack(
                rx.alert_dialog.cancel(cancel),
                rx.alert_dialog.action(confirm),
                spacing="3",
                justify="end",
                margin_top="16px",
            ),
            max_width="440px",
        ),
        **root_props,
    )
