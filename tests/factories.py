"""Small builders for test data (real rows through the real services)."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session

from interview_app.contracts import InterviewResult
from interview_app.models import Candidate, Interview, InterviewTemplate
from interview_app.services.demo import DEMO_QUESTIONS, DEMO_RUBRIC
from interview_app.services.interviews import create_invitation


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


def accept_concurrently(engine: sa.Engine, result: InterviewResult, n: int) -> tuple[list[str], list[BaseException]]:
    """``n`` deliveries of ``result`` to the result service at the same instant, each in its own session.

    Returns each delivery's outcome ("accepted", "duplicate", ... or "retry" for a retryable 503
    refusal) and any other exception raised.
    """
    from interview_app.services.results import ResultRejected, accept_result

    outcomes: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def deliver() -> None:
        with Session(engine, expire_on_commit=False) as s:
            barrier.wait()
            try:
                outcomes.append(accept_result(s, result, source="webhook").status)
            except ResultRejected as err:  # a retryable refusal is fine; the sender retries
                if err.code != 503:
                    errors.append(err)
                else:
                    outcomes.append("retry")
            except BaseException as err:  # noqa: BLE001
                errors.append(err)

    threads = [threading.Thread(target=deliver) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes, errors
