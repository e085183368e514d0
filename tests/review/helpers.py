"""Builders for finished interviews (real rows through the real services)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from interview_app.models import Evaluation, Interview, InterviewStatus, TranscriptSegment
from interview_app.services.interviews import transition
from tests.factories import make_interview

TRANSCRIPT = [
    ("agent", "Tell me about a backend system you built that you are proud of."),
    ("candidate", "I built the billing pipeline at Acme. It processed two million invoices a month on PostgreSQL and a queue."),
    ("agent", "What was your own part, and what would you change today?"),
    (
        "candidate",
        "I designed the idempotent retry logic, so a charge is never taken twice when a worker restarts. Today I would add tracing from the start.",
    ),
    ("agent", "A service you own becomes slow under load. How do you find the cause?"),
    (
        "candidate",
        "First I look at the latency percentiles and the database slow query log before changing anything, then I profile the slowest endpoint.",
    ),
]
# The candidate says enough (66 words) for the insufficient-evidence gate to let every criterion be scored.


def finished_interview(
    session: Session, *, segments: list[tuple[str, str]] | None = None, evaluation: bool = True, **fields: Any
) -> tuple[Interview, Evaluation | None]:
    """An interview in `processing` with a transcript and (by default) a pending Evaluation (committed)."""
    interview, _ = make_interview(session)
    transition(session, interview, InterviewStatus.in_progress)
    transition(session, interview, InterviewStatus.processing)
    for key, value in fields.items():
        setattr(interview, key, value)
    session.add(interview)
    for seq, (speaker, text) in enumerate(TRANSCRIPT if segments is None else segments):
        session.add(
            TranscriptSegment(interview_id=interview.id, seq=seq, speaker=speaker, text=text, start_ms=seq * 4000, end_ms=seq * 4000 + 3500)
        )
    ev = None
    if evaluation:
        ev = Evaluation(interview_id=interview.id, status="pending")
        session.add(ev)
    session.commit()
    return interview, ev
