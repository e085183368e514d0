"""The Interviewer as a text chat: a plain ``AgentSession(llm=...)`` with no room and no audio.

The app backend hosts it for text interviews::

    interview = await TextInterview.start(plan)          # greeting in interview.greeting
    replies = await interview.send("I built a payments API")  # agent messages for this turn
    interview.candidate_idle()                            # from the host's inactivity timer
    if interview.finished: result = await interview.close()  # InterviewResult → results.accept_result

Everything is the same code as the voice worker: Interviewer, its tools and
state, TranscriptCollector and the result it builds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from livekit.agents import AgentSession, llm
from livekit.agents.voice.io import TextOutput
from livekit.agents.voice.run_result import ChatMessageEvent, RunResult

from agent.interviewer import Interviewer
from agent.transcript import TranscriptCollector
from interview_app.contracts import InterviewPlan, InterviewResult


def _replies(result: RunResult) -> list[str]:
    return [
        ev.item.text_content or ""
        for ev in result.events
        if isinstance(ev, ChatMessageEvent) and ev.item.role == "assistant" and (ev.item.text_content or "").strip()
    ]


class TextInterview:
    """One running text interview (one per candidate; not thread-safe, use from one event loop)."""

    def __init__(self, plan: InterviewPlan, session: AgentSession, interviewer: Interviewer, collector: TranscriptCollector) -> None:
        self.plan = plan
        self.session = session
        self.interviewer = interviewer
        self.collector = collector
        self.greeting: list[str] = []
        self.last_run: RunResult | None = None
        self._closed = False

    @classmethod
    async def start(
        cls,
        plan: InterviewPlan,
        *,
        llm_model: llm.LLM | None = None,
        clock: Callable[[], float] = time.monotonic,
        idle_reminders: int = 1,
        deadline_poll_seconds: float = 5.0,
        transcription: TextOutput | None = None,
    ) -> TextInterview:
        """Build the Interviewer + AgentSession for ``plan`` in text mode and run the greeting.

        ``llm_model`` defaults to the LLM from settings (scripted unless configured).
        ``transcription`` becomes the session's transcription output: it receives each reply's
        text while the LLM streams it (``capture_text``, then ``flush``), the greeting included.
        """
        if llm_model is None:
            from agent.providers import build_llm

            llm_model = build_llm()
        plan = plan.model_copy(update={"mode": "text"})
        interviewer = Interviewer(plan, clock=clock, idle_reminders=idle_reminders, deadline_poll_seconds=deadline_poll_seconds)
        session: AgentSession = AgentSession(
            llm=llm_model, vad=None, turn_handling={"turn_detection": None}, user_away_timeout=None, max_tool_steps=5
        )
        session.output.transcription = transcription
        collector = TranscriptCollector(plan, progress=interviewer.progress, mode="text")
        collector.attach(session)
        interview = cls(plan, session, interviewer, collector)
        first = await session.start(interviewer, capture_run=True)
        interview.greeting = _replies(first)
        interview.last_run = first
        return interview

    @property
    def finished(self) -> bool:
        return self.interviewer.finished

    @property
    def end_reason(self) -> str:
        return self.interviewer.progress.end_reason

    async def send(self, text: str) -> list[str]:
        """The candidate's message; returns the interviewer's replies for this turn."""
        if self.finished or self._closed:
            return []
        self.last_run = await self.session.run(user_input=text)
        return _replies(self.last_run)

    async def candidate_idle(self) -> list[str]:
        """Call when the candidate has been inactive: a reminder first, then a polite end."""
        before = len(self.collector.segments)
        handle = self.interviewer.candidate_idle()
        if handle is not None:
            await handle
            if self.interviewer.progress.ended:  # the closing reply called end_interview
                await asyncio.wait_for(self.interviewer.wait_finished(), timeout=10)
        return [s.text for s in self.collector.segments[before:] if s.speaker == "agent"]

    async def close(self, *, outcome: str | None = None, end_reason: str | None = None) -> InterviewResult:
        """Stop the session and build the InterviewResult (completed unless said otherwise)."""
        if not self.interviewer.finished:
            self.interviewer.finish(end_reason or "closed by the host")
        if not self._closed:
            self._closed = True
            await self.session.aclose()
        return self.collector.build_result(
            outcome="failed" if outcome == "failed" else "completed",
            end_reason=end_reason or self.interviewer.progress.end_reason,
        )
