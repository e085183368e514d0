"""Small builders for test data (real rows through the real services)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session

from interview_app.contracts import InterviewResult, TranscriptSegment
from interview_app.models import Candidate, Evaluation, Interview, InterviewTemplate
from interview_app.services.demo import DEMO_QUESTIONS, DEMO_RUBRIC
from interview_app.services.interviews import create_invitation

T = TypeVar("T")


def make_template(session: Session, **overrides) -> InterviewTemplate:
    values = {
        "title": f"Engineer {uuid.uuid4().hex[:6]}",
        "job_description": "Build things.",
        "duration_limit_minutes": 20,
        "questions": DEMO_QUESTIONS,
        "rubric": DEMO_RUBRIC,
    } | overrides
    template = InterviewTemplate(**values)
    session.add(template)
    session.flush()
    return template


def make_candidate(session: Session, **overrides) -> Candidate:
    tag = uuid.uuid4().hex[:6]
    candidate = Candidate(**({"name": f"Casey {tag}", "email": f"casey.{tag}@example.com"} | overrides))
    session.add(candidate)
    session.flush()
    return candidate


def make_interview(
    session: Session, *, ttl: timedelta = timedelta(days=7), template: InterviewTemplate | None = None
) -> tuple[Interview, str]:
    """An invited interview and its raw link token (committed)."""
    template = template or make_template(session)
    candidate = make_candidate(session)
    interview, raw = create_invitation(session, candidate, template, ttl=ttl)
    session.commit()
    return interview, raw


def scored_criterion(criterion: str, score: int | None, *, weight: float = 1, rationale: str = "r", **extra: Any) -> dict[str, Any]:
    """One criterion of an evaluation as ``evaluation.scores`` stores it, on a 1–5 scale, with no evidence unless given."""
    return {
        "criterion": criterion,
        "weight": weight,
        "scale_min": 1,
        "scale_max": 5,
        "score": score,
        "rationale": rationale,
        "evidence": [],
    } | extra


def make_evaluation(
    session: Session,
    interview_id: uuid.UUID,
    scores: Sequence[dict[str, Any]],
    *,
    summary: str = "Measured answers.",
    recommendation: str = "yes",
    model: str = "judge-1",
) -> Evaluation:
    """A done AI evaluation of the interview (added to the session, not committed)."""
    evaluation = Evaluation(
        interview_id=interview_id, status="done", model=model, summary=summary, recommendation=recommendation, scores=list(scores)
    )
    session.add(evaluation)
    return evaluation


def interview_result(
    interview_id: uuid.UUID, segments: Sequence[TranscriptSegment] = (), *, outcome: str = "completed", **extra: Any
) -> InterviewResult:
    """The agent's result for an interview that ended just now after five minutes; a failed one ends for a broken plan."""
    return InterviewResult(
        interview_id=interview_id,
        outcome=outcome,  # type: ignore[arg-type]
        end_reason="all questions covered" if outcome == "completed" else "plan metadata missing",
        started_at=datetime.now(UTC) - timedelta(minutes=5),
        ended_at=datetime.now(UTC),
        segments=list(segments),
        **extra,
    )


def at_once(n: int, work: Callable[[int], T]) -> list[T]:
    """``work(0)`` … ``work(n - 1)``, each in its own thread, released together by a barrier; their results in that order.

    Waits up to 60 s for each thread; an exception in one is raised here once all have finished.
    """
    barrier = threading.Barrier(n)
    results: dict[int, T] = {}
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except BaseException as err:  # noqa: BLE001  (raised in the test's thread below)
            errors.append(err)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    if errors:
        raise errors[0]
    assert len(results) == n, f"{n - len(results)} of {n} threads did not finish within 60 s"
    return [results[i] for i in range(n)]


def accept_concurrently(engine: sa.Engine, result: InterviewResult, n: int) -> tuple[list[str], list[BaseException]]:
    """``n`` deliveries of ``result`` to the result service at the same instant, each in its own session.

    Returns each delivery's outcome ("accepted", "duplicate", ... or "retry" for a retryable 503
    refusal) and any other exception raised.
    """
    from interview_app.services.results import ResultRejected, accept_result

    errors: list[BaseException] = []

    def deliver(_: int) -> str | None:
        with Session(engine, expire_on_commit=False) as s:
            try:
                return accept_result(s, result, source="webhook").status
            except ResultRejected as err:  # a retryable refusal is fine; the sender retries
                if err.code != 503:
                    errors.append(err)
                    return None
                return "retry"
            except BaseException as err:  # noqa: BLE001
                errors.append(err)
                return None

    outcomes = [outcome for outcome in at_once(n, deliver) if outcome is not None]
    return outcomes, errors
