"""The Interviewer agent: walks an InterviewPlan with bounded follow-ups and time budgets.

The same class runs in a LiveKit room (voice) and in a plain ``AgentSession``
without a room (text mode, see :mod:`agent.text_mode`). The plan state lives in
:class:`agent.progress.InterviewProgress` and changes only through the function
tools below, so any LLM — a real one or :class:`agent.scripted.ScriptedLLM` —
drives the same bookkeeping.

Before every LLM call the agent appends one system message, the *state note*
(``STATE_NOTE_PREFIX`` + JSON): current question, follow-ups left, time left,
and the interview event that prompted the reply (greeting, idle reminder,
time up). Real LLMs read it as guidance; the scripted LLM reads it as its input.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterable, Callable
from typing import Any

from livekit.agents import Agent, FlushSentinel, ModelSettings, RunContext, function_tool, llm
from livekit.agents.voice.events import ConversationItemAddedEvent, UserStateChangedEvent
from livekit.agents.voice.speech_handle import SpeechHandle

from agent.progress import PAUSE_MAX_SECONDS, InterviewProgress
from interview_app.contracts import InterviewPlan

logger = logging.getLogger("agent.interviewer")

STATE_NOTE_PREFIX = "INTERVIEW STATE (JSON): "

#: Interview events the agent raises itself; the text is what a real LLM is told to do.
EVENT_INSTRUCTIONS: dict[str, str] = {
    "greeting": (
        "Greet the candidate by name, introduce yourself as the interviewer for the role, explain the "
        "format (number of questions, about how long it takes, that they may take time to think, ask you "
        "to repeat a question or ask how much time is left), then ask the first question."
    ),
    "idle_reminder": (
        "The candidate has been silent for a while. Gently check that they are still there, tell them "
        "there is no rush, and offer to repeat the current question."
    ),
    "idle_end": (
        "The candidate has not responded after a reminder. Say politely that you will end the interview "
        "now, thank them, and call end_interview with reason 'candidate idle'."
    ),
    "time_up": (
        "The time for this interview is up. Thank the candidate warmly, tell them the hiring team will be "
        "in touch, and call end_interview with reason 'time limit reached'."
    ),
    "pause": (
        'The candidate pressed "Give me a moment". In one short sentence tell them to take their time and '
        "that you will wait until they speak again. Do not repeat or change the question."
    ),
}

#: Events after which the interview ends, with the end reason used if the model does not end it.
CLOSING_EVENTS = {"idle_end": "candidate idle", "time_up": "time limit reached"}
CLOSE_GRACE_SECONDS = 10.0

#: What the agent says when the plan cannot be used (before leaving the room).
PLAN_ERROR_MESSAGE = (
    "I'm sorry, something went wrong on our side and this interview cannot start right now. "
    "Please close this page; the hiring team has been notified and will send you a new link."
)


def render_instructions(plan: InterviewPlan) -> str:
    """The system instructions from the template fields carried by the plan."""
    persona = plan.persona.strip() or (
        "You are a friendly, professional interviewer. You are concise: one question at a time, "
        "short acknowledgements, no lectures, no feedback on whether answers are right."
    )
    org = f" at {plan.org_name}" if plan.org_name else ""
    questions = "\n".join(
        f"{i}. [{q.id}] {q.text}"
        + (f"\n   Competency: {q.competency}" if q.competency else "")
        + (f"\n   Follow-up guidance: {q.follow_up_guidance}" if q.follow_up_guidance else "")
        + f"\n   Follow-ups allowed: {q.max_follow_ups}"
        + (f"; time budget: {q.time_budget_seconds} s" if q.time_budget_seconds else "")
        for i, q in enumerate(plan.questions, start=1)
    )
    jd = plan.job_description.strip()
    return f"""{persona}

You are interviewing {plan.candidate_name} for the role "{plan.role_title}"{org}.
Speak only in the language with code "{plan.language}". Your words are spoken aloud or shown as chat:
plain sentences, no markdown, no lists, no emojis.
{f"Greeting to use (adapt it to the language if needed): {plan.greeting}" if plan.greeting.strip() else ""}

The interview lasts at most {plan.duration_limit_seconds // 60} minutes. Planned questions, in order:
{questions}

How to run the interview:
- Ask the questions in order, one at a time, in your own words but keeping their meaning.
- After an answer, you may ask a follow-up that uses the question's guidance. Before asking one, call
  ask_follow_up; ask it only if the tool approves. When a question is done, call mark_question_covered
  with its id and short notes on what the candidate said, then ask the next question the tool returns.
- Candidates pause to think. Never rush them; never answer the question for them.
- If asked to repeat or rephrase, repeat or rephrase the current question without hinting at an answer.
- If asked how much time is left, call time_remaining and answer from it.
- If the candidate asks for a moment to think ("give me a moment", "let me think"), call
  give_candidate_a_moment, then say in one short sentence that you will wait; say nothing more until they speak.
- If the candidate wants to stop, or all questions are covered, or time is up: thank them, say the hiring
  team will follow up, and call end_interview.
- A system message starting with "{STATE_NOTE_PREFIX.strip()}" before your turn tells you the current
  question, follow-ups left, and time left; trust it over your memory.
{f"Job description (context only, do not read it out):{chr(10)}{jd[:6000]}" if jd else ""}""".strip()


class Interviewer(Agent):
    """Runs one InterviewPlan; ``wait_finished()`` returns once the interview has ended."""

    def __init__(
        self,
        plan: InterviewPlan,
        *,
        clock: Callable[[], float] = time.monotonic,
        idle_reminders: int = 1,
        time_up_grace_seconds: float = 60.0,
        watch_deadline: bool = True,
        deadline_poll_seconds: float = 5.0,
        close_grace_seconds: float = CLOSE_GRACE_SECONDS,
    ) -> None:
        super().__init__(instructions=render_instructions(plan))
        self.close_grace_seconds = close_grace_seconds
        self.plan = plan
        self.progress = InterviewProgress(plan, clock=clock)
        self.idle_reminders = idle_reminders
        self.time_up_grace_seconds = time_up_grace_seconds
        self._watch_deadline = watch_deadline
        self._deadline_poll = deadline_poll_seconds
        self._pending_event: str | None = None
        self._closing = False
        self._idle_strikes = 0
        self._finished = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- lifecycle ----------------------------------------------------------------
    async def on_enter(self) -> None:
        self.progress.start()
        self.session.on("user_state_changed", self._on_user_state_changed)
        self.session.on("conversation_item_added", self._on_conversation_item)
        if self._watch_deadline:
            self._spawn(self._deadline_watch())
        self.raise_event("greeting")

    async def on_exit(self) -> None:
        self.session.off("user_state_changed", self._on_user_state_changed)
        self.session.off("conversation_item_added", self._on_conversation_item)
        for task in list(self._tasks):
            task.cancel()

    def _on_conversation_item(self, ev: ConversationItemAddedEvent) -> None:
        if isinstance(ev.item, llm.ChatMessage) and ev.item.role == "user":
            self._idle_strikes = 0  # the candidate is active again (voice or text)
            self.progress.resume()

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    async def wait_finished(self) -> str:
        """Wait until the interview ends; returns the end reason."""
        await self._finished.wait()
        return self.progress.end_reason

    def finish(self, reason: str) -> None:
        """End now (candidate left, hard time stop, host shutting down)."""
        self.progress.finish(reason)
        self._finished.set()

    # --- interview events -------------------------------------------------------------
    def raise_event(self, event: str) -> SpeechHandle | None:
        """Make the interviewer speak because of an event, not a candidate turn."""
        if self.finished or (self._closing and event != "greeting"):
            return None
        if event in CLOSING_EVENTS:
            self._closing = True
        self._pending_event = event
        handle = self.session.generate_reply(instructions=EVENT_INSTRUCTIONS[event])
        if event in CLOSING_EVENTS:
            self._spawn(self._close_after(handle, CLOSING_EVENTS[event]))
        return handle

    async def _close_after(self, closing_words: SpeechHandle, reason: str) -> None:
        # A model that says goodbye but forgets end_interview must not leave the room open.
        await closing_words.wait_for_playout()
        try:
            await asyncio.wait_for(self._finished.wait(), timeout=self.close_grace_seconds)
        except TimeoutError:
            logger.info("interview %s closed without end_interview (%s)", self.plan.interview_id, reason)
            self.finish(reason)

    def candidate_idle(self) -> SpeechHandle | None:
        """The candidate has been silent too long: remind once (configurable), then end politely.

        Voice sessions call this from the session's ``user_state_changed`` → ``away``;
        text hosts call it from their own inactivity timer.
        """
        if self.finished:
            return None
        if self.progress.is_paused():
            return None  # they asked for a moment: the reminder waits until the pause is over
        self._idle_strikes += 1
        return self.raise_event("idle_reminder" if self._idle_strikes <= self.idle_reminders else "idle_end")

    def _on_user_state_changed(self, ev: UserStateChangedEvent) -> None:
        if ev.new_state == "away":
            handle = self.candidate_idle()
            if handle is not None and not self._closing:
                self._spawn(self._rearm_idle_timer(handle))
        elif ev.new_state == "speaking":
            self._idle_strikes = 0
            self.progress.resume()  # back before the pause ran out

    async def _rearm_idle_timer(self, reminder: SpeechHandle) -> None:
        # The session reports "away" once; after the reminder, count the silence again so that a
        # candidate who stays silent gets the polite end instead of an open room.
        await reminder.wait_for_playout()
        if not self.finished:
            self.session.reset_away_timer()

    async def _deadline_watch(self) -> None:
        while not self.finished:
            left = self.progress.total_time_left()
            if left > 0:
                await asyncio.sleep(min(left, self._deadline_poll))
                continue
            self.raise_event("time_up")
            try:
                await asyncio.wait_for(self._finished.wait(), timeout=self.time_up_grace_seconds)
            except TimeoutError:
                logger.info("interview %s hard-stopped after the time limit", self.plan.interview_id)
                self.finish("time limit reached")
            return

    def pause_for_candidate(self, seconds: float = PAUSE_MAX_SECONDS, *, say: bool = True) -> float:
        """The candidate asked for a moment (the page's button, or by saying so through the tool).

        The question clock stops and idle reminders wait for up to ``seconds`` (at most
        PAUSE_MAX_SECONDS); speaking again ends the pause. With ``say`` the interviewer says it will
        wait. Returns the seconds granted (0 once the interview is closing).
        """
        if self.finished or self._closing:
            return 0.0
        granted = self.progress.pause(seconds)
        if granted > 0:
            self._spawn(self._after_pause(self.progress.paused_until))
            if say:
                self.raise_event("pause")
        return granted

    async def _after_pause(self, until: float) -> None:
        # The session said "away" once during the pause (ignored then); count the silence again from
        # the pause's end so that a candidate who never comes back still gets the reminder.
        await asyncio.sleep(max(0.0, until - self.progress.clock()))
        if not self.finished and self.progress.paused_until == until and self._activity_session() is not None:
            self.session.reset_away_timer()

    def _activity_session(self) -> Any:
        try:
            return self.session
        except RuntimeError:  # not running in a session (tests of the bookkeeping)
            return None

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- LLM ---------------------------------------------------------------------
    def state_note(self) -> tuple[dict[str, Any], bool]:
        """The note for this LLM call, and whether its event still needs its instructions spelled out."""
        note = self.progress.snapshot()
        event, self._pending_event = self._pending_event, None
        needs_instructions = False
        if event is None and self.progress.time_is_up() and not self._closing:
            # noticed on a candidate turn: no generate_reply carried the instructions
            self._closing = True
            event, needs_instructions = "time_up", True
        note["event"] = event
        return note, needs_instructions

    async def llm_node(
        self, chat_ctx: llm.ChatContext, tools: list[llm.Tool], model_settings: ModelSettings
    ) -> AsyncIterable[llm.ChatChunk | str | FlushSentinel]:
        ctx = chat_ctx.copy()
        note, needs_instructions = self.state_note()
        if needs_instructions:
            ctx.add_message(role="system", content=EVENT_INSTRUCTIONS[note["event"]])
        ctx.add_message(role="system", content=STATE_NOTE_PREFIX + json.dumps(note, ensure_ascii=False))
        async for chunk in Agent.default.llm_node(self, ctx, tools, model_settings):
            yield chunk

    # --- tools (the only way the plan state changes) ------------------------------------
    @function_tool
    async def ask_follow_up(self, follow_up_question: str) -> str:
        """Ask before every follow-up question; ask it only if this approves.

        Args:
            follow_up_question: the follow-up you intend to ask, based on the question's guidance.
        """
        allowed, why = self.progress.follow_up_allowed()
        if not allowed:
            return json.dumps({"approved": False, "reason": why, "instruction": "Do not ask it; call mark_question_covered now."})
        self.progress.use_follow_up()
        current = self.progress.current
        assert current is not None
        left = current.question.max_follow_ups - current.follow_ups_used
        return json.dumps({"approved": True, "follow_up_question": follow_up_question, "follow_ups_left": left})

    @function_tool
    async def mark_question_covered(self, question_id: str, notes: str = "") -> str:
        """Record that a planned question is answered (with short notes) and get the next one.

        Args:
            question_id: id of the planned question, e.g. "q1".
            notes: one or two sentences on what the candidate said.
        """
        nxt = self.progress.cover(question_id, notes)
        if nxt is None:
            return json.dumps(
                {"covered": question_id, "all_questions_covered": True, "instruction": "Close the interview and call end_interview."}
            )
        return json.dumps(
            {
                "covered": question_id,
                "next_question": {"id": nxt.question.id, "number": self.progress.index + 1, "text": nxt.question.text},
                "questions_left": self.progress.questions_left,
                "instruction": "Ask the next question now.",
            }
        )

    @function_tool
    async def take_note(self, notes: str) -> str:
        """Keep a short note about the candidate's answer to the current question.

        Args:
            notes: what is worth remembering for the evaluation.
        """
        self.progress.add_note(notes)
        return "noted"

    @function_tool
    async def time_remaining(self) -> str:
        """How much interview time is left, for when the candidate asks."""
        left = int(self.progress.total_time_left())
        return json.dumps({"minutes_left": left // 60, "seconds_left": left, "questions_left": self.progress.questions_left})

    @function_tool
    async def give_candidate_a_moment(self, seconds: int = 60) -> str:
        """The candidate asked for a moment to think: stop the question clock and hold reminders.

        Args:
            seconds: how long they may need (at most 120).
        """
        granted = self.pause_for_candidate(seconds, say=False)
        return json.dumps({"paused_seconds": round(granted), "instruction": "Say briefly that you will wait, then stay silent."})

    @function_tool
    async def end_interview(self, context: RunContext, reason: str) -> None:
        """End the interview after your closing words (all questions covered, candidate asked, time up).

        Args:
            reason: why the interview ends, e.g. "all questions covered".
        """
        self._closing = True
        self.progress.finish(reason)
        try:
            await context.wait_for_playout()
        finally:
            self._finished.set()
