"""Temporary page that shows the review sections until the admin detail page lands.

The real page is ``/admin/interviews/[interview_id]`` (admin workspace); when it embeds
``review_sections()`` this module and its import in ``pages/__init__.py`` can go. It is
harmless meanwhile: every ReviewState handler checks the admin session.
"""

from __future__ import annotations

import reflex as rx

from interview_app.components.layout import admin_shell
from interview_app.components.review import review_sections
from interview_app.state.review import ReviewState

REVIEW_PREVIEW = "/admin/review-preview/[interview_id]"


@rx.page(route=REVIEW_PREVIEW, title="Interview review · Admin")
def review_preview() -> rx.Component:
    return admin_shell(
        "Interview review",
        rx.cond(
            ReviewState.review_loaded,
            rx.hstack(
                rx.text(ReviewState.candidate_name, weight="bold"),
                rx.text(ReviewState.role_title, color_scheme="gray"),
                rx.badge(ReviewState.interview_status),
                spacing="3",
                margin_bottom="4",
                id="review-preview-header",
            ),
        ),
        review_sections(),
    )
