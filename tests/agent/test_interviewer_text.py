"""The Interviewer in a roomless text AgentSession, driven by the scripted LLM.

The scripted LLM emits real tool calls, so these tests exercise the plan-state tools
(``ask_follow_up``, ``mark_question_covered``, ``time_remaining``, ``end_interview``)
through livekit-agents' own tool execution, and assert them with ``RunResult.expect``.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from livekit.agents.llm import ChatChunk, ChoiceDelta, FunctionToolCall
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS
from livekit.agents.voice.run_result import RunResult

from agent.scripted import ScriptedLLM, ScriptedStream, next_turn
from agent.text_mode import TextInterview
from interview_app.contracts import InterviewPlan

QUESTIONS = [
    {"id": "q1", "text": "Tell me about a system you built.", "follow_up_guidance": "Ask what their own part was.", "max_follow_ups": 1},
    {
        "id": "q2",
        "text": "How do you find the cause of a slow service?",
        "follow_up_guidance": "Ask which measurements they take first.",
        "max_follow_ups": 2,
    },
    {"id": "q3", "text": "How do you change a schema safely?", "max_follow_ups": 0},
]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_plan(**overrides) -> InterviewPlan:
    values = {
        "interview_id": uuid.uuid4(),
        "candidate_name": "Grace Hopper",
        "role_title": "Backend Engineer",
        "org_name": "Acme",
        "duration_limit_seconds": 900,
        "questions": QUESTIONS,
    } | overrides
    return InterviewPlan.model_validate(values)


def message(r: RunResult) -> str:
    texts = [ev.item.text_content for ev in r.events if getattr(ev, "type", "") == "message" and ev.item.role == "assistant"]
    assert texts, f"no agent message in {r.events}"
    return texts[-1] or ""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def interview(clock: FakeClock):
    ti = await TextInterview.start(make_plan(), llm_model=ScriptedLLM(), clock=clock)
    yield ti
    await ti.close()


async def test_whole_plan_with_follow_ups_repeat_and_time_question(interview: TextInterview, clock: FakeClock) -> None:
    greeting = interview.greeting[0]
    assert "Grace Hopper" in greeting and "3 questions" in greeting and "15 minutes" in greeting
    assert "Tell me about a system you built." in greeting

    # q1: an answer → one approved follow-up (guidance turned into a question)
    r = await interview.session.run(user_input="I built a billing service in Go.")
    r.expect.next_event().is_function_call(name="ask_follow_up")
    out = r.expect.next_event().is_function_call_output().event().item
    assert json.loads(out.output)["approved"] is True
    msg = r.expect.next_event().is_message(role="assistant").event().item
    assert msg.text_content == "Thank you. A follow-up on that: could you tell me what your own part was?"
    r.expect.no_more_events()

    # q1 follow-ups used up → question covered with notes, q2 asked
    r = await interview.session.run(user_input="I designed the ledger tables.")
    r.expect.next_event().is_function_call(
        name="mark_question_covered", arguments={"question_id": "q1", "notes": "i designed the ledger tables."}
    )
    r.expect.next_event().is_function_call_output()
    assert message(r) == "Thank you. Question 2: How do you find the cause of a slow service?"
    assert interview.interviewer.progress.covered_ids == ["q1"]
    assert interview.interviewer.progress.questions[0].notes == ["i designed the ledger tables."]

    # repeat and rephrase: the current question again, no tool call, no progress
    r = await interview.session.run(user_input="Sorry, could you repeat the question?")
    r.expect.next_event().is_message(role="assistant")
    r.expect.no_more_events()
    assert "How do you find the cause of a slow service?" in message(r)
    r = await interview.session.run(user_input="I don't understand what you mean.")
    assert message(r).startswith("Let me put it another way.")
    assert "How do you find the cause of a slow service?" in message(r)

    # how much time is left → time_remaining tool, answered from it
    clock.advance(120)
    r = await interview.session.run(user_input="How much time is left?")
    r.expect.next_event().is_function_call(name="time_remaining")
    out = json.loads(r.expect.next_event().is_function_call_output().event().item.output)
    assert out["seconds_left"] == 780 and out["questions_left"] == 2
    assert message(r) == "We have about 13 minutes left, with 2 questions to go. Take your time."

    # q2 allows two follow-ups
    for answer in ("I look at latency percentiles.", "Then the database slow log."):
        r = await interview.session.run(user_input=answer)
        r.expect.next_event().is_function_call(name="ask_follow_up")
    assert interview.interviewer.progress.current.follow_ups_used == 2
    r = await interview.session.run(user_input="CPU and lock waits first.")
    r.expect.contains_function_call(name="mark_question_covered", arguments={"question_id": "q2", "notes": "cpu and lock waits first."})
    assert message(r) == "Thank you. Question 3: How do you change a schema safely?"

    # q3 has no follow-ups: covered at once, then the interview closes itself
    r = await interview.session.run(user_input="Expand, migrate, contract.")
    r.expect.next_event().is_function_call(
        name="mark_question_covered", arguments={"question_id": "q3", "notes": "expand, migrate, contract."}
    )
    r.expect.next_event().is_function_call_output()
    closing = r.expect.next_event().is_message(role="assistant").event().item.text_content
    r.expect.next_event().is_function_call(name="end_interview", arguments={"reason": "all questions covered"})
    assert "last question" in closing and "Goodbye" in closing
    assert interview.finished and interview.end_reason == "all questions covered"
    assert await interview.send("hello?") == []  # nothing after the end

    result = await interview.close()
    assert result.outcome == "completed" and result.mode == "text"
    assert result.questions_covered == ["q1", "q2", "q3"]
    speakers = [s.speaker for s in result.segments]
    assert speakers[0] == "agent" and speakers.count("candidate") == 9
    assert [s.seq for s in result.segments] == list(range(len(result.segments)))
    assert all(s.end_ms >= s.start_ms for s in result.segments)
    assert {s.question_id for s in result.segments[:-1]} == {"q1", "q2", "q3"}
    assert result.segments[-1].question_id is None  # the closing words belong to no question
    assert result.latency == []  # text turns have no speech latency


async def test_idle_candidate_gets_a_reminder_then_a_polite_end(interview: TextInterview) -> None:
    replies = await interview.candidate_idle()
    assert len(replies) == 1 and "are you still there" in replies[0] and "Tell me about a system you built." in replies[0]
    assert not interview.finished

    await interview.send("Yes, sorry. I built a billing service.")  # activity resets the idle count
    replies = await interview.candidate_idle()
    assert "are you still there" in replies[0] and not interview.finished

    replies = await interview.candidate_idle()
    assert "end the interview here" in replies[0]
    assert interview.finished and interview.end_reason == "candidate idle"
    result = await interview.close()
    assert result.end_reason == "candidate idle" and result.outcome == "completed"


async def test_total_time_limit_closes_the_interview(interview: TextInterview, clock: FakeClock) -> None:
    clock.advance(901)
    r = await interview.session.run(user_input="So, about that system...")
    r.expect.next_event().is_message(role="assistant")
    r.expect.next_event().is_function_call(name="end_interview", arguments={"reason": "time limit reached"})
    assert "end of our time" in message(r)
    assert interview.finished and interview.end_reason == "time limit reached"


async def test_question_time_budget_stops_follow_ups(clock: FakeClock) -> None:
    questions = [dict(QUESTIONS[0], max_follow_ups=3, time_budget_seconds=60), QUESTIONS[1]]
    ti = await TextInterview.start(make_plan(questions=questions), llm_model=ScriptedLLM(), clock=clock)
    try:
        r = await ti.session.run(user_input="A billing service.")
        r.expect.next_event().is_function_call(name="ask_follow_up")  # within budget
        clock.advance(61)
        r = await ti.session.run(user_input="The ledger was mine.")
        # budget spent: no follow-up offered, the question is covered and the next asked
        r.expect.next_event().is_function_call(name="mark_question_covered")
        assert ti.interviewer.progress.covered_ids == ["q1"]
        assert "Question 2" in message(r)
    finally:
        await ti.close()


async def test_follow_up_refused_by_the_tool_moves_on(clock: FakeClock) -> None:
    """A model that asks for a follow-up past the bound is refused by the tool, not trusted."""
    ti = await TextInterview.start(make_plan(), llm_model=ScriptedLLM(), clock=clock)
    try:
        progress = ti.interviewer.progress
        progress.use_follow_up()  # bound of q1 (1) already used
        out = json.loads(await ti.interviewer.ask_follow_up("One more?"))
        assert out["approved"] is False and "follow-up" in out["reason"]
        assert progress.current.follow_ups_used == 1
    finally:
        await ti.close()


async def test_candidate_can_end_the_interview(interview: TextInterview) -> None:
    r = await interview.session.run(user_input="I'm sorry, I want to stop the interview.")
    r.expect.next_event().is_message(role="assistant")
    r.expect.next_event().is_function_call(name="end_interview", arguments={"reason": "candidate ended the interview"})
    assert interview.finished
    result = await interview.close()
    assert result.questions_covered == [] and result.end_reason == "candidate ended the interview"


async def test_greeting_template_and_language_reach_the_instructions(clock: FakeClock) -> None:
    plan = make_plan(
        greeting="Welcome {candidate_name}, thanks for your interest in {org_name}.",
        language="de",
        persona="You are Kim, a calm interviewer.",
    )
    ti = await TextInterview.start(plan, llm_model=ScriptedLLM(), clock=clock)
    try:
        assert ti.greeting[0].startswith("Welcome Grace Hopper, thanks for your interest in Acme.")
        instructions = ti.interviewer.instructions
        assert instructions.startswith("You are Kim, a calm interviewer.")
        assert 'language with code "de"' in instructions and "[q2] How do you find the cause of a slow service?" in instructions
    finally:
        await ti.close()


class RecordingLLM(ScriptedLLM):
    """The scripted LLM, keeping every chat context it was given (what a real model would read)."""

    def __init__(self) -> None:
        super().__init__()
        self.contexts: list = []

    def chat(self, *, chat_ctx, **kwargs):
        self.contexts.append(chat_ctx.copy())
        return super().chat(chat_ctx=chat_ctx, **kwargs)


def system_texts(ctx) -> list[str]:
    return [item.text_content or "" for item in ctx.items if item.type == "message" and item.role in ("system", "developer")]


async def test_a_real_model_sees_instructions_state_and_event_guidance(clock: FakeClock) -> None:
    from agent.interviewer import EVENT_INSTRUCTIONS, STATE_NOTE_PREFIX

    model = RecordingLLM()
    ti = await TextInterview.start(make_plan(), llm_model=model, clock=clock)
    try:
        greeting_ctx = system_texts(model.contexts[0])
        assert greeting_ctx[0].startswith("You are a friendly, professional interviewer.")
        assert "You are interviewing Grace Hopper" in greeting_ctx[0]
        assert any(EVENT_INSTRUCTIONS["greeting"] in t for t in greeting_ctx)  # from generate_reply(instructions=...)
        state = json.loads(greeting_ctx[-1].removeprefix(STATE_NOTE_PREFIX))
        assert state["event"] == "greeting" and state["current_question"]["id"] == "q1" and state["total_time_left_seconds"] == 900

        clock.advance(950)  # time ran out while the candidate talked: the guidance must be spelled out
        await ti.send("And then we shipped it.")
        assert len(model.contexts) == 2  # one step: closing words + end_interview
        last = system_texts(model.contexts[-1])
        assert EVENT_INSTRUCTIONS["time_up"] in last
        assert json.loads(last[-1].removeprefix(STATE_NOTE_PREFIX))["event"] == "time_up"
        assert ti.finished and ti.end_reason == "time limit reached"
    finally:
        await ti.close()


class ForgetfulLLM(ScriptedLLM):
    """Says the closing words but never calls end_interview (as a real model sometimes does)."""

    def __init__(self) -> None:
        super().__init__()
        self.dropped: list[str] = []

    def chat(self, *, chat_ctx, tools=None, conn_options=DEFAULT_API_CONNECT_OPTIONS, **kwargs):
        return _ForgetfulStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)


class _ForgetfulStream(ScriptedStream):
    async def _run(self) -> None:
        turn = next_turn(self._chat_ctx)
        self._llm.dropped.extend(name for name, _ in turn.tool_calls if name == "end_interview")  # type: ignore[attr-defined]
        calls = [
            FunctionToolCall(name=n, arguments=json.dumps(a), call_id=f"call_{i}")
            for i, (n, a) in enumerate(turn.tool_calls)
            if n != "end_interview"
        ]
        self._event_ch.send_nowait(ChatChunk(id="forgetful", delta=ChoiceDelta(role="assistant", content=turn.text, tool_calls=calls)))


async def test_closing_without_end_interview_still_ends(clock: FakeClock) -> None:
    from livekit.agents import AgentSession

    from agent.interviewer import Interviewer

    interviewer = Interviewer(make_plan(), clock=clock, close_grace_seconds=0.2, watch_deadline=False)
    async with (
        ForgetfulLLM() as model,
        AgentSession(llm=model, vad=None, turn_handling={"turn_detection": None}, user_away_timeout=None) as session,
    ):
        await session.start(interviewer)
        interviewer.candidate_idle()
        interviewer.candidate_idle()  # second silence: the model says goodbye, the end_interview call is lost
        await asyncio.wait_for(interviewer.wait_finished(), timeout=5)
    assert interviewer.progress.end_reason == "candidate idle"
    assert model.dropped == ["end_interview"]  # the model really did not end it


async def test_give_me_a_moment_stops_the_question_clock_and_holds_reminders(interview: TextInterview, clock: FakeClock) -> None:
    """Saying "give me a moment": the tool pauses (bounded), the reminder waits, the question's clock
    does not count the pause, and the next answer ends it."""
    from agent.progress import PAUSE_MAX_SECONDS

    progress = interview.interviewer.progress
    clock.advance(10)
    before = progress.question_time_left()
    r = await interview.session.run(user_input="Hmm, give me a moment please.")
    r.expect.next_event().is_function_call(name="give_candidate_a_moment")
    out = json.loads(r.expect.next_event().is_function_call_output().event().item.output)
    assert out["paused_seconds"] == 60
    assert message(r) == "Of course, take your time. I will wait until you are ready."
    assert progress.is_paused() and progress.covered_ids == []
    clock.advance(45)
    assert await interview.candidate_idle() == []  # no reminder while paused
    assert progress.question_time_left() == pytest.approx(before)  # the pause does not count
    # asking again extends it, never beyond the bound
    assert interview.interviewer.pause_for_candidate(10_000, say=False) == pytest.approx(PAUSE_MAX_SECONDS)
    r = await interview.session.run(user_input="I built a billing service in Go.")  # back: the pause ends
    assert not progress.is_paused()
    assert progress.question_time_left() == pytest.approx(before)
    clock.advance(200)
    reminder = await interview.candidate_idle()
    assert reminder and "still there" in reminder[0]
