"""The candidate's interview page: `/interview/[token]`."""

from __future__ import annotations

import reflex as rx

from interview_app import routes
from interview_app.components.layout import candidate_shell
from interview_app.state.candidate import CandidateState

_TITLES = {
    "unknown": "We could not find this interview",
    "expired": "This interview link has expired",
    "revoked": "This invitation was withdrawn",
    "finished": "This interview is finished",
    "failed": "This interview could not be completed",
}


def _contact() -> rx.Component:
    return rx.text(
        "Questions? Contact ",
        rx.link(CandidateState.support_email, href="mailto:" + CandidateState.support_email),
        " and mention the link you received.",
        size="2",
        color_scheme="gray",
    )


def _unusable_link() -> rx.Component:
    return rx.vstack(
        rx.heading(
            rx.match(CandidateState.link_state, *_TITLES.items(), "This link cannot be used"),
            size="6",
            id="link-problem",
        ),
        rx.text(CandidateState.message),
        _contact(),
        spacing="3",
    )


def _welcome() -> rx.Component:
    return rx.vstack(
        rx.heading("Hello, ", CandidateState.candidate_name, size="6", id="welcome"),
        rx.text(
            CandidateState.org_name,
            " invites you to an interview for the role of ",
            rx.text.strong(CandidateState.role_title),
            ".",
        ),
        rx.hstack(
            rx.icon("clock", size=16),
            rx.text("About ", CandidateState.duration_minutes, " minutes"),
            align="center",
            spacing="2",
            color=rx.color("gray", 11),
        ),
        _contact(),
        spacing="3",
    )


@rx.page(route=routes.CANDIDATE, title="Your interview", on_load=CandidateState.load_link)
def candidate_page() -> rx.Component:
    return candidate_shell(
        rx.cond(
            CandidateState.link_state == "loading",
            rx.hstack(rx.spinner(), rx.text("Checking your interview link…"), id="link-loading"),
            rx.cond(CandidateState.link_state == "valid", _welcome(), _unusable_link()),
        )
    )
