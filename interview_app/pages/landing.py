"""The landing page: what this is, and where candidates and admins go."""

from __future__ import annotations

import reflex as rx

from interview_app import routes
from interview_app.components.inline_icons import callout
from interview_app.components.layout import candidate_shell


@rx.page(route=routes.HOME, title="AI Interview")
def landing() -> rx.Component:
    return candidate_shell(
        rx.heading("AI interviews, reviewed by people", size="6"),
        rx.text(
            "Candidates receive a personal interview link by email and are interviewed by an AI "
            "interviewer in their browser. Recruiters review recordings, transcripts and rubric "
            "evaluations before any decision.",
            color_scheme="gray",
        ),
        callout(
            "Candidates: please open the personal link from your invitation email.",
            icon="info",
            width="100%",
        ),
        rx.link(rx.button("Recruiter sign in", size="3", width="100%"), href=routes.ADMIN, width="100%"),
    )
