"""Numbers for the admin overview: counts by status, interviews per day, completion rate, median duration."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from interview_app.models import Interview, InterviewStatus, utcnow
from interview_app.services.interviews import as_aware

#: Statuses in which an interview has ended one way or the other (the completion-rate denominator).
FINISHED = (InterviewStatus.completed.value, InterviewStatus.failed.value, InterviewStatus.expired.value, InterviewStatus.cancelled.value)


@dataclass
class Overview:
    days: int
    counts: dict[str, int] = field(default_factory=dict)
    per_day: list[dict[str, int | str]] = field(default_factory=list)
    total: int = 0
    completion_rate: float | None = None  # completed / finished, in the window
    median_duration_minutes: float | None = None  # of completed interviews in the window


def overview(session: Session, *, days: int = 30, today: date | None = None) -> Overview:
    """Metrics over interviews created in the last ``days`` days (UTC)."""
    today = today or utcnow().date()
    start = datetime.combine(today - timedelta(days=days - 1), time.min, UTC)
    in_window = Interview.created_at >= start
    result = Overview(days=days)
    counts = dict(session.exec(select(Interview.status, sa.func.count()).where(in_window).group_by(Interview.status)).all())
    result.counts = {s.value: int(counts.get(s.value, 0)) for s in InterviewStatus}
    result.total = sum(result.counts.values())

    day = sa.func.date(Interview.created_at)
    per_day = {str(d): int(n) for d, n in session.exec(select(day, sa.func.count()).where(in_window).group_by(day)).all()}
    result.per_day = [
        {"day": (today - timedelta(days=i)).isoformat(), "interviews": per_day.get((today - timedelta(days=i)).isoformat(), 0)}
        for i in range(days - 1, -1, -1)
    ]

    finished = sum(result.counts[s] for s in FINISHED)
    if finished:
        result.completion_rate = result.counts[InterviewStatus.completed.value] / finished

    done = (
        col(Interview.status) == InterviewStatus.completed.value,
        col(Interview.started_at).is_not(None),
        col(Interview.ended_at).is_not(None),
    )
    if session.get_bind().dialect.name == "postgresql":
        seconds = sa.func.extract("epoch", col(Interview.ended_at) - col(Interview.started_at))
        median = session.exec(select(sa.func.percentile_cont(0.5).within_group(seconds)).where(in_window, *done)).one()
        result.median_duration_minutes = float(median) / 60 if median is not None else None
    else:
        spans = session.exec(select(Interview.started_at, Interview.ended_at).where(in_window, *done)).all()
        durations = [(as_aware(e) - as_aware(s)).total_seconds() for s, e in spans if s is not None and e is not None]
        result.median_duration_minutes = statistics.median(durations) / 60 if durations else None
    return result
