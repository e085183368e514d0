"""Every legal and illegal Interview status transition, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools

import pytest
from sqlmodel import Session, select

from interview_app.models import InterviewEvent, InterviewStatus
from interview_app.services.interviews import TRANSITIONS, IllegalTransition, can_transition, transition
from tests.factories import make_interview

S = InterviewStatus
LEGAL = {
    (S.invited, S.in_progress),
    (S.invited, S.expired),
    (S.invited, S.failed),
    (S.invited, S.cancelled),
    (S.in_progress, S.processing),
    (S.in_progress, S.failed),
    (S.in_progress, S.cancelled),
    (S.processing, S.completed),
    (S.processing, S.failed),
    (S.processing, S.cancelled),
}
ALL_PAIRS = list(itertools.product(S, S))


def test_table_matches_the_design() -> None:
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == LEGAL


def _force_status(session: Session, interview, status: InterviewStatus) -> None:
    """Walk the machine to ``status`` through legal moves only."""
    path = {
        S.invited: [],
        S.in_progress: [S.in_progress],
        S.processing: [S.in_progress, S.processing],
        S.completed: [S.in_progress, S.processing, S.completed],
        S.expired: [S.expired],
        S.failed: [S.failed],
        S.cancelled: [S.cancelled],
    }[status]
    for step in path:
        transition(session, interview, step)
    session.commit()


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS, ids=[f"{a.value}->{b.value}" for a, b in ALL_PAIRS])
def test_transition(session: Session, current: InterviewStatus, target: InterviewStatus) -> None:
    interview, _ = make_interview(session)
    _force_status(session, interview, current)
    events_before = len(session.exec(select(InterviewEvent).where(InterviewEvent.interview_id == interview.id)).all())
    if (current, target) in LEGAL:
        assert can_transition(current, target)
        transition(session, interview, target, reason="test", actor="tester")
        session.commit()
        session.refresh(interview)
        assert interview.status == target.value
        last = session.exec(
            select(InterviewEvent).where(InterviewEvent.interview_id == interview.id).order_by(InterviewEvent.id.desc())  # type: ignore[union-attr]
        ).first()
        assert last is not None and last.detail["from"] == current.value and last.detail["to"] == target.value
        assert last.actor == "tester"
        if target == S.in_progress:
            assert interview.started_at is not None
            assert interview.end_reason is None  # a reason for starting is not an end reason
        if target in (S.processing, S.completed, S.failed, S.cancelled, S.expired):
            assert interview.ended_at is not None
            assert interview.end_reason == "test"
    else:
        assert not can_transition(current, target)
        with pytest.raises(IllegalTransition, match="cannot become"):
            transition(session, interview, target)
        session.rollback()
        session.refresh(interview)
        assert interview.status == current.value
        events_after = len(session.exec(select(InterviewEvent).where(InterviewEvent.interview_id == interview.id)).all())
        assert events_after == events_before
