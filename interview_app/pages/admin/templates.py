"""`/admin/templates`: list, create, edit, duplicate, archive; the editor for questions and rubric."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import EventSpec

from interview_app.components.admin import TEMPLATES, admin_page, field
from interview_app.services.templates import ACCOMMODATION_POLICIES
from interview_app.state.admin_templates import LanguageOption, TemplatesState
from interview_app.state.auth import AdminState

S = TemplatesState
STRONG_ANSWER_LABEL = (
    "What a strong answer covers (optional; seen by the evaluator and reviewers, never by the candidate or the interviewer)"
)


def _text(name: str, value: rx.Var, **props) -> rx.Component:  # noqa: ANN003
    return rx.input(value=value, on_change=lambda v: S.set_field(name, v), width="100%", id=f"template-{name}", **props)


def _area(name: str, value: rx.Var, rows: str = "3", **props) -> rx.Component:  # noqa: ANN003
    return rx.text_area(value=value, on_change=lambda v: S.set_field(name, v), width="100%", rows=rows, id=f"template-{name}", **props)


def _row_button(icon: str, label: str, on_click: EventSpec, **props: Any) -> rx.Component:
    """A small ghost icon button of a question or criterion row (``label`` is what a screen reader says)."""
    return rx.icon_button(rx.icon(icon, size=14), size="1", variant="ghost", on_click=on_click, aria_label=label, **props)


def _question(q: rx.Var, i: rx.Var) -> rx.Component:
    def qfield(name: str, placeholder: str, **props) -> rx.Component:  # noqa: ANN003
        return rx.input(value=q[name], on_change=lambda v: S.set_question_field(i, name, v), placeholder=placeholder, **props)

    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge("Q", i + 1, variant="soft"),
                rx.spacer(),
                _row_button("arrow-up", "Move up", S.move_question(i, -1), disabled=i == 0),
                _row_button("arrow-down", "Move down", S.move_question(i, 1), disabled=i == S.draft.questions.length() - 1),
                _row_button("trash-2", "Remove question", S.remove_question(i), color_scheme="red"),
                width="100%",
                align="center",
            ),
            rx.text_area(
                value=q["text"],
                on_change=lambda v: S.set_question_field(i, "text", v),
                placeholder="The question, as the interviewer asks it",
                width="100%",
                rows="2",
                class_name="question-text",
            ),
            rx.hstack(
                qfield("competency", "Competency (e.g. Debugging)", flex="2 1 180px"),
                qfield("follow_up_guidance", "Follow-up guidance for the interviewer", flex="3 1 240px"),
                width="100%",
                wrap="wrap",
            ),
            rx.vstack(
                rx.text(STRONG_ANSWER_LABEL, size="1", color_scheme="gray"),
                rx.text_area(
                    value=q["strong_answer"],
                    on_change=lambda v: S.set_question_field(i, "strong_answer", v),
                    placeholder="e.g. Names a concrete system, their own part in it, one trade-off and what they would change.",
                    width="100%",
                    rows="2",
                    class_name="question-strong-answer",
                    aria_label="What a strong answer covers",
                ),
                spacing="1",
                width="100%",
            ),
            rx.hstack(
                rx.text("Follow-ups", size="1", color_scheme="gray"),
                qfield("max_follow_ups", "1", type="number", min="0", max="5", width="80px"),
                rx.text("Time budget (seconds, optional)", size="1", color_scheme="gray"),
                qfield("time_budget_seconds", "e.g. 240", type="number", min="10", max="3600", width="120px"),
                align="center",
                spacing="2",
                wrap="wrap",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def _criterion(c: rx.Var, i: rx.Var) -> rx.Component:
    def cfield(name: str, placeholder: str, **props) -> rx.Component:  # noqa: ANN003
        return rx.input(value=c[name], on_change=lambda v: S.set_criterion_field(i, name, v), placeholder=placeholder, **props)

    return rx.hstack(
        cfield("name", "Criterion", flex="1 1 160px", class_name="criterion-name"),
        cfield("description", "What good looks like", flex="2 1 220px"),
        rx.text("weight", size="1", color_scheme="gray"),
        cfield("weight", "1", type="number", min="0.1", step="0.1", width="70px"),
        rx.text("scale", size="1", color_scheme="gray"),
        cfield("scale_min", "1", type="number", width="60px"),
        rx.text("–", size="1"),
        cfield("scale_max", "5", type="number", width="60px"),
        _row_button("trash-2", "Remove criterion", S.remove_criterion(i), color_scheme="red"),
        align="center",
        width="100%",
        spacing="2",
        wrap="wrap",
    )


def _language_option(option: LanguageOption) -> rx.Component:
    return rx.checkbox(
        option.label,
        checked=option.checked,
        disabled=option.fixed,
        on_change=lambda checked: S.set_language_offered(option.code, checked),
        data_language=option.code,
        size="2",
    )


def _languages() -> rx.Component:
    return field(
        "Languages candidates may choose",
        rx.flex(rx.foreach(S.language_options, _language_option), wrap="wrap", gap="8px 20px", width="100%", id="template-languages"),
        hint="The template's language is always offered. The candidate picks one before the interview starts and the "
        "interviewer speaks it; evaluations are written in English.",
    )


def _accommodation_policy() -> rx.Component:
    return field(
        "When a candidate asks for an adjustment",
        rx.select.root(
            rx.select.trigger(id="template-accommodation-policy", width="100%"),
            rx.select.content(*[rx.select.item(label, value=value) for value, label in ACCOMMODATION_POLICIES.items()]),
            value=S.draft.accommodation_policy,
            on_change=S.set_accommodation_policy,
        ),
        hint="Before starting, a candidate can ask for extra time, the text format instead of voice or a human interviewer. "
        "The hiring team is emailed and answers on the interview's page.",
    )


def _editor() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(rx.cond(S.editing_id == 0, "New template", "Edit template"), size="5"),
                rx.spacer(),
                rx.button("Cancel", variant="soft", color_scheme="gray", on_click=S.close_editor),
                rx.button("Save template", on_click=S.save, id="template-save"),
                width="100%",
                wrap="wrap",
            ),
            rx.cond(
                S.problems.length() > 0,
                rx.callout(
                    rx.vstack(rx.foreach(S.problems, lambda p: rx.text(p, size="2")), spacing="1"),
                    icon="triangle_alert",
                    color_scheme="red",
                    width="100%",
                    id="template-problems",
                ),
            ),
            rx.grid(
                field("Title (the role)", _text("title", S.draft.title, placeholder="e.g. Backend Engineer")),
                rx.hstack(
                    field(
                        "Language",
                        rx.select(S.language_choices, value=S.draft.language, on_change=lambda v: S.set_field("language", v), width="100%"),
                    ),
                    field(
                        "Duration limit (minutes)",
                        _text("duration_limit_minutes", S.draft.duration_limit_minutes, type="number", min="1", max="240"),
                    ),
                    width="100%",
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="4",
                width="100%",
            ),
            _languages(),
            field(
                "Job description",
                _area(
                    "job_description",
                    S.draft.job_description,
                    rows="4",
                    placeholder="Paste the job description; the interviewer uses it for context.",
                ),
            ),
            rx.grid(
                field(
                    "Interviewer persona", _area("persona", S.draft.persona, placeholder="e.g. You are Sam, a friendly senior engineer.")
                ),
                field("Greeting", _area("greeting", S.draft.greeting, placeholder="Hi {candidate_name}, I'm Sam…")),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="4",
                width="100%",
            ),
            rx.hstack(
                rx.switch(checked=S.draft.allow_text_mode, on_change=S.set_allow_text_mode, id="template-text-mode"),
                rx.text("Allow a text interview when voice is not available", size="2"),
                align="center",
            ),
            rx.hstack(
                rx.switch(checked=S.draft.blind_review, on_change=S.set_blind_review, id="template-blind-review"),
                rx.vstack(
                    rx.text("Blind review", size="2"),
                    rx.text(
                        "Reviewers see no name, email or external reference until they have submitted their own scores. "
                        "Admins always see them; the recording and the transcript can still reveal who it is.",
                        size="1",
                        color_scheme="gray",
                    ),
                    spacing="0",
                ),
                align="center",
            ),
            _accommodation_policy(),
            rx.cond(
                S.editing_version != "",
                rx.callout(
                    "Version " + S.editing_version + ". Changing the questions, a strong-answer note or the rubric saves a new version; "
                    "interviews already run, their evaluations and scores keep the version they used.",
                    icon="history",
                    size="1",
                    color_scheme="gray",
                    id="template-version-note",
                ),
            ),
            rx.separator(),
            rx.hstack(
                rx.heading("Questions", size="4"),
                rx.text("asked in this order", size="2", color_scheme="gray"),
                rx.spacer(),
                rx.button(
                    rx.icon("sparkles", size=14),
                    "Draft from job description",
                    variant="soft",
                    on_click=S.draft_from_job_description,
                    id="draft-questions",
                ),
                rx.button(rx.icon("plus", size=14), "Add question", variant="soft", on_click=S.add_question, id="add-question"),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            rx.cond(S.draft_message != "", rx.callout(S.draft_message, icon="info", size="1", width="100%", id="draft-message")),
            rx.foreach(S.draft.questions, _question),
            rx.separator(),
            rx.hstack(
                rx.heading("Rubric", size="4"),
                rx.text("criteria the evaluation scores", size="2", color_scheme="gray"),
                rx.spacer(),
                rx.button(rx.icon("plus", size=14), "Add criterion", variant="soft", on_click=S.add_criterion),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            rx.foreach(S.draft.rubric, _criterion),
            spacing="4",
            width="100%",
        ),
        width="100%",
        id="template-editor",
    )


def _row(t: rx.Var) -> rx.Component:
    archived = t["archived"] != ""
    return rx.table.row(
        rx.table.cell(
            rx.hstack(rx.text(t["title"], weight="medium"), rx.cond(archived, rx.badge("archived", color_scheme="gray")), spacing="2")
        ),
        rx.table.cell(t["languages"], class_name="template-languages"),
        rx.table.cell(t["questions"]),
        rx.table.cell("v", t["version"], class_name="template-version"),
        rx.table.cell(t["duration"], " min"),
        rx.table.cell(t["updated"]),
        rx.table.cell(
            rx.hstack(
                rx.button("Edit", size="1", variant="soft", on_click=S.edit(t["id"])),
                rx.button("Duplicate", size="1", variant="soft", on_click=S.duplicate(t["id"])),
                rx.cond(
                    archived,
                    rx.button("Restore", size="1", variant="soft", color_scheme="green", on_click=S.set_archived(t["id"], False)),
                    rx.button("Archive", size="1", variant="soft", color_scheme="gray", on_click=S.set_archived(t["id"], True)),
                ),
                spacing="2",
            )
        ),
        data_template_title=t["title"],
    )


def _content() -> rx.Component:
    return rx.vstack(
        rx.cond(
            S.editor_open,
            _editor(),
            rx.vstack(
                rx.hstack(
                    rx.text(
                        "Templates define what the interviewer asks and how answers are judged. Archived templates take no new invitations.",
                        size="2",
                        color_scheme="gray",
                    ),
                    rx.spacer(),
                    rx.button(rx.icon("plus", size=14), "New template", on_click=S.new_template, id="new-template"),
                    width="100%",
                    align="center",
                    wrap="wrap",
                ),
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Title"),
                            rx.table.column_header_cell("Languages"),
                            rx.table.column_header_cell("Questions"),
                            rx.table.column_header_cell("Version"),
                            rx.table.column_header_cell("Duration"),
                            rx.table.column_header_cell("Updated"),
                            rx.table.column_header_cell(""),
                        )
                    ),
                    rx.table.body(rx.foreach(S.templates, _row)),
                    variant="surface",
                    width="100%",
                    id="template-table",
                ),
                spacing="4",
                width="100%",
            ),
        ),
        width="100%",
    )


@rx.page(route=TEMPLATES, title="Templates · Admin", on_load=AdminState.check_session)
def templates_page() -> rx.Component:
    return admin_page("Interview templates", _content(), on_ready=S.load, admin_only=True)
