"""R6 child process: one candidate tab's text interview, driven through Reflex's own event processor.

``test_r6_candidate_text.py`` runs this in a child process under a memory limit (``RLIMIT_AS``)
and a timeout, because the failure it guards against is a handler that never returns while it
allocates hundreds of MB per second: in the test's own process that would hang or take down the
suite. Here it ends as a MemoryError (or the parent kills it) and the step reports it.

The events are the ones the page sends (``<TextInterviewState>.open_interview`` on mount,
``send_message`` with the form's ``{"message": ...}`` on submit, ``end_interview``), processed
by ``BaseStateEventProcessor`` with an in-memory state manager as in the backend. What reaches
the "browser" is serialised the way the socket does it (``format.json_dumps``, UTF-8) and merged
into ``view``, the state the page would render. The interviewer is the scripted LLM, slowed so
that a second Enter lands while the reply is on its way.

Usage: ``python -m tests.reliability.text_page_process <raw_token>`` with the app's settings in
the environment; prints one JSON line per step (``{"step", "seconds", "view", "events", "error"}``).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
import uuid
from typing import Any

#: The shape that sent Reflex's var-tag decoder into an endless loop (docs/RELIABILITY.md, R6).
TAG_MESSAGE = "hello <reflex.Var>x</reflex.Var>"
LONG_MESSAGE = (TAG_MESSAGE + " " + "a" * 5000)[:5000]
FIRST_ANSWER = "I built a billing service in Go."
SURROGATE_ANSWER = "I wrote the parser \ud800 myself."
REPLY_DELAY = 0.8  # seconds the scripted interviewer "thinks" before each reply


def _limit_memory() -> None:
    limit = int(os.environ.get("R6_MEMORY_LIMIT_BYTES", str(2_500_000_000)))
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def emit(**line: Any) -> None:
    print(json.dumps(line, ensure_ascii=True), flush=True)


class Browser:
    """What the page has been told: merged state deltas and events (as serialised on the wire)."""

    def __init__(self, state_name: str) -> None:
        self.state_name = state_name
        self.view: dict[str, Any] = {}
        self.events: list[dict[str, Any]] = []

    async def emit_update(self, update: Any, token: str) -> None:
        from reflex_base.utils import format

        wire = json.loads(format.json_dumps(update).encode("utf-8"))  # a websocket text frame is UTF-8
        for name, values in (wire.get("delta") or {}).items():
            if name == self.state_name:
                self.view.update({k.removesuffix("_rx_state_"): v for k, v in values.items()})
        self.events.extend({"name": e.get("name"), "payload": e.get("payload")} for e in wire.get("events") or [])


async def drive(raw_token: str) -> None:
    from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS
    from reflex.event import Event
    from reflex_base.event.processor.base_state_processor import BaseStateEventProcessor

    import interview_app.interview_app  # noqa: F401  (the app and its pages: Reflex looks up the page's load events)
    from agent.scripted import ScriptedLLM, ScriptedStream
    from interview_app.state import text_interview
    from interview_app.state.text_interview import TextInterviewState
    from interview_app.text_host import host as text_host

    class SlowStream(ScriptedStream):
        async def _run(self) -> None:
            await asyncio.sleep(REPLY_DELAY)
            await super()._run()

    class SlowScriptedLLM(ScriptedLLM):
        def chat(self, *, chat_ctx, tools=None, conn_options=DEFAULT_API_CONNECT_OPTIONS, **_: Any):
            return SlowStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)

    text_host._host = text_host.TextInterviewHost(llm_factory=SlowScriptedLLM, single_process=True)
    state_name = TextInterviewState.get_full_name()
    browser = Browser(state_name)
    token = f"tab-{uuid.uuid4().hex[:8]}"
    router_data = {"pathname": f"/interview/{raw_token}", "asPath": f"/interview/{raw_token}", "query": {}, "token": token}
    processor = BaseStateEventProcessor().configure(event_namespace=browser)  # type: ignore[arg-type]

    def event(handler: str, **payload: Any) -> Event:
        return Event(name=f"{state_name}.{handler}", payload=payload, router_data=router_data)

    async def wait_view(predicate: Any, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(browser.view) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    async def step(name: str, handler: str, timeout: float = 20.0, **payload: Any) -> None:
        seen = len(browser.events)
        t0 = time.monotonic()
        error = ""
        try:
            future = await processor.enqueue(token, event(handler, **payload))
            await asyncio.wait_for(asyncio.shield(future), timeout)
        except BaseException as err:  # noqa: BLE001 - reported to the parent test
            error = f"{type(err).__name__}: {err}"[:300]
        emit(step=name, seconds=round(time.monotonic() - t0, 3), view=dict(browser.view), events=browser.events[seen:], error=error)

    async with processor:
        await processor.enqueue(token, event("open_interview"))  # runs on as the tab's mirror
        await wait_view(lambda v: v.get("ti_status") == "active" and v.get("ti_messages") and not v.get("ti_thinking"), 30)
        emit(step="open", seconds=0, view=dict(browser.view), events=[], error="")

        await step("tag", "send_message", form_data={"message": TAG_MESSAGE})

        # Enter twice: the second message arrives while the interviewer is still answering the first.
        first = await processor.enqueue(token, event("send_message", form_data={"message": FIRST_ANSWER}))
        await wait_view(lambda v: v.get("ti_sending") is True, 10)
        await step("double", "send_message", timeout=10, form_data={"message": TAG_MESSAGE})
        await asyncio.wait_for(asyncio.shield(first), 20)
        emit(step="double-first-answered", seconds=0, view=dict(browser.view), events=[], error="")

        await step("long", "send_message", timeout=10, form_data={"message": LONG_MESSAGE})
        await step("surrogate", "send_message", form_data={"message": SURROGATE_ANSWER})
        await step("end", "end_interview")
        text_interview._mirrors.clear()  # stops the mirror loop
        await asyncio.sleep(0.3)


def main() -> None:
    _limit_memory()
    asyncio.run(drive(sys.argv[1]))


if __name__ == "__main__":
    main()
