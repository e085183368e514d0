"""Admin pages (placeholder until the admin workspace lands)."""

from __future__ import annotations

import reflex as rx

from interview_app import routes
from interview_app.components.layout import admin_shell


@rx.page(route=routes.ADMIN, title="Admin · AI Interview")
def admin_home() -> rx.Component:
    return admin_shell(
        "Interviews",
        rx.callout(
            "Sign-in and the interview list arrive with the admin workspace. "
            "Use `python -m interview_app.cli seed-demo --json` to create demo data.",
            icon="info",
            id="admin-placeholder",
        ),
    )
