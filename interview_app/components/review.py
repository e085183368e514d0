"""Sections of the admin interview detail page filled by the review feature.

Placeholder until the review issue lands: the detail page calls ``review_sections()``.
"""

from __future__ import annotations

import reflex as rx


def review_sections() -> rx.Component:
    return rx.vstack(
        rx.card(rx.heading("Recording", size="4"), rx.text("Recording playback arrives with the review feature.", color_scheme="gray")),
        rx.card(rx.heading("Transcript", size="4"), rx.text("The transcript appears here after the interview.", color_scheme="gray")),
        rx.card(rx.heading("Evaluation", size="4"), rx.text("The rubric evaluation appears here.", color_scheme="gray")),
        width="100%",
        spacing="4",
    )
