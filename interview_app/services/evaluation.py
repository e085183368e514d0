"""Rubric evaluation of a finished interview, run as a durable job.

The ``Evaluation`` row is the job: ``pending → running → done | failed | needs_llm | insufficient``.
Any number of app processes (and the ``evaluate-pending`` CLI) may run
:func:`run_pending` at once: a row is claimed with ``SELECT … FOR UPDATE SKIP LOCKED``
on PostgreSQL and with a conditional UPDATE on SQLite, so each job runs once. A row
left ``running`` by a crashed process is claimed again after :data:`LEASE_SECONDS`.

Scores come only from a configured LLM (``LLM_PROVIDER=openai``); with the scripted provider the
job ends in ``needs_llm`` — never invented scores. What is scored, and how, is services/scoring.py
(pure functions): the insufficient-evidence gate runs before any model call, so an interview with
too little usable candidate speech ends ``insufficient`` (``EvaluationStatus.insufficient_evidence``)
without one, and every evidence quote is checked against the transcript. This module loads the
job's input, calls the model and stores the outcome. The recommendation is advisory: the hiring
decision stays with people.

A job that ends ``done`` or ``insufficient`` queues the ``evaluation.ready`` webhook event
(services/webhooks.py) in the transaction that stores its outcome.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any, Protocol

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from interview_app.contracts import RubricCriterion
from interview_app.models import (
    Evaluation,
    EvaluationStatus,
    Interview,
    InterviewStatus,
    InterviewTemplate,
    TranscriptSegment,
    utcnow,
)
from interview_app.services.interviews import interview_language, record_event, transition
from interview_app.services.job_claim import claim_due
from interview_app.services.polling import poll_forever
from interview_app.services.scoring import (
    EvaluationError,
    EvaluationInput,
    EvidenceReport,
    assess_evidence,
    build_messages,
    gated_scores,
    parse_answer,
    questions_for_prompt,
    stored_scores,
)
from interview_app.services.templates import as_run
from interview_app.services.webhooks import emit_evaluation_ready
from interview_app.settings import Settings, get_settings

log = logging.getLogger(__name__)

#: A ``running`` row older than this belongs to a process that died; it is claimed again.
LEASE_SECONDS = 600
#: Attempts before a job ends ``failed`` (an admin can re-run it).
MAX_ATTEMPTS = 3
#: Wait before a failed attempt is tried again.
RETRY_DELAY_SECONDS = 30
#: How often the in-app worker looks for pending jobs.
POLL_SECONDS = 5.0

NEEDS_LLM_MESSAGE = (
    "Evaluation needs an LLM provider: set LLM_PROVIDER=openai, OPENAI_API_KEY (and OPENAI_BASE_URL for a "
    "self-hosted server) in .env, restart the app, then press Re-run evaluation."
)

E = EvaluationStatus


class EvaluationLLM(Protocol):
    """What the evaluator needs from a language model: one JSON answer to a chat."""

    model: str

    def complete_json(self, messages: list[dict[str, str]]) -> str: ...


class OpenAIChatLLM:
    """OpenAI-compatible ``POST {base}/chat/completions`` with JSON output, over httpx."""

    def __init__(self, *, base_url: str, api_key: str, model: str, timeout: float = 120.0) -> None:
        self.base_url = (base_url or "https://api.openai.com/v1").rstrip("/")
        self.model = model
        self._api_key = api_key
        self._timeout = timeout

    def complete_json(self, messages: list[dict[str, str]]) -> str:
        body = {"model": self.model, "messages": messages, "temperature": 0, "response_format": {"type": "json_object"}}
        try:
            response = httpx.post(
                f"{self.base_url}/chat/completions",
                json=body,
                headers={"Authorization": f"Bearer {self._api_key}"},
                timeout=self._timeout,
            )
        except httpx.HTTPError as err:
            raise EvaluationError(f"The LLM server at {self.base_url} could not be reached ({err.__class__.__name__}).") from err
        if response.status_code != 200:
            raise EvaluationError(f"The LLM server at {self.base_url} answered HTTP {response.status_code}: {response.text[:300]}")
        try:
            return response.json()["choices"][0]["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError) as err:
            raise EvaluationError("The LLM server's answer is not an OpenAI chat completion.") from err


def llm_from_settings(settings: Settings) -> EvaluationLLM | None:
    """The configured evaluator model, or None for the scripted provider."""
    if settings.llm_provider == "openai":
        return OpenAIChatLLM(base_url=settings.openai_base_url, api_key=settings.openai_api_key, model=settings.llm_model)
    return None


# --- the job ------------------------------------------------------------------


def _load_input(session: Session, interview: Interview) -> EvaluationInput:
    template = session.get(InterviewTemplate, interview.template_id)
    if template is not None:
        template = as_run(session, template, interview.template_version)  # the rubric the interview was run with
    rubric = [RubricCriterion.model_validate(c) for c in (template.rubric if template else [])]
    segments = list(
        session.exec(select(TranscriptSegment).where(TranscriptSegment.interview_id == interview.id).order_by(col(TranscriptSegment.seq)))
    )
    return EvaluationInput(
        interview_id=interview.id,
        role_title=template.title if template else "",
        job_description=template.job_description if template else "",
        rubric=rubric,
        segments=segments,
        language=interview_language(interview, template),
        questions=[q for q in (template.questions if template else []) if isinstance(q, dict)],
    )


def _due(now: Any, lease_seconds: int) -> Any:
    return sa.or_(
        sa.and_(
            col(Evaluation.status) == E.pending.value,
            sa.or_(col(Evaluation.attempts) == 0, col(Evaluation.updated_at) <= now - timedelta(seconds=RETRY_DELAY_SECONDS)),
        ),
        sa.and_(col(Evaluation.status) == E.running.value, col(Evaluation.updated_at) <= now - timedelta(seconds=lease_seconds)),
    )


def claim_next(engine: Engine, *, lease_seconds: int = LEASE_SECONDS) -> int | None:
    """Mark the oldest due job ``running`` for this process; its id, or None when none is due."""
    now = utcnow()
    order = (col(Evaluation.created_at), col(Evaluation.id))
    with Session(engine) as session:
        row = claim_due(session, Evaluation, _due(now, lease_seconds), order, status=E.running.value, now=now)
        return row.id if row is not None else None


def _finish_interview(session: Session, interview: Interview | None) -> None:
    """processing → completed once the evaluation has an outcome (a person takes it from there)."""
    if interview is not None and interview.status == InterviewStatus.processing.value:
        transition(session, interview, InterviewStatus.completed, reason="evaluation finished", actor="evaluator")


def process(engine: Engine, evaluation_id: int, *, settings: Settings | None = None, llm: EvaluationLLM | None = None) -> str:
    """Run one claimed job to its next status; returns that status."""
    settings = settings or get_settings()
    llm = llm if llm is not None else llm_from_settings(settings)
    with Session(engine, expire_on_commit=False) as session:
        ev = session.get(Evaluation, evaluation_id)
        if ev is None or ev.status != E.running.value:
            return ev.status if ev else "missing"
        interview = session.get(Interview, ev.interview_id)
        data: EvaluationInput | None = None
        report: EvidenceReport | None = None
        if interview is not None and (llm is None or ev.attempts <= MAX_ATTEMPTS):
            data = _load_input(session, interview)
            report = assess_evidence(data.segments, data.questions, data.rubric)  # the gate, before any model call
            ev.language = data.language[:16]
            ev.template_version = interview.template_version
        if interview is None:
            ev.status, ev.error = E.failed.value, "The interview of this evaluation no longer exists."
        elif data is not None and report is not None and not report.enough:
            ev.status, ev.error, ev.model = E.insufficient_evidence.value, None, ""
            ev.scores, ev.summary, ev.recommendation = stored_scores(gated_scores(data.rubric, report, [])), report.reason, ""
            log.info("evaluation %s: not evaluated (%s)", ev.id, report.reason)
        elif llm is None:
            ev.status, ev.error, ev.scores, ev.summary, ev.recommendation = E.needs_llm.value, NEEDS_LLM_MESSAGE, [], "", ""
            ev.model = ""
        elif data is None or report is None or ev.attempts > MAX_ATTEMPTS:
            ev.status = E.failed.value
            ev.error = f"The evaluation was interrupted {MAX_ATTEMPTS} times ({ev.error or 'no error recorded'}); press Re-run evaluation."
        else:
            session.commit()  # release SQLite's read snapshot while the model thinks
            try:
                if not data.rubric:
                    raise ValueError("The interview's template has no rubric: add criteria to the template, then re-run.")
                scorable = {c.name for c in report.criteria if c.enough}
                asked = replace(  # the model sees only these criteria, and only their questions
                    data,
                    rubric=[c for c in data.rubric if c.name in scorable],
                    questions=questions_for_prompt(data.questions, data.rubric, scorable),
                )
                outcome = parse_answer(llm.complete_json(build_messages(asked)), asked)
            except ValueError as err:  # nothing a retry would change
                ev.status, ev.error = E.failed.value, str(err)
            except EvaluationError as err:
                ev.error = str(err)
                ev.status = E.pending.value if ev.attempts < MAX_ATTEMPTS else E.failed.value
                if ev.status == E.failed.value:
                    ev.error = f"{err} Gave up after {ev.attempts} attempts; check the LLM settings and press Re-run evaluation."
            else:
                ev.status, ev.error = E.done.value, None
                ev.scores = stored_scores(gated_scores(data.rubric, report, outcome.scores))
                ev.summary, ev.recommendation = outcome.summary, outcome.recommendation
                ev.model = llm.model[:200]
                if outcome.dropped_quotes:
                    log.info("evaluation %s: dropped %d quotes not found in the transcript", ev.id, outcome.dropped_quotes)
        ev.updated_at = utcnow()
        session.add(ev)
        if ev.status != E.pending.value and interview is not None:
            _finish_interview(session, interview)
            record_event(session, ev.interview_id, "evaluation_finished", actor="evaluator", status=ev.status, evaluation_id=ev.id)
        if ev.status in (E.done.value, E.insufficient_evidence.value):
            emit_evaluation_ready(session, ev, settings=settings)  # queued in this transaction: only if the outcome commits
        session.commit()
        return ev.status


def run_pending(
    engine: Engine | None = None, *, settings: Settings | None = None, llm: EvaluationLLM | None = None, limit: int | None = None
) -> list[tuple[int, str]]:
    """Claim and run due jobs until none is left (or ``limit``); returns (id, status) pairs."""
    if engine is None:
        from interview_app.db import get_engine

        engine = get_engine()
    done: list[tuple[int, str]] = []
    while limit is None or len(done) < limit:
        ev_id = claim_next(engine)
        if ev_id is None:
            break
        try:
            done.append((ev_id, process(engine, ev_id, settings=settings, llm=llm)))
        except Exception:  # the row stays running; the lease hands it to the next try
            log.exception("evaluation %s crashed", ev_id)
            done.append((ev_id, E.running.value))
    return done


def request_rerun(session: Session, interview_id: uuid.UUID, *, actor: str) -> Evaluation:
    """Queue a fresh evaluation of an interview (caller commits).

    Raises:
        ValueError: the interview does not exist, has not finished, or is being evaluated right now.
    """
    interview = session.get(Interview, interview_id)
    if interview is None:
        raise ValueError("This interview no longer exists.")
    if interview.status not in (InterviewStatus.processing.value, InterviewStatus.completed.value):
        raise ValueError("Only a finished interview can be evaluated.")
    ev = latest_evaluation(session, interview_id)
    if ev is not None and ev.status == E.running.value:
        raise ValueError("The evaluation is running right now; wait for it to finish.")
    if ev is None:
        ev = Evaluation(interview_id=interview_id)
    ev.status, ev.attempts, ev.error, ev.updated_at = E.pending.value, 0, None, utcnow()
    ev.scores, ev.summary, ev.recommendation, ev.model = [], "", "", ""
    session.add(ev)
    record_event(session, interview_id, "evaluation_requested", actor=actor)
    return ev


def latest_evaluation(session: Session, interview_id: uuid.UUID) -> Evaluation | None:
    return session.exec(
        select(Evaluation)
        .where(Evaluation.interview_id == interview_id)
        .order_by(col(Evaluation.id).desc())
        .limit(1)
        .execution_options(populate_existing=True)  # the worker changes it in another session
    ).first()


async def evaluation_worker(poll_seconds: float = POLL_SECONDS) -> None:
    """Runs in the app (Reflex lifespan task): works off due jobs until the app stops."""
    await poll_forever(run_pending, poll_seconds, log, "evaluation worker")
