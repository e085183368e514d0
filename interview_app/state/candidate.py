"""State of the candidate's interview page (`/interview/[token]`)."""

from __future__ import annotations

import reflex as rx

from interview_app.db import session_scope
from interview_app.services.candidate_link import describe_link
from interview_app.settings import get_settings


class CandidateState(rx.State):
    """Looks the invite link up on load; never exposes the token hash or ids of others."""

    link_state: str = "loading"
    message: str = ""
    candidate_name: str = ""
    role_title: str = ""
    duration_minutes: int = 0
    org_name: str = ""
    support_email: str = ""

    @rx.event
    def load_link(self) -> None:
        settings = get_settings()
        self.org_name = settings.org_name
        self.support_email = settings.support_email
        raw_token = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        with session_scope() as session:
            view = describe_link(session, raw_token)
        self.link_state = view.state
        self.message = view.message
        self.candidate_name = view.candidate_name
        self.role_title = view.role_title
        self.duration_minutes = view.duration_minutes
