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
from datetime import UTC, datetime

from livekit.agents import AgentSession, llm
from livekit.agents.voice.io import TextOutput
from livekit.agents.voice.run_result import ChatMessageEvent, RunResult

from agent.interviewer import Interviewer
from agent.transcript import TranscriptCollector
from interview_app.contracts import InterviewPlan, InterviewResult, TranscriptSegment


class _ResumedInterviewer(Interviewer):
    """The Interviewer continuing a conversation: entering the session does not greet again."""

    async def on_enter(self) -> None:
        self.session.on("user_state_changed", self._on_user_state_changed)
        self.session.on("conversation_item_added", self._on_conversation_item)
        if self._watch_deadline:
            self._spawn(self._deadline_watch())


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

    @classmethod
    async def resume(
        cls,
        plan: InterviewPlan,
        segments: list[TranscriptSegment],
        *,
        started_at: float,
        llm_model: llm.LLM | None = None,
        clock: Callable[[], float] = time.monotonic,
        idle_reminders: int = 1,
        deadline_poll_seconds: float = 5.0,
        transcription: TextOutput | None = None,
    ) -> TextInterview:
        """Rebuild a running text interview from its stored messages (another process drove it).

        The conversation so far becomes the session's chat context and the collector's
        segments; the plan state is reconstructed from the messages' question ids (the current
        question is the last message's, every question before it counts as covered; follow-ups
        used = the interviewer's messages on the current question after the first); the time
        budget runs from ``started_at`` (``clock`` time). No greeting: the conversation goes on
        from where it stopped.
        """
        if llm_model is None:
            from agent.providers import build_llm

            llm_model = build_llm()
        plan = plan.model_copy(update={"mode": "text"})
        interviewer = _ResumedInterviewer(plan, clock=clock, idle_reminders=idle_reminders, deadline_poll_seconds=deadline_poll_seconds)
        progress = interviewer.progress
        progress.started_at = started_at
        ids = [q.question.id for q in progress.questions]
        current_id = next((s.question_id for s in reversed(segments) if s.question_id in ids), None)
        index = ids.index(current_id) if current_id is not None else 0
        for qp in progress.questions[:index]:
            qp.covered = True
        progress.index = index
        progress.questions[index].started_at = next(
            (started_at + s.start_ms / 1000 for s in segments if s.question_id == current_id), started_at
        )
        asked = sum(1 for s in segments if s.speaker == "agent" and s.question_id == current_id)
        progress.questions[index].follow_ups_used = max(0, asked - 1)
        chat = llm.ChatContext.empty()
        for seg in segments:
            chat.add_message(role="user" if seg.speaker == "candidate" else "assistant", content=seg.text)
        interviewer._chat_ctx = chat.copy(tools=interviewer.tools)  # the Agent's initial context (private: no public setter before start)
        session: AgentSession = AgentSession(
            llm=llm_model, vad=None, turn_handling={"turn_detection": None}, user_away_timeout=None, max_tool_steps=5
        )
        session.output.transcription = transcription
        collector = TranscriptCollector(plan, progress=interviewer.progress, mode="text")
        collector.started_wall = started_at
        collector.started_at = datetime.fromtimestamp(started_at, UTC)
        collector.segments = [s.model_copy(update={"seq": i}) for i, s in enumerate(segments)]
        collector.attach(session)
        interview = cls(plan, session, interviewer, collector)
        await session.start(interviewer)
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

    async def answer_pending(self) -> list[str]:
        """Reply to the candidate's last message, already in the conversation (after a resume)."""
        before = len(self.collector.segments)
        if not self.finished and not self._closed:
            await self.session.generate_reply()
        return [s.text for s in self.collector.segments[before:] if s.speaker == "agent"]

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
