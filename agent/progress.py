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
#: The longest "give me a moment" pause (the question clock stops, idle reminders wait).
PAUSE_MAX_SECONDS = 120.0


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
        #: Clock time until which the candidate asked for a moment (0 when not paused), and when it began.
        self.paused_until = 0.0
        self._pause_started: float | None = None
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
        now = self._pause_started if self.is_paused() else self.clock()  # stopped while the candidate takes a moment
        assert now is not None
        return max(0.0, self.question_budget(qp) - (now - qp.started_at))

    # --- pauses -----------------------------------------------------------------
    def _settle_pause(self) -> None:
        """A pause that ran out: its whole length is given to the question it paused."""
        if self._pause_started is not None and self.clock() >= self.paused_until:
            self._credit(self.paused_until - self._pause_started)

    def _credit(self, seconds: float) -> None:
        qp = self.current
        if qp is not None and qp.started_at is not None:
            qp.started_at += seconds  # the paused seconds do not count against the question's budget
        self._pause_started = None

    def is_paused(self) -> bool:
        self._settle_pause()
        return self._pause_started is not None

    def pause(self, seconds: float) -> float:
        """The candidate asked for a moment: stop the question clock for ``seconds`` (at most
        PAUSE_MAX_SECONDS from now; asking again extends it). Returns the seconds granted.

        The total time limit keeps running: a pause costs the candidate time for later
        questions, never the interview's hard end.
        """
        now = self.clock()
        until = now + max(0.0, min(float(seconds), PAUSE_MAX_SECONDS))
        if until <= now:
            return 0.0
        if not self.is_paused():
            self._pause_started = now
        self.paused_until = max(self.paused_until, until)
        self._changed()
        return self.paused_until - now

    def resume(self) -> None:
        """The candidate is back (they spoke or answered): the question clock runs again."""
        if not self.is_paused():
            return
        assert self._pause_started is not None
        self._credit(self.clock() - self._pause_started)
        self.paused_until = 0.0
        self._changed()

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
        self.resume()
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
        covered), the number of questions, when the time limit ends and until when the candidate's
        pause lasts (epoch milliseconds, "0" when none)."""
        ends_at = 0 if self.started_at is None else int((now_epoch + self.total_time_left()) * 1000)
        pause_left = max(0.0, self.paused_until - self.clock()) if self.is_paused() else 0.0
        return {
            "interview.paused_until": str(int((now_epoch + pause_left) * 1000)) if pause_left > 0 else "0",
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
            "candidate_paused_seconds": round(max(0.0, self.paused_until - self.clock())) if self.is_paused() else 0,
        }
