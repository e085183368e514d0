"""Small builders for test data (real rows through the real services)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlmodel import Session

from interview_app.models import Candidate, Interview, InterviewTemplate
from interview_app.services.demo import DEMO_QUESTIONS, DEMO_RUBRIC
from interview_app.services.interviews import create_invitation


def make_template(session: Session, **overrides) -> InterviewTemplate:  # noqa: ANN003
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


def make_candidate(session: Session, **overrides) -> Candidate:  # noqa: ANN003
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
