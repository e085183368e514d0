"""Interview templates: validated create/edit, duplicate, archive, and question drafts from a job description.

Questions are stored as contracts.PlanQuestion dicts and the rubric as
contracts.RubricCriterion dicts, so what the agent reads is what was validated here.
A question's ``strong_answer`` ("What a strong answer covers") is for the evaluator and the
reviewers only; the interviewer's instructions never include it.

Rubric versions: a template's questions and rubric are versioned. Creating a template writes its
version 1 (a ``template_version`` row); a save that changes the questions or the rubric (a
strong-answer note counts: the evaluator reads it) writes the next version and moves
``InterviewTemplate.version`` on. An interview records the version it was run against when it
starts (``services/interviews.build_plan``), its evaluation and every scorecard the version they
were scored against, and :func:`as_run` gives the template as an interview saw it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import Session, col, select

from interview_app.contracts import PlanQuestion, RubricCriterion
from interview_app.i18n import LANGUAGE_NAMES, language_name
from interview_app.models import InterviewTemplate, TemplateVersion, utcnow
from interview_app.services.interviews import record_event
from interview_app.settings import Settings

#: Language codes a template may use and offer (the keys of i18n.LANGUAGE_NAMES, in its order).
LANGUAGES: tuple[str, ...] = tuple(LANGUAGE_NAMES)
#: What an open accommodation request means for the start, in the editor's words (services/accommodations.py).
ACCOMMODATION_POLICIES: dict[str, str] = {"proceed": "They may start right away", "wait": "They wait until we answer"}
#: Longest "What a strong answer covers" note of one question (contracts.PlanQuestion.strong_answer).
MAX_STRONG_ANSWER_CHARS = 2000


class TemplateError(ValueError):
    """The template cannot be saved; ``problems`` lists each reason as a sentence."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


@dataclass
class TemplateDraft:
    """What the editor form holds (strings as typed); :func:`validate_draft` turns it into stored values."""

    title: str = ""
    job_description: str = ""
    language: str = "en"
    duration_limit_minutes: str = "30"
    persona: str = ""
    greeting: str = ""
    allow_text_mode: bool = True
    questions: list[dict[str, str]] = field(default_factory=list)
    rubric: list[dict[str, str]] = field(default_factory=list)
    #: Languages candidates may choose (codes of i18n.LANGUAGE_NAMES); ``language`` is always added, first.
    languages: list[str] = field(default_factory=list)
    #: When a candidate asks for an adjustment: "proceed" (they may start right away) or "wait" (until we answer).
    accommodation_policy: str = "proceed"
    #: Blind review: reviewers see no name, email or external reference until they have scored.
    blind_review: bool = False


def _first_error(err: ValidationError) -> str:
    e = err.errors()[0]
    where = ".".join(str(p) for p in e.get("loc", ()))
    return f"{where}: {e.get('msg', 'invalid')}"


def _int_or_none(value: Any) -> int | None:
    text = str(value if value is not None else "").strip()
    return int(text) if text else None


def offered_languages(template: InterviewTemplate) -> list[str]:
    """The languages a candidate may choose for ``template``'s interviews: its ``language`` first, then the others."""
    first = template.language or "en"
    offered = [first]
    for code in template.languages or []:
        if isinstance(code, str) and code and code not in offered:
            offered.append(code)
    return offered


def language_label(code: str) -> str:
    """``Español (es)``: a language's own name and its code (the code alone when it has no name)."""
    name = language_name(code)
    return f"{name} ({code})" if name != code else code


def _validate_languages(codes: Any, language: str, problems: list[str]) -> list[str]:
    """``language`` first, then each other code of ``codes`` once; a problem sentence per unknown code."""
    languages = [language]
    for code in codes if isinstance(codes, (list, tuple)) else []:
        normalized = code.strip().lower() if isinstance(code, str) else ""
        if normalized == language:
            continue  # the template's own language is first already, whatever its code
        if normalized not in LANGUAGE_NAMES:
            shown = (code if isinstance(code, str) else repr(code))[:40]
            problems.append(f"“{shown}” is not a language candidates can be offered; choose from {', '.join(LANGUAGES)}.")
        elif normalized not in languages:
            languages.append(normalized)
    return languages


def validate_draft(draft: TemplateDraft) -> dict[str, Any]:
    """The column values for ``draft``, or TemplateError listing every problem."""
    problems: list[str] = []
    title = draft.title.strip()
    if not title:
        problems.append("Give the template a title.")
    elif len(title) > 200:
        problems.append("The title is longer than 200 characters; shorten it.")
    language = draft.language.strip().lower() or "en"
    if not re.fullmatch(r"[a-z]{2}(-[a-z]{2})?", language):
        problems.append(f"“{draft.language}” is not a language code; use e.g. en or de.")
    languages = _validate_languages(draft.languages, language, problems)
    try:
        duration = int(str(draft.duration_limit_minutes).strip())
        if not 1 <= duration <= 240:
            raise ValueError
    except ValueError:
        problems.append("The duration limit must be a whole number of minutes between 1 and 240.")
        duration = 30
    policy = draft.accommodation_policy.strip().lower() if isinstance(draft.accommodation_policy, str) else ""
    if policy not in ACCOMMODATION_POLICIES:
        shown = str(draft.accommodation_policy)[:40]
        problems.append(
            f"“{shown}” is not a choice for when a candidate asks for an adjustment; choose "
            "“They may start right away” or “They wait until we answer”."
        )

    questions: list[dict[str, Any]] = []
    used_ids: set[str] = set()
    for n, row in enumerate(draft.questions, start=1):
        if not any(str(row.get(k) or "").strip() for k in ("text", "competency", "follow_up_guidance", "strong_answer")):
            continue  # an empty row the admin added and left (numbers keep their defaults)
        qid = str(row.get("id") or "").strip()
        if not qid or qid in used_ids:
            qid = next(f"q{i}" for i in range(n, n + 1000) if f"q{i}" not in used_ids)
        strong_answer = str(row.get("strong_answer") or "").strip()
        if len(strong_answer) > MAX_STRONG_ANSWER_CHARS:
            problems.append(
                f"Question {n}: “What a strong answer covers” is longer than {MAX_STRONG_ANSWER_CHARS} characters "
                f"({len(strong_answer)}); shorten it."
            )
            continue
        try:
            budget = _int_or_none(row.get("time_budget_seconds"))
            question = PlanQuestion(
                id=qid,
                text=str(row.get("text", "")),
                competency=str(row.get("competency", "")),
                follow_up_guidance=str(row.get("follow_up_guidance", "")),
                max_follow_ups=int(str(row.get("max_follow_ups", "")).strip() or 1),
                time_budget_seconds=budget,
                strong_answer=strong_answer,
            )
        except ValueError as err:
            reason = _first_error(err) if isinstance(err, ValidationError) else "a number field holds text"
            problems.append(f"Question {n} is not valid ({reason}). Each question needs text; a time budget is 10–3600 seconds.")
            continue
        used_ids.add(qid)
        questions.append(question.model_dump())
    if not questions:
        problems.append("Add at least one question.")

    rubric: list[dict[str, Any]] = []
    for n, row in enumerate(draft.rubric, start=1):
        if not any(str(row.get(k) or "").strip() for k in ("name", "description")):
            continue
        try:
            criterion = RubricCriterion(
                name=str(row.get("name", "")),
                description=str(row.get("description", "")),
                weight=float(str(row.get("weight") or "1").strip()),
                scale_min=int(str(row.get("scale_min") or "1").strip()),
                scale_max=int(str(row.get("scale_max") or "5").strip()),
            )
            if criterion.scale_max <= criterion.scale_min:
                raise ValueError("scale")
        except ValueError as err:
            reason = (
                _first_error(err) if isinstance(err, ValidationError) else "weight and scale must be numbers, scale max above scale min"
            )
            problems.append(f"Rubric criterion {n} is not valid ({reason}).")
            continue
        rubric.append(criterion.model_dump())
    if problems:
        raise TemplateError(problems)
    return {
        "title": title,
        "job_description": draft.job_description.strip()[:20000],
        "language": language,
        "languages": languages,
        "duration_limit_minutes": duration,
        "persona": draft.persona.strip()[:4000],
        "greeting": draft.greeting.strip()[:2000],
        "allow_text_mode": bool(draft.allow_text_mode),
        "accommodation_policy": policy,
        "blind_review": bool(draft.blind_review),
        "questions": questions,
        "rubric": rubric,
    }


def draft_from_template(template: InterviewTemplate) -> TemplateDraft:
    """The editor form for an existing template."""
    return TemplateDraft(
        title=template.title,
        job_description=template.job_description,
        language=template.language,
        duration_limit_minutes=str(template.duration_limit_minutes),
        persona=template.persona,
        greeting=template.greeting,
        allow_text_mode=template.allow_text_mode,
        accommodation_policy=template.accommodation_policy if template.accommodation_policy in ACCOMMODATION_POLICIES else "proceed",
        blind_review=bool(template.blind_review),
        languages=offered_languages(template),
        questions=[
            {
                "id": str(q.get("id", "")),
                "text": str(q.get("text", "")),
                "competency": str(q.get("competency", "")),
                "follow_up_guidance": str(q.get("follow_up_guidance", "")),
                "max_follow_ups": str(q.get("max_follow_ups", 1)),
                "time_budget_seconds": "" if q.get("time_budget_seconds") is None else str(q["time_budget_seconds"]),
                "strong_answer": str(q.get("strong_answer") or ""),
            }
            for q in template.questions
        ],
        rubric=[
            {
                "name": str(c.get("name", "")),
                "description": str(c.get("description", "")),
                "weight": f"{float(c.get('weight', 1)):g}",
                "scale_min": str(c.get("scale_min", 1)),
                "scale_max": str(c.get("scale_max", 5)),
            }
            for c in template.rubric
        ],
    )


def _add_version(session: Session, template: InterviewTemplate, actor: str) -> None:
    """Write the template's current questions and rubric as its version ``template.version``, audited."""
    assert template.id is not None, "a version is written once the template's flush gave it an id"
    record_event(session, None, "template_version_created", actor=actor or "system", template_id=template.id, version=template.version)
    session.add(
        TemplateVersion(
            template_id=template.id,
            version=template.version,
            questions=[dict(q) for q in template.questions],
            rubric=[dict(c) for c in template.rubric],
            created_by=actor,
        )
    )


def save_template(session: Session, draft: TemplateDraft, template_id: int | None = None, *, actor: str = "") -> InterviewTemplate:
    """Create (``template_id`` None) or update a template from the form (caller commits).

    A new template gets version 1; an update that changes the questions or the rubric gets the
    next version (interviews already run keep theirs), any other change keeps the version.

    Raises:
        TemplateError: the form has problems, or the template no longer exists.
    """
    values = validate_draft(draft)
    if template_id is None:
        created = InterviewTemplate(**values, version=1)
        session.add(created)
        session.flush()
        _add_version(session, created, actor)
        session.flush()
        return created
    template = session.get(InterviewTemplate, template_id)
    if template is None:
        raise TemplateError(["That template no longer exists. Reload the page."])
    changed = values["questions"] != list(template.questions) or values["rubric"] != list(template.rubric)
    for key, value in values.items():
        setattr(template, key, value)
    template.updated_at = utcnow()
    if changed:
        template.version = (template.version or 1) + 1
        _add_version(session, template, actor)
    session.add(template)
    session.flush()
    return template


def duplicate_template(session: Session, template_id: int, *, actor: str = "") -> InterviewTemplate:
    """A copy titled “… (copy)”, not archived, at its own version 1 (caller commits)."""
    original = session.get(InterviewTemplate, template_id)
    if original is None:
        raise TemplateError(["That template no longer exists. Reload the page."])
    copy = InterviewTemplate(
        title=f"{original.title} (copy)"[:200],
        job_description=original.job_description,
        language=original.language,
        duration_limit_minutes=original.duration_limit_minutes,
        persona=original.persona,
        greeting=original.greeting,
        questions=[dict(q) for q in original.questions],
        rubric=[dict(c) for c in original.rubric],
        languages=list(original.languages or []),
        allow_text_mode=original.allow_text_mode,
        accommodation_policy=original.accommodation_policy,
        blind_review=original.blind_review,
        version=1,
    )
    session.add(copy)
    session.flush()
    _add_version(session, copy, actor)
    session.flush()
    return copy


_VERSION_CONTENT = sa.select(col(TemplateVersion.questions), col(TemplateVersion.rubric)).where(
    col(TemplateVersion.template_id) == sa.bindparam("template_id"), col(TemplateVersion.version) == sa.bindparam("version")
)


def as_run(db: Session | sa.Connection, template: InterviewTemplate, version: int | None) -> InterviewTemplate:
    """The template with the questions and rubric of ``version`` (an interview's, an evaluation's).

    The template itself when ``version`` is None (not recorded: before versions, or not started),
    the current one, or missing from ``template_version``; otherwise a detached copy that is never
    to be saved.
    """
    if version is None or version == template.version or template.id is None:
        return template
    row = db.execute(_VERSION_CONTENT, {"template_id": template.id, "version": version}).first()
    if row is None:
        return template
    return InterviewTemplate(**{**template.model_dump(), "questions": list(row[0] or []), "rubric": list(row[1] or [])})


def versions_of(session: Session, template_id: int) -> list[TemplateVersion]:
    """Every version of a template, newest first."""
    return list(
        session.exec(
            select(TemplateVersion).where(TemplateVersion.template_id == template_id).order_by(col(TemplateVersion.version).desc())
        )
    )


def set_archived(session: Session, template_id: int, archived: bool) -> InterviewTemplate:
    """Archive (no new invitations; existing interviews keep running) or restore a template."""
    template = session.get(InterviewTemplate, template_id)
    if template is None:
        raise TemplateError(["That template no longer exists. Reload the page."])
    template.archived = archived
    template.updated_at = utcnow()
    session.add(template)
    session.flush()
    return template


def list_templates(session: Session, *, include_archived: bool = True) -> list[InterviewTemplate]:
    stmt = select(InterviewTemplate).order_by(col(InterviewTemplate.archived), col(InterviewTemplate.title))
    if not include_archived:
        stmt = stmt.where(col(InterviewTemplate.archived).is_(False))
    return list(session.exec(stmt).all())


# --- question drafts from a job description -----------------------------------


class DraftUnavailable(Exception):
    """No language model can draft questions; the message says how to configure one."""


_DRAFT_PROMPT = (
    "You write structured interview questions. From the job description, propose {n} interview questions. "
    'Answer with JSON only: {{"questions": [{{"text": "...", "competency": "...", "follow_up_guidance": "..."}}]}}. '
    "Questions are open, one topic each, answerable aloud in 2-4 minutes. Language: {language}."
)


def draft_questions(
    settings: Settings, job_description: str, *, language: str = "en", count: int = 5, transport: httpx.BaseTransport | None = None
) -> list[dict[str, str]]:
    """Ask the configured OpenAI-compatible model for question drafts (editor rows, not yet saved).

    Raises:
        DraftUnavailable: no LLM configured, no job description, or the model failed or answered nonsense.
    """
    if settings.llm_provider != "openai":
        raise DraftUnavailable(
            "No language model is configured (LLM_PROVIDER=scripted), so questions cannot be drafted. "
            "Set LLM_PROVIDER=openai and OPENAI_API_KEY (and OPENAI_BASE_URL for another OpenAI-compatible server), or write the questions yourself."
        )
    if not job_description.strip():
        raise DraftUnavailable("Paste the job description first; the questions are drafted from it.")
    base = settings.openai_base_url or "https://api.openai.com/v1"
    body = {
        "model": settings.llm_model,
        "messages": [
            {"role": "system", "content": _DRAFT_PROMPT.format(n=count, language=language or "en")},
            {"role": "user", "content": job_description[:12000]},
        ],
        "temperature": 0.4,
    }
    try:
        with httpx.Client(timeout=60, transport=transport) as client:
            response = client.post(f"{base}/chat/completions", json=body, headers={"Authorization": f"Bearer {settings.openai_api_key}"})
        response.raise_for_status()
        content = response.json()["choices"][0]["message"]["content"]
    except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as err:
        raise DraftUnavailable(
            f"The language model at {base} did not answer usefully ({err.__class__.__name__}). Try again, or write the questions yourself."
        ) from None
    return _parse_drafts(content)


def _parse_drafts(content: str) -> list[dict[str, str]]:
    match = re.search(r"\{.*\}|\[.*\]", content or "", re.S)
    try:
        data = json.loads(match.group(0)) if match else None
    except json.JSONDecodeError:
        data = None
    items = data.get("questions") if isinstance(data, dict) else data
    rows: list[dict[str, str]] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, str):
            item = {"text": item}
        if not isinstance(item, dict) or not str(item.get("text", "")).strip():
            continue
        rows.append(
            {
                "id": "",
                "text": str(item["text"]).strip()[:2000],
                "competency": str(item.get("competency", "")).strip()[:200],
                "follow_up_guidance": str(item.get("follow_up_guidance", "")).strip()[:2000],
                "max_follow_ups": "1",
                "time_budget_seconds": "",
                "strong_answer": "",  # the author's to write: the model only drafts the questions
            }
        )
    if not rows:
        raise DraftUnavailable("The language model's answer held no usable questions. Try again, or write the questions yourself.")
    return rows[:20]
