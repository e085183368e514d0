"""The evaluation job: claims, the OpenAI-compatible provider, quote checks, crash resume, needs_llm."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from interview_app.models import Evaluation, Interview, InterviewEvent, utcnow
from interview_app.services import evaluation as ev_service
from interview_app.services.evaluation import claim_next, process, request_rerun, run_pending
from interview_app.services.scoring import read_scores, weighted_score
from tests.review.conftest import ChatCompletionsServer
from tests.review.helpers import finished_interview

REAL_QUOTE = "It processed two million invoices a month on PostgreSQL and a queue."
INVENTED_QUOTE = "I single-handedly migrated Acme to Kubernetes in a weekend."


def good_answer() -> dict:
    return {
        "criteria": [
            {
                "name": "Technical depth",
                "score": 4,
                "rationale": "Concrete system with numbers.",
                "evidence": [REAL_QUOTE, INVENTED_QUOTE],
            },
            {
                "name": "problem solving",  # names match case-insensitively
                "score": 5,
                "rationale": "Measures before acting.",
                "evidence": ["first I look at the latency percentiles"],
            },
            {"name": "Communication", "score": 9, "rationale": "Out of range.", "evidence": []},
        ],
        "summary": "A solid backend candidate.",
        "recommendation": "yes",
    }


@pytest.fixture(autouse=True)
def no_foreign_jobs(app_db: sa.Engine) -> None:
    """The PostgreSQL database is shared by the run: park jobs other tests left behind."""
    with app_db.begin() as conn:
        conn.execute(sa.update(Evaluation).where(Evaluation.status.in_(["pending", "running"])).values(status="failed"))


@pytest.fixture
def openai_settings(settings_env, llm_server: ChatCompletionsServer):
    return settings_env(LLM_PROVIDER="openai", OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=llm_server.base_url, LLM_MODEL="judge-1")


def _reload(session: Session, ev: Evaluation) -> Evaluation:
    session.expire_all()
    return session.get(Evaluation, ev.id)


def test_scores_with_verified_quotes_and_completes_the_interview(
    session: Session, app_db: sa.Engine, llm_server: ChatCompletionsServer, openai_settings
) -> None:
    interview, ev = finished_interview(session)
    llm_server.answer(good_answer())

    assert run_pending(app_db) == [(ev.id, "done")]

    ev = _reload(session, ev)
    assert ev.status == "done" and ev.attempts == 1 and ev.error is None and ev.model == "judge-1"
    depth, solving, communication = ev.scores
    assert [q["quote"] for q in depth["evidence"]] == [REAL_QUOTE]  # the invented quote is gone
    assert depth["dropped_evidence"] == 1
    assert depth["evidence"][0]["seq"] == 1 and depth["evidence"][0]["start_ms"] == 4000
    assert solving["score"] == 5 and solving["evidence"][0]["seq"] == 5
    assert communication["score"] is None  # 9 is outside 1..5: no score rather than a made-up one
    assert ev.summary == "A solid backend candidate." and ev.recommendation == "yes"
    assert weighted_score(read_scores(ev.scores)) == pytest.approx((2 * 0.75 + 2 * 1.0) / 4)
    assert session.get(Interview, interview.id).status == "completed"
    # The column holds exactly the JSON the evaluator wrote before scores were typed (webhook and Greenhouse payloads read it).
    with app_db.connect() as conn:
        stored = conn.execute(sa.text("SELECT CAST(scores AS TEXT) FROM evaluation WHERE id = :id"), {"id": ev.id}).scalar_one()
    assert stored == json.dumps(
        [
            {"criterion": "Technical depth", "weight": 2.0, "scale_min": 1, "scale_max": 5, "score": 4,
             "rationale": "Concrete system with numbers.",
             "evidence": [{"quote": REAL_QUOTE, "seq": 1, "start_ms": 4000, "speaker": "candidate"}], "dropped_evidence": 1},
            {"criterion": "Problem solving", "weight": 2.0, "scale_min": 1, "scale_max": 5, "score": 5, "rationale": "Measures before acting.",
             "evidence": [{"quote": "first I look at the latency percentiles", "seq": 5, "start_ms": 20000, "speaker": "candidate"}],
             "dropped_evidence": 0},
            {"criterion": "Communication", "weight": 1.0, "scale_min": 1, "scale_max": 5, "score": None, "rationale": "Out of range.",
             "evidence": [], "dropped_evidence": 0},
        ]
    )  # fmt: skip

    request = llm_server.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test"
    assert request["body"]["model"] == "judge-1"
    assert request["body"]["response_format"] == {"type": "json_object"}
    assert REAL_QUOTE in request["body"]["messages"][1]["content"]  # the transcript went to the model


def test_scripted_provider_needs_an_llm_and_invents_nothing(session: Session, app_db: sa.Engine, settings_env) -> None:
    settings_env(LLM_PROVIDER="scripted")
    interview, ev = finished_interview(session)
    assert run_pending(app_db) == [(ev.id, "needs_llm")]
    ev = _reload(session, ev)
    assert ev.scores == [] and ev.summary == "" and ev.recommendation == ""
    assert "LLM_PROVIDER=openai" in ev.error
    assert session.get(Interview, interview.id).status == "completed"


def test_a_job_left_running_by_a_crash_is_resumed_after_the_lease(
    session: Session, app_db: sa.Engine, llm_server: ChatCompletionsServer, openai_settings
) -> None:
    interview, ev = finished_interview(session)
    assert claim_next(app_db) == ev.id  # ... and the process dies here
    assert claim_next(app_db) is None  # another process leaves it alone while the lease runs
    with app_db.begin() as conn:  # the lease runs out
        conn.execute(sa.update(Evaluation).where(Evaluation.id == ev.id).values(updated_at=utcnow() - timedelta(minutes=11)))
    llm_server.answer(good_answer())
    assert run_pending(app_db) == [(ev.id, "done")]
    assert _reload(session, ev).attempts == 2
    assert session.get(Interview, interview.id).status == "completed"


def test_server_errors_are_retried_then_reported(
    session: Session, app_db: sa.Engine, llm_server: ChatCompletionsServer, openai_settings, monkeypatch
) -> None:
    monkeypatch.setattr(ev_service, "RETRY_DELAY_SECONDS", 0)
    interview, ev = finished_interview(session)
    llm_server.answer("upstream overloaded", status=503)
    llm_server.answer("this is not json")
    llm_server.answer("upstream overloaded", status=503)
    assert [status for _, status in run_pending(app_db, limit=1)] == ["pending"]
    assert "HTTP 503" in _reload(session, ev).error
    assert session.get(Interview, interview.id).status == "processing"
    assert [status for _, status in run_pending(app_db)] == ["pending", "failed"]
    ev = _reload(session, ev)
    assert ev.attempts == 3 and "Re-run" in ev.error and ev.scores == []
    assert session.get(Interview, interview.id).status == "completed"


def test_concurrent_workers_claim_each_job_once(session: Session, app_db: sa.Engine) -> None:
    jobs = {finished_interview(session)[1].id for _ in range(6)}
    claimed: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(20):
            job = claim_next(app_db)
            if job is None:
                return
            with lock:
                claimed.append(job)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(claimed) == sorted(jobs)


def test_rerun_queues_a_fresh_evaluation(session: Session, app_db: sa.Engine, settings_env) -> None:
    settings_env(LLM_PROVIDER="scripted")
    interview, ev = finished_interview(session)
    run_pending(app_db)
    rerun = request_rerun(session, interview.id, actor="lead@example.com")
    session.commit()
    assert rerun.id == ev.id and rerun.status == "pending" and rerun.attempts == 0 and rerun.error is None
    assert claim_next(app_db) == ev.id
    with pytest.raises(ValueError, match="running right now"):
        request_rerun(session, interview.id, actor="lead@example.com")
    events = session.exec(select(InterviewEvent).where(InterviewEvent.interview_id == interview.id)).all()
    assert any(e.kind == "evaluation_requested" and e.actor == "lead@example.com" for e in events)


def test_missing_candidate_answers_are_not_evaluated_without_calling_the_model(
    session: Session, app_db: sa.Engine, llm_server: ChatCompletionsServer, openai_settings
) -> None:
    _, ev = finished_interview(session, segments=[("agent", "Hello, are you there?")])
    assert run_pending(app_db) == [(ev.id, "insufficient")]  # the insufficient-evidence gate (test_evidence_gate.py)
    assert "no answers from the candidate" in _reload(session, ev).summary
    assert llm_server.requests == []


def test_process_ignores_a_job_it_did_not_claim(session: Session, app_db: sa.Engine, settings_env) -> None:
    settings_env(LLM_PROVIDER="scripted")
    _, ev = finished_interview(session)
    assert process(app_db, ev.id) == "pending"


def test_cli_evaluate_pending(session: Session, app_db: sa.Engine, settings_env, capsys) -> None:
    from interview_app.cli import main

    settings_env(LLM_PROVIDER="scripted")
    _, ev = finished_interview(session)
    assert main(["evaluate-pending"]) == 0
    assert f"evaluation {ev.id}: needs_llm" in capsys.readouterr().out
    assert _reload(session, ev).status == "needs_llm"


def test_the_in_app_worker_works_off_jobs_until_cancelled(session: Session, app_db: sa.Engine, settings_env) -> None:
    import asyncio

    settings_env(LLM_PROVIDER="scripted")
    interview, ev = finished_interview(session)
    outcome: dict[str, object] = {}

    async def app_lifetime() -> None:  # what Reflex does with a lifespan task
        task = asyncio.create_task(ev_service.evaluation_worker(poll_seconds=0.05))
        with Session(app_db) as watcher:
            for _ in range(200):
                await asyncio.sleep(0.05)
                if watcher.get(Evaluation, ev.id, populate_existing=True).status != "pending":
                    break
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            outcome["cancelled"] = True

    # A thread of its own: the browser tests' Playwright loop may be running in this one.
    thread = threading.Thread(target=lambda: asyncio.run(app_lifetime()))
    thread.start()
    thread.join(timeout=60)
    assert outcome == {"cancelled": True}
    assert _reload(session, ev).status == "needs_llm"
    assert session.get(Interview, interview.id).status == "completed"
