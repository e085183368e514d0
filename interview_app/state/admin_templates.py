"""State of `/admin/templates`: list, and the editor (ordered questions, rubric, settings, LLM drafts)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import reflex as rx

from interview_app.db import session_scope
from interview_app.i18n import LANGUAGE_NAMES
from interview_app.models import InterviewTemplate
from interview_app.services.templates import (
    ACCOMMODATION_POLICIES,
    LANGUAGES,
    DraftUnavailable,
    TemplateDraft,
    TemplateError,
    draft_from_template,
    draft_questions,
    duplicate_template,
    language_label,
    list_templates,
    offered_languages,
    save_template,
    set_archived,
)
from interview_app.settings import get_settings
from interview_app.state.auth import ADMIN, AdminState, guarded, signed_in_admin

#: ``strong_answer`` ("What a strong answer covers") is for the evaluator and reviewers, never the interviewer.
QUESTION_FIELDS = ("text", "competency", "follow_up_guidance", "max_follow_ups", "time_budget_seconds", "strong_answer")
CRITERION_FIELDS = ("name", "description", "weight", "scale_min", "scale_max")
TEXT_FIELDS = ("title", "job_description", "language", "duration_limit_minutes", "persona", "greeting")
GONE = "That template no longer exists. Reload the page."


def _empty_question() -> dict[str, str]:
    return {
        "id": "",
        "text": "",
        "competency": "",
        "follow_up_guidance": "",
        "max_follow_ups": "1",
        "time_budget_seconds": "",
        "strong_answer": "",
    }


def _empty_criterion() -> dict[str, str]:
    return {"name": "", "description": "", "weight": "1", "scale_min": "1", "scale_max": "5"}


@dataclass
class LanguageOption:
    """One checkbox of "Languages candidates may choose"."""

    code: str
    label: str  # "Español (es)"
    checked: bool
    fixed: bool  # the template's own language: always offered


class TemplatesState(AdminState):
    templates: list[dict[str, str]] = []
    editor_open: bool = False
    editing_id: int = 0
    #: The editor's form: every field as the service's TemplateDraft declares it (one declaration).
    draft: TemplateDraft = TemplateDraft()
    #: The version of the questions and rubric being edited ("" for a new template).
    editing_version: str = ""
    problems: list[str] = []
    draft_message: str = ""
    drafting: bool = False

    @rx.var
    def language_choices(self) -> list[str]:
        return sorted({*LANGUAGES, self.draft.language or "en"})

    @rx.var
    def language_options(self) -> list[LanguageOption]:
        """A checkbox per language a template may offer; the template's own is checked and fixed."""
        return [
            LanguageOption(
                code, language_label(code), code == self.draft.language or code in self.draft.languages, code == self.draft.language
            )
            for code in LANGUAGE_NAMES
        ]

    def _reload(self) -> None:
        with session_scope() as session:
            self.templates = [
                {
                    "id": str(t.id),
                    "title": t.title,
                    "language": t.language,
                    "languages": ", ".join(offered_languages(t)),
                    "questions": str(len(t.questions)),
                    "version": str(t.version or 1),
                    "duration": str(t.duration_limit_minutes),
                    "archived": "yes" if t.archived else "",
                    "updated": t.updated_at.strftime("%Y-%m-%d"),
                }
                for t in list_templates(session)
            ]

    def _fill(self, draft: TemplateDraft, template_id: int) -> None:
        self.editing_id = template_id
        self.draft = replace(
            draft,
            accommodation_policy=draft.accommodation_policy if draft.accommodation_policy in ACCOMMODATION_POLICIES else "proceed",
            languages=[code for code in draft.languages if code in LANGUAGE_NAMES],
            questions=draft.questions or [_empty_question()],
            rubric=draft.rubric or [_empty_criterion()],
        )
        self.problems, self.draft_message = [], ""
        self.editor_open = True

    @rx.event
    @guarded(ADMIN)
    def load(self):  # noqa: ANN201
        self._reload()
        return None

    @rx.event
    @guarded(ADMIN)
    def new_template(self):  # noqa: ANN201
        self._fill(TemplateDraft(), 0)
        self.editing_version = ""
        return None

    @rx.event
    @guarded(ADMIN)
    def edit(self, template_id: str) -> None:
        with session_scope() as session:
            template = session.get(InterviewTemplate, int(template_id)) if template_id.isdigit() else None
            if template is None:
                self._notify(GONE, "error")
                return
            self._fill(draft_from_template(template), template.id)  # type: ignore[arg-type]
            self.editing_version = str(template.version or 1)

    @rx.event
    @guarded(ADMIN)
    def close_editor(self) -> None:
        self.editor_open = False

    @rx.event
    @guarded(ADMIN)
    def set_field(self, name: str, value: str) -> None:
        if name in TEXT_FIELDS:
            self._edit(**{name: value})

    @rx.event
    @guarded(ADMIN)
    def set_allow_text_mode(self, value: bool) -> None:
        self._edit(allow_text_mode=bool(value))

    @rx.event
    @guarded(ADMIN)
    def set_blind_review(self, value: bool) -> None:
        self._edit(blind_review=bool(value))

    @rx.event
    @guarded(ADMIN)
    def set_accommodation_policy(self, value: str) -> None:
        """The editor's "When a candidate asks for an adjustment" select (anything else is ignored)."""
        if value in ACCOMMODATION_POLICIES:
            self._edit(accommodation_policy=value)

    @rx.event
    @guarded(ADMIN)
    def set_language_offered(self, code: str, checked: bool) -> None:
        """Offer (or stop offering) ``code`` to candidates; the template's own language stays offered."""
        if code not in LANGUAGE_NAMES or code == self.draft.language:
            return
        chosen = {c for c in self.draft.languages if c != code} | ({code} if checked else set())
        self._edit(languages=[c for c in LANGUAGE_NAMES if c in chosen])

    @rx.event
    @guarded(ADMIN)
    def set_question_field(self, index: int, name: str, value: str) -> None:
        if name in QUESTION_FIELDS and 0 <= index < len(self.draft.questions):
            rows = [dict(q) for q in self.draft.questions]
            rows[index][name] = value
            self._edit(questions=rows)

    @rx.event
    @guarded(ADMIN)
    def add_question(self) -> None:
        self._edit(questions=[*self.draft.questions, _empty_question()])

    @rx.event
    @guarded(ADMIN)
    def remove_question(self, index: int) -> None:
        self._edit(questions=[q for i, q in enumerate(self.draft.questions) if i != index])

    @rx.event
    @guarded(ADMIN)
    def move_question(self, index: int, delta: int) -> None:
        target = index + delta
        if 0 <= index < len(self.draft.questions) and 0 <= target < len(self.draft.questions):
            rows = list(self.draft.questions)
            rows[index], rows[target] = rows[target], rows[index]
            self._edit(questions=rows)

    @rx.event
    @guarded(ADMIN)
    def set_criterion_field(self, index: int, name: str, value: str) -> None:
        if name in CRITERION_FIELDS and 0 <= index < len(self.draft.rubric):
            rows = [dict(c) for c in self.draft.rubric]
            rows[index][name] = value
            self._edit(rubric=rows)

    @rx.event
    @guarded(ADMIN)
    def add_criterion(self) -> None:
        self._edit(rubric=[*self.draft.rubric, _empty_criterion()])

    @rx.event
    @guarded(ADMIN)
    def remove_criterion(self, index: int) -> None:
        self._edit(rubric=[c for i, c in enumerate(self.draft.rubric) if i != index])

    @rx.event
    @guarded(ADMIN)
    def save(self) -> None:
        admin = signed_in_admin()
        draft = self.draft
        try:
            with session_scope() as session:
                before = self._current_version(session)
                template = save_template(session, draft, self.editing_id or None, actor=admin.email)
                title, version = template.title, template.version
        except TemplateError as err:
            self.problems = err.problems
            return
        self.problems, self.editor_open = [], False
        self._reload()
        if before is not None and version != before:
            self._notify(f"Saved “{title}” as version {version}: interviews already run keep version {before}.")
        else:
            self._notify(f"Saved “{title}”.")

    def _edit(self, **changes: Any) -> None:
        """Change fields of the form (a new TemplateDraft, so Reflex sends the change)."""
        self.draft = replace(self.draft, **changes)

    def _current_version(self, session) -> int | None:  # noqa: ANN001
        if not self.editing_id:
            return None
        template = session.get(InterviewTemplate, self.editing_id)
        return template.version if template is not None else None

    @rx.event
    @guarded(ADMIN)
    def duplicate(self, template_id: str) -> None:
        admin = signed_in_admin()
        try:
            with session_scope() as session:
                copy = duplicate_template(session, int(template_id), actor=admin.email)
                title = copy.title
        except (TemplateError, ValueError):
            self._notify(GONE, "error")
            return
        self._reload()
        self._notify(f"Created “{title}”.")

    @rx.event
    @guarded(ADMIN)
    def set_archived(self, template_id: str, archived: bool) -> None:
        try:
            with session_scope() as session:
                set_archived(session, int(template_id), archived)
        except (TemplateError, ValueError):
            self._notify(GONE, "error")
            return
        self._reload()

    @rx.event
    @guarded(ADMIN)
    def draft_from_job_description(self):  # noqa: ANN201
        try:
            rows = draft_questions(get_settings(), self.draft.job_description, language=self.draft.language)
        except DraftUnavailable as err:
            self.draft_message = str(err)
            return None
        kept = [q for q in self.draft.questions if q.get("text", "").strip()]
        self._edit(questions=kept + rows)
        self.draft_message = f"Added {len(rows)} drafted question{'s' if len(rows) != 1 else ''}. Review and edit them before saving."
        return None
