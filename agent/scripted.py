"""A deterministic LLM that walks the interview plan: no keys, no network.

It is the embedded default interviewer and the test double. It reads what a
real model would read — the chat context, including the Interviewer's state note
(:data:`agent.interviewer.STATE_NOTE_PREFIX`) — and answers with text and tool
calls, so the Interviewer's function tools run for real.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from livekit.agents import llm
from livekit.agents.llm import ChatChunk, ChoiceDelta, FunctionToolCall
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr
from livekit.agents.utils import shortuuid

from agent.interviewer import STATE_NOTE_PREFIX

# Candidate requests the scripted interviewer understands (English; a real LLM handles the rest).
_REPEAT = (
    "repeat the question",
    "repeat that",
    "repeat it",
    "can you repeat",
    "could you repeat",
    "please repeat",
    "say that again",
    "say it again",
    "didn't catch",
    "did not catch",
    "come again",
)
_REPHRASE = (
    "rephrase",
    "don't understand",
    "do not understand",
    "didn't understand",
    "what do you mean",
    "another way",
    "clarify the question",
)
_TIME = ("how much time", "much time left", "time is left", "time do we have", "time remaining", "how long do we have", "how many minutes")
_STOP = ("end the interview", "stop the interview", "i want to stop", "i'd like to stop", "let's stop", "i have to go", "i need to leave")
_MOMENT = (
    "give me a moment",
    "give me a minute",
    "give me a second",
    "one moment",
    "just a moment",
    "let me think",
    "need a moment",
    "need a minute",
    "hold on",
)
_SKIP = ("skip this", "skip the question", "skip it", "next question", "i don't know", "i do not know", "no idea", "pass on this")


def _has(text: str, phrases: tuple[str, ...]) -> bool:
    return any(re.search(rf"(?<![\w']){re.escape(p)}(?![\w'])", text) for p in phrases)


@dataclass
class ScriptedTurn:
    """What the scripted interviewer says and which tools it calls in one LLM step."""

    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def _state(chat_ctx: llm.ChatContext) -> dict[str, Any] | None:
    for item in reversed(chat_ctx.items):
        if item.type == "message" and item.role in ("system", "developer"):
            text = item.text_content or ""
            if text.startswith(STATE_NOTE_PREFIX):
                return json.loads(text[len(STATE_NOTE_PREFIX) :])
    return None


def _last_turn(chat_ctx: llm.ChatContext) -> Any:
    for item in reversed(chat_ctx.items):
        if item.type == "message" and item.role in ("system", "developer"):
            continue
        if item.type in ("message", "function_call_output"):
            return item
    return None


def _last_candidate_text(chat_ctx: llm.ChatContext) -> str:
    for item in reversed(chat_ctx.items):
        if item.type == "message" and item.role == "user":
            return item.text_content or ""
    return ""


def _minutes(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return "one minute" if minutes == 1 else f"{minutes} minutes"


def greeting_text(state: dict[str, Any]) -> str:
    """The scripted greeting for an interview state note (also used by tests to time the spoken greeting)."""
    name, role, org = state["candidate_name"], state["role_title"], state.get("org_name") or ""
    template = (state.get("greeting") or "").strip()
    if template:
        values = defaultdict(str, candidate_name=name, name=name, role_title=role, role=role, org_name=org)
        hello = template.format_map(values) if "{" in template else template
        if name.split()[0].lower() not in hello.lower():
            hello = f"Hello {name}. {hello}"
    else:
        hello = f"Hello {name}, thank you for joining. I'm your interviewer for the {role} role{f' at {org}' if org else ''}."
    count = state["question_count"]
    question = state["current_question"]
    return (
        f"{hello} Here is how this works: I will ask you {count} question{'s' if count != 1 else ''}, "
        f"sometimes with a short follow-up, and we have about {_minutes(state['duration_limit_seconds'])}. "
        "Take your time to think before you answer. You can ask me to repeat a question, or how much time is left, at any point. "
        f"Let's begin. Question 1: {question['text']}"
    )


def _follow_up(question: dict[str, Any], answer: str) -> str:
    guidance = (question.get("follow_up_guidance") or "").strip().rstrip(".")
    if guidance:
        guidance = re.sub(r"^(ask|find out|probe)\s+(them\s+|the candidate\s+)?", "", guidance, flags=re.I)
        for third, second in ((r"\btheir\b", "your"), (r"\bthey\b", "you"), (r"\bthem\b", "you")):
            guidance = re.sub(third, second, guidance)
        return f"Thank you. A follow-up on that: could you tell me {guidance}?"
    return "Thank you. Could you give me a concrete example of that?"


def next_turn(chat_ctx: llm.ChatContext) -> ScriptedTurn:
    """Decide the next step of the interview from the chat context alone."""
    state = _state(chat_ctx)
    if state is None:
        return ScriptedTurn(text="Thank you.")
    question = state.get("current_question")
    event = state.get("event")
    name = state["candidate_name"].split()[0]

    if event == "greeting":
        return ScriptedTurn(text=greeting_text(state))
    if event == "idle_reminder":
        repeat = f" The question was: {question['text']}" if question else ""
        return ScriptedTurn(text=f"{name}, are you still there? There is no rush, take your time.{repeat}")
    if event == "idle_end":
        return ScriptedTurn(
            text="It seems you have stepped away, so I will end the interview here. Thank you for your time; the hiring team will be in touch.",
            tool_calls=[("end_interview", {"reason": "candidate idle"})],
        )
    if event == "pause":
        return ScriptedTurn(text="Of course, take your time. I will wait until you are ready.")
    if event == "time_up":
        return ScriptedTurn(
            text=f"We have reached the end of our time, {name}. Thank you very much for your answers; the hiring team will be in touch with next steps.",
            tool_calls=[("end_interview", {"reason": "time limit reached"})],
        )

    last = _last_turn(chat_ctx)
    if last is None:
        return ScriptedTurn(text=greeting_text(state))

    if last.type == "function_call_output":
        output = json.loads(last.output) if last.output.startswith("{") else {}
        if last.name == "ask_follow_up":
            if output.get("approved"):
                return ScriptedTurn(text=output["follow_up_question"])
            answer = _last_candidate_text(chat_ctx)
            return ScriptedTurn(tool_calls=[("mark_question_covered", {"question_id": question["id"], "notes": answer[:300]})])
        if last.name == "mark_question_covered":
            if output.get("all_questions_covered"):
                return ScriptedTurn(
                    text=f"Thank you, {name}, that was the last question. The hiring team will review the interview and get back to you. Goodbye!",
                    tool_calls=[("end_interview", {"reason": "all questions covered"})],
                )
            nxt = output["next_question"]
            return ScriptedTurn(text=f"Thank you. Question {nxt['number']}: {nxt['text']}")
        if last.name == "give_candidate_a_moment":
            return ScriptedTurn(text="Of course, take your time. I will wait until you are ready.")
        if last.name == "time_remaining":
            left = _minutes(output.get("seconds_left", 0))
            qs = output.get("questions_left", 0)
            return ScriptedTurn(text=f"We have about {left} left, with {qs} question{'s' if qs != 1 else ''} to go. Take your time.")
        return ScriptedTurn(text="Thank you.")

    if last.type == "message" and last.role == "user":
        said = (last.text_content or "").strip().lower()
        if question is None:
            return ScriptedTurn(
                text=f"Thank you, {name}. We are done; the hiring team will be in touch.",
                tool_calls=[("end_interview", {"reason": "all questions covered"})],
            )
        if _has(said, _STOP):
            return ScriptedTurn(
                text=f"Of course, {name}. Thank you for your time; we will end the interview here and the hiring team will be in touch.",
                tool_calls=[("end_interview", {"reason": "candidate ended the interview"})],
            )
        if _has(said, _MOMENT):
            return ScriptedTurn(tool_calls=[("give_candidate_a_moment", {"seconds": 60})])
        if _has(said, _TIME):
            return ScriptedTurn(tool_calls=[("time_remaining", {})])
        if _has(said, _REPHRASE):
            return ScriptedTurn(text=f"Let me put it another way. {question['text']} There is no single right answer.")
        if _has(said, _REPEAT):
            return ScriptedTurn(text=f"Of course. The question is: {question['text']}")
        if _has(said, _SKIP):
            return ScriptedTurn(
                tool_calls=[("mark_question_covered", {"question_id": question["id"], "notes": "candidate skipped the question"})]
            )
        if state.get("follow_up_allowed"):
            return ScriptedTurn(tool_calls=[("ask_follow_up", {"follow_up_question": _follow_up(question, said)})])
        return ScriptedTurn(tool_calls=[("mark_question_covered", {"question_id": question["id"], "notes": said[:300]})])

    return ScriptedTurn(text="Please take your time.")


class ScriptedLLM(llm.LLM):
    """Deterministic interviewer LLM (``LLM_PROVIDER=scripted``)."""

    @property
    def model(self) -> str:
        return "scripted"

    @property
    def provider(self) -> str:
        return "scripted"

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> ScriptedStream:
        return ScriptedStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)


class ScriptedStream(llm.LLMStream):
    async def _run(self) -> None:
        turn = next_turn(self._chat_ctx)
        request_id = shortuuid("scripted_")
        # Words in small pieces, like a streaming model (the TTS starts on the first sentence).
        for piece in re.findall(r"\S+\s*", turn.text):
            self._event_ch.send_nowait(ChatChunk(id=request_id, delta=ChoiceDelta(role="assistant", content=piece)))
        if turn.tool_calls:
            calls = [FunctionToolCall(name=name, arguments=json.dumps(args), call_id=shortuuid("call_")) for name, args in turn.tool_calls]
            self._event_ch.send_nowait(ChatChunk(id=request_id, delta=ChoiceDelta(role="assistant", tool_calls=calls)))
