"""Where an interview stands: questions covered, follow-ups used, notes, time.

Pure bookkeeping (no livekit import) so both the voice worker and the text
interview share it, and tests can drive it with a fake clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from interview_app.contracts import InterviewPlan, PlanQuestion

#: How long before the total limit the interviewer stops asking follow-ups.
WRAP_UP_SECONDS = 60.0


@dataclass
class QuestionProgress:
    question: PlanQuestion
    follow_ups_used: int = 0
    covered: bool = False
    notes: list[str] = field(default_factory=list)
    started_at: float | None = None


class InterviewProgress:
    """The plan state the interviewer's tools read and change."""

    def __init__(self, plan: InterviewPlan, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.plan = plan
        self.clock = clock
        self.questions = [QuestionProgress(q) for q in plan.questions]
        self.index = 0
        self.started_at: float | None = None
        self.ended = False
        self.end_reason = ""
        self._listeners: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after the interview starts, moves to another question or ends."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    # --- time -----------------------------------------------------------------
    def start(self) -> None:
        if self.started_at is None:
            self.started_at = self.clock()
            self.questions[0].started_at = self.started_at
            self._changed()

    def elapsed(self) -> float:
        return 0.0 if self.started_at is None else max(0.0, self.clock() - self.started_at)

    def total_time_left(self) -> float:
        return max(0.0, self.plan.duration_limit_seconds - self.elapsed())

    def time_is_up(self) -> bool:
        return self.started_at is not None and self.total_time_left() <= 0

    def question_budget(self, qp: QuestionProgress) -> float:
        """Seconds for one question: its own budget, else a fair share of the total."""
        if qp.question.time_budget_seconds:
            return float(qp.question.time_budget_seconds)
        return self.plan.duration_limit_seconds / max(1, len(self.questions))

    def question_time_left(self) -> float:
        qp = self.current
        if qp is None or qp.started_at is None:
            return 0.0 if qp is None else self.question_budget(qp)
        return max(0.0, self.question_budget(qp) - (self.clock() - qp.started_at))

    # --- questions --------------------------------------------------------------
    @property
    def current(self) -> QuestionProgress | None:
        return self.questions[self.index] if self.index < len(self.questions) else None

    @property
    def covered_ids(self) -> list[str]:
        return [qp.question.id for qp in self.questions if qp.covered]

    @property
    def questions_left(self) -> int:
        return sum(1 for qp in self.questions if not qp.covered)

    def find(self, question_id: str) -> QuestionProgress | None:
        return next((qp for qp in self.questions if qp.question.id == question_id), None)

    def follow_up_allowed(self) -> tuple[bool, str]:
        """Whether one more follow-up fits the question's bound and the time budgets."""
        qp = self.current
        if qp is None:
            return False, "all questions are covered"
        if qp.follow_ups_used >= qp.question.max_follow_ups:
            return False, f"the {qp.question.max_follow_ups} follow-up(s) planned for this question are used"
        if self.question_time_left() <= 0:
            return False, "the time budget of this question is used up"
        if self.total_time_left() <= WRAP_UP_SECONDS:
            return False, "the interview is almost out of time"
        return True, ""

    def use_follow_up(self) -> None:
        if self.current is not None:
            self.current.follow_ups_used += 1

    def cover(self, question_id: str, notes: str = "") -> QuestionProgress | None:
        """Mark a question covered and move to the next uncovered one; returns the next."""
        qp = self.find(question_id) or self.current
        if qp is not None:
            qp.covered = True
            if notes.strip():
                qp.notes.append(notes.strip())
        nxt = next((i for i, q in enumerate(self.questions) if not q.covered), None)
        self.index = len(self.questions) if nxt is None else nxt
        current = self.current
        if current is not None and current.started_at is None:
            current.started_at = self.clock()
        self._changed()
        return current

    def add_note(self, notes: str) -> None:
        if self.current is not None and notes.strip():
            self.current.notes.append(notes.strip())

    def finish(self, reason: str) -> None:
        if not self.ended:
            self.ended = True
            self.end_reason = reason
            self._changed()

    def room_attributes(self, *, now_epoch: float) -> dict[str, str]:
        """What the candidate's page shows beside the conversation ("Question i of n", time left), as
        participant attributes of the interviewer: 1-based question number (n + 1 when all are
        covered), the number of questions, and when the time limit ends (epoch milliseconds)."""
        ends_at = 0 if self.started_at is None else int((now_epoch + self.total_time_left()) * 1000)
        return {
            "interview.question": str(min(self.index, len(self.questions)) + 1),
            "interview.questions": str(len(self.questions)),
            "interview.ends_at": str(ends_at),
            "interview.ended": "1" if self.ended else "0",
        }

    def snapshot(self) -> dict[str, Any]:
        """The state note the LLM sees before every reply (also read by the scripted LLM)."""
        qp = self.current
        return {
            "candidate_name": self.plan.candidate_name,
            "role_title": self.plan.role_title,
            "org_name": self.plan.org_name,
            "language": self.plan.language,
            "greeting": self.plan.greeting,
            "question_count": len(self.questions),
            "questions_left": self.questions_left,
            "total_time_left_seconds": round(self.total_time_left()),
            "duration_limit_seconds": self.plan.duration_limit_seconds,
            "current_question": None
            if qp is None
            else {
                "id": qp.question.id,
                "number": self.index + 1,
                "text": qp.question.text,
                "follow_up_guidance": qp.question.follow_up_guidance,
                "follow_ups_used": qp.follow_ups_used,
                "max_follow_ups": qp.question.max_follow_ups,
                "question_time_left_seconds": round(self.question_time_left()),
            },
            "follow_up_allowed": self.follow_up_allowed()[0],
        }
