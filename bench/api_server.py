"""The app's server side as the voice benchmarks run it: the HTTP API and the app's background workers.

``interview_app.api:create_api`` (start, LiveKit webhooks, the interviewer's result webhook, health)
plus the lifespan workers every app process runs in production (interview_app/interview_app.py):
evaluation jobs, webhook deliveries, Greenhouse notices, invitation expiry. Served by Granian like
P2. What is left out is Reflex itself (pages and the ``/_event`` websocket) and the text-interview
sweeper: a voice interview's server-side work is HTTP and database work (docs/SCALING.md), and a
Reflex build would add a minute per run.

Two bench-only additions: a statement counter on the app's engine (bench/statements.py), read at
``GET /bench/sql``, and the evaluator model — a fixed JSON answer for the rubric's criteria
(``BenchEvaluator``), so evaluation jobs run the model path without a model server.

Run: ``python -m granian --interface asgi --factory bench.api_server:create_bench_api``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bench.statements import StatementCounter

log = logging.getLogger("bench.api_server")


class BenchEvaluator:
    """An evaluator model that gives every rubric criterion in the prompt a 3 and quotes nothing."""

    model = "bench-evaluator"

    def complete_json(self, messages: list[dict[str, str]]) -> str:
        text = "\n".join(m["content"] for m in messages)
        names = re.findall(r"^- (.+?) \(weight ", text, flags=re.MULTILINE)  # the prompt's rubric lines
        criteria = [{"name": name, "score": 3, "rationale": "Benchmark score.", "evidence": []} for name in dict.fromkeys(names)]
        return json.dumps({"criteria": criteria, "summary": "Benchmark evaluation.", "recommendation": "yes"})


def create_bench_api() -> FastAPI:
    from interview_app.api import create_api
    from interview_app.db import get_engine
    from interview_app.services.evaluation import POLL_SECONDS, run_pending
    from interview_app.services.greenhouse import greenhouse_worker
    from interview_app.services.interviews import invitation_expiry_worker
    from interview_app.services.polling import poll_forever
    from interview_app.services.webhooks import webhook_worker

    counter = StatementCounter().attach(get_engine())
    api = create_api()
    app_lifespan = api.router.lifespan_context
    evaluator = BenchEvaluator()

    async def evaluation_worker() -> None:
        await poll_forever(lambda: run_pending(llm=evaluator), POLL_SECONDS, log, "evaluation worker")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with app_lifespan(app):
            tasks = [asyncio.create_task(w()) for w in (evaluation_worker, webhook_worker, greenhouse_worker, invitation_expiry_worker)]
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    api.router.lifespan_context = lifespan

    @api.get("/bench/sql", include_in_schema=False)
    def statements() -> dict[str, object]:
        return counter.snapshot().as_dict()

    return api
