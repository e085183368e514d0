"""A text interview end to end into the result service (the in-app path, no webhook), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlmodel import Session, select

from agent.scripted import ScriptedLLM
from agent.text_mode import TextInterview
from interview_app.models import Candidate, Evaluation, Interview, InterviewTemplate, TranscriptSegment
from interview_app.services.interviews import build_plan, transition
from interview_app.services.results import accept_result
from tests.agent.test_interviewer_text import FakeClock
from tests.factories import make_interview


async def test_text_interview_result_is_accepted_once(session: Session, settings_env, tmp_path) -> None:
    settings_env(STORAGE_LOCAL_DIR=str(tmp_path / "storage"))
    interview, _ = make_interview(session)
    interview.mode = "text"
    transition(session, interview, "in_progress")
    session.commit()
    plan = build_plan(interview, session.get(Candidate, interview.candidate_id), session.get(InterviewTemplate, interview.template_id))

    ti = await TextInterview.start(plan, llm_model=ScriptedLLM())
    answers = iter(
        ["I built a queue.", "My part was the API.", "I measure first.", "p99 latency.", "Expand and contract.", "Restore the backup."]
    )
    for _ in range(10):
        if ti.finished:
            break
        await ti.send(next(answers))
    assert ti.finished and ti.end_reason == "all questions covered"
    result = await ti.close()

    outcome = accept_result(session, result, source="text-interview")
    assert outcome.status == "accepted" and outcome.interview_status == "processing"
    rows = session.exec(
        select(TranscriptSegment).where(TranscriptSegment.interview_id == interview.id).order_by(TranscriptSegment.seq)
    ).all()
    assert [r.text for r in rows] == [s.text for s in result.segments]
    assert rows[0].speaker == "agent" and plan.candidate_name in rows[0].text
    assert session.exec(select(Evaluation).where(Evaluation.interview_id == interview.id)).one().status == "pending"
    stored = session.get(Interview, interview.id)
    assert stored.s3_transcript_url == f"local://interviews/{interview.id}/transcript.json"
    assert accept_result(session, result, source="text-interview").status == "duplicate"


async def test_deadline_watcher_closes_a_silent_interview() -> None:
    """No candidate turn needed: at the limit the interviewer closes by itself."""
    from tests.agent.test_interviewer_text import make_plan

    clock = FakeClock()
    ti = await TextInterview.start(make_plan(), llm_model=ScriptedLLM(), clock=clock, deadline_poll_seconds=0.05)
    try:
        clock.advance(899)
        await asyncio.sleep(0.3)
        assert not ti.finished
        clock.advance(2)
        await asyncio.wait_for(ti.interviewer.wait_finished(), timeout=5)
        assert ti.end_reason == "time limit reached"
        assert "end of our time" in ti.collector.segments[-1].text
    finally:
        await ti.close()
