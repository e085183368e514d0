"""P7 — PostgreSQL load per interview: statements, their time and commits, invitation → evaluated result.

Counted on the client side with SQLAlchemy's cursor events on the app's engine (bench/statements.py;
pg_stat_statements is not preloaded on this machine's PostgreSQL), on a throwaway database with the
production schema (Alembic).

- **Text interview** (a child process with the app's settings, ``python -m bench.p7_db_load --text``):
  the admin's two actions (create the candidate, invite), the candidate page's link lookup
  (``candidate_link.describe_link``, what ``CandidateState.load_link`` runs), the interview in
  the app's ``TextInterviewHost`` with the scripted interviewer — open, one message per answer
  until every question is covered, the result stored through the result service — and the
  evaluation job (``evaluation.run_pending`` with bench/api_server.py's fixed-answer evaluator, so
  the model path runs). Separately: one sweeper pass with the interview live (the host's periodic
  ``touch`` of its interviews and the orphan check), the statements a running text interview adds
  per ``PROCESS_LEASE_SECONDS / 3`` of its length.
- **Voice interview**: one interview through the production layout of bench/p4_pool.py (start API,
  LiveKit's webhooks, the interviewer's result webhook, the evaluation job, all in the app's
  server process), the background pollers' own rate subtracted.

Targets: none — these are the inputs of docs/SCALING.md's capacity model.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, BenchResult, migrate, throwaway_pg_database

#: Long enough together (≥ 60 words) for the evaluation's evidence gate: the model path runs.
TEXT_ANSWERS = [
    "I built the billing service of a small company in Python with PostgreSQL, and I designed its retry logic so that a charge "
    "never ran twice when the payment provider timed out.",
    "When a service gets slow I look at the latency percentiles and the slow query log first, and I change nothing before I know "
    "which request and which query take the time.",
    "I led a team of four engineers for two years; we planned together every Monday and I reviewed every design before we built it.",
]
QUESTIONS = ["Tell me about a system you built.", "How do you debug a slow service?", "Tell me about a team you led."]


def _tally(counter: Any, since: Any) -> dict[str, Any]:
    return counter.snapshot().minus(since).as_dict()


async def _text_child() -> dict[str, Any]:
    from agent.scripted import ScriptedLLM
    from bench.api_server import BenchEvaluator
    from bench.p4_pool import RUBRIC
    from bench.statements import StatementCounter, StatementTally
    from interview_app.db import get_engine, session_scope
    from interview_app.models import Evaluation, InterviewTemplate
    from interview_app.services.candidate_link import describe_link
    from interview_app.services.candidates import create_candidate
    from interview_app.services.evaluation import run_pending
    from interview_app.services.invitations import invite
    from interview_app.settings import get_settings
    from interview_app.text_host import TextInterviewHost

    settings = get_settings()
    with session_scope() as session:
        template = InterviewTemplate(
            title="Backend Engineer (bench)",
            job_description="Benchmark.",
            duration_limit_minutes=20,
            rubric=RUBRIC,
            questions=[{"id": f"q{i + 1}", "text": q, "max_follow_ups": 0} for i, q in enumerate(QUESTIONS)],
        )
        session.add(template)
        session.flush()
        template_id = int(template.id or 0)
    counter = StatementCounter().attach(get_engine())
    phases: dict[str, dict[str, Any]] = {}
    mark = counter.snapshot()
    with session_scope() as session:
        candidate = create_candidate(session, "Casey Text", "casey.text@example.com")
    with session_scope() as session:
        issued = invite(session, settings, int(candidate.id or 0), template_id, actor="bench")
    raw = issued.link.rsplit("/", 1)[-1]
    phases["invitation"], mark = _tally(counter, mark), counter.snapshot()
    with session_scope() as session:
        describe_link(session, raw)
    phases["candidate page load"], mark = _tally(counter, mark), counter.snapshot()
    host = TextInterviewHost(llm_factory=ScriptedLLM)
    cpu_before = time.process_time()  # the app process's CPU for the interview itself (scripted replies)
    messages = 0
    sweep = StatementTally()
    try:
        snap = await host.open(raw, "tab-p7")
        for answer in TEXT_ANSWERS * 2:  # bounded: the scripted interviewer may ask for more than one answer
            if snap.finished:
                break
            if messages == 1:  # one sweeper pass with the interview live, counted apart
                hosted = host.sessions[snap.interview_id]
                hosted.last_touch = None  # due for its periodic touch
                before_sweep = counter.snapshot()
                await host.sweep()
                sweep = counter.snapshot().minus(before_sweep)
            snap = await host.send(snap.interview_id, "tab-p7", answer)
            messages += 1
        finished = snap.finished
    finally:
        await host.aclose()
    interview_cpu_s = time.process_time() - cpu_before
    phases["interview (open, messages, result)"] = counter.snapshot().minus(mark).minus(sweep).as_dict()  # the sweep apart
    mark = counter.snapshot()
    done = run_pending(llm=BenchEvaluator())
    phases["evaluation"] = _tally(counter, mark)
    with session_scope() as session:
        evaluation = session.get(Evaluation, done[0][0]) if done else None
        outcome = evaluation.status if evaluation else "none"
    return {
        "phases": phases,
        "sweep_pass_live": sweep.as_dict(),
        "messages": messages,
        "interview_cpu_s": interview_cpu_s,
        "finished": finished,
        "evaluation": outcome,
        "process_lease_seconds": host.process_lease.total_seconds(),
    }


def _text_interview(url: str, tmp: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "PYTEST_"))}
    env.update(
        {
            "ENV_FILE": str(tmp / "none.env"),
            "DATABASE_URL": url,
            "STORAGE_LOCAL_DIR": str(tmp / "storage"),
            "SECRET_KEY": "bench-p7-secret-key-" + "t" * 40,
            "APP_URL": "http://127.0.0.1:9",
            "LLM_PROVIDER": "scripted",
        }
    )
    out = subprocess.run(
        [sys.executable, "-m", "bench.p7_db_load", "--text"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"the text interview child failed ({out.returncode}): {out.stderr[-1500:]}")
    return json.loads(lines[-1])


def _sum(phases: dict[str, dict[str, Any]], key: str) -> float:
    return float(sum(p[key] for p in phases.values()))


def run(voice: bool = True, turns: int = 3) -> BenchResult:
    result = BenchResult("p7")
    with tempfile.TemporaryDirectory(prefix="bench_p7_") as tmpdir, throwaway_pg_database("bench_p7") as url:
        migrate(url)
        text = _text_interview(url, Path(tmpdir))
    result.raw["text"] = text
    phases = text["phases"]
    note = ", ".join(f"{name} {p['statements']}" for name, p in phases.items())
    result.add("SQL statements per text interview", _sum(phases, "statements"), None, "statements", note=note)
    result.add(
        "SQL time per text interview (client side)",
        _sum(phases, "ms"),
        None,
        "ms",
        note=f"{_sum(phases, 'commits'):.0f} commits; {text['messages']} messages; evaluation {text['evaluation']}",
    )
    result.add(
        "app CPU per text interview (scripted replies)",
        text["interview_cpu_s"] * 1000,
        None,
        "ms",
        note="open, messages, result in TextInterviewHost; a real LLM adds its HTTP client's work",
    )
    sweep = text["sweep_pass_live"]
    result.add(
        "SQL statements per sweeper pass, 1 live text interview",
        float(sweep.get("statements", 0)),
        None,
        "statements",
        note=f"the touch comes every {text['process_lease_seconds'] / 3:.0f} s per live interview",
    )
    if voice:
        from bench import p4_pool

        p4 = p4_pool.run(sizes=(1,), turns=turns, background_seconds=15.0, warm_up=False)
        if p4.error:
            raise RuntimeError(p4.error)
        step = p4.raw["steps"][0]
        sql = step["sql_per_interview"]
        result.raw["voice"] = {"step": step, "background_sql_per_s": p4.raw["background_sql_per_s"]}
        status: dict[str, Any] = next(iter(step["statuses"].values()), {})
        result.add(
            "SQL statements per voice interview",
            sql["statements"],
            None,
            "statements",
            note=f"{sql['commits']:.0f} commits, {sql['ms']:.0f} ms client-side; {status.get('status')}, evaluation {status.get('evaluation')}",
        )
        bg = p4.raw["background_sql_per_s"]
        result.add(
            "SQL statements of one app process's pollers",
            bg["statements"] * 60,
            None,
            "per minute",
            note="evaluation, webhooks, Greenhouse, invitation expiry: whatever the traffic",
        )
    return result


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--text", action="store_true")
    args = parser.parse_args()
    if args.text:
        print(json.dumps(asyncio.run(_text_child()), default=str), flush=True)
