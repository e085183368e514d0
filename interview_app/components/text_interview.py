"""The text interview panel shown on the candidate page when voice is not available.

Placeholder until the text-interview issue lands; the candidate page calls ``text_interview_panel()``.
"""

from __future__ import annotations

import reflex as rx


def text_interview_panel() -> rx.Component:
    return rx.callout(
        "Voice interviews are not configured on this server, and the text interview is not available yet.",
        icon="triangle-alert",
        color_scheme="amber",
        id="text-interview-unavailable",
    )
