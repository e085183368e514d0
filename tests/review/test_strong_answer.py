"""Issue 18 (rubric versions): "What a strong answer covers", per question.

The template author writes it; the evaluator and the reviewers see it; the interviewer's
instructions and state note, and the candidate's page, never do.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace

import httpx
import pytest
import reflex as rx
import sqlalchemy as sa
from reflex.istate.data import RouterData
from sqlmodel import Session, select

from interview_app.contracts import PlanQuestion, RubricCriterion, TranscriptSegment
from interview_app.models import Candidate, Evaluation, InterviewStatus, InterviewTemplate
from interview_app.models import TranscriptSegment as SegmentRow
from interview_app.services import templates
from interview_app.services.auth import create_admin, create_session
from interview_app.services.candidate_link import describe_link
from interview_app.services.evaluation import run_pending
from interview_app.services.interviews import build_plan, transition
from interview_app.services.review import load_review, planned_questions
from interview_app.services.scoring import STRONG_ANSWER_GUIDANCE, EvaluationInput, build_messages, questions_for_prompt
from interview_app.state.admin_templates import TemplatesState
from tests.admin.test_admin_services import _settings
from tests.admin.test_admin_state_guards import connection_headers, people, run, state_for  # noqa: F401  (people is a fixture)
from tests.factories import make_interview, make_template
from tests.review.conftest import ChatCompletionsServer
from tests.review.test_evidence_gate import Q1_ANSWER, Q2_ANSWER, RUBRIC, no_foreign_jobs, openai_settings  # noqa: F401  (fixtures)

NOTE_Q1 = "Names a concrete system, their own part in it, one trade-off, and what they would change."
NOTE_Q2 = "Measures before changing anything: percentiles, slow query log, profiling; then a hypothesis."
NOTE_Q3 = "Explains the decision without jargon and checks that the colleague understood."
QUESTIONS = [
    {"id": "q1", "text": "Tell me about a backend system you built.", "competency": "Technical depth", "strong_answer": NOTE_Q1},
    {"id": "q2", "text": "A service becomes slow under load. How do you find the cause?", "competency": "Problem solving",
     "strong_answer": NOTE_Q2},
    {"id": "q3", "text": "How would you explain a design decision to a colleague in sales?", "competency": "Communication",
     "strong_answer": NOTE_Q3},
    {"id": "q4", "text": "Anything you want to ask us?", "competency": ""},  # no note
]  # fmt: skip


def _row(text: str, strong_answer: str = "") -> dict[str, str]:
    """An editor row as the form holds it."""
    empty = {"id": "", "competency": "", "follow_up_guidance": "", "max_follow_ups": "1", "time_budget_seconds": ""}
    return empty | {"text": text, "strong_answer": strong_answer}


def _draft(**overrides: object) -> templates.TemplateDraft:
    values = {"title": f"Backend {uuid.uuid4().hex[:6]}", "questions": [_row("Tell me about a system you built.", NOTE_Q1)]}
    return templates.TemplateDraft(**(values | overrides))  # type: ignore[arg-type]


# --- the contract -------------------------------------------------------------------------


def test_a_plan_question_carries_an_optional_note_of_at_most_2000_characters() -> None:
    assert PlanQuestion(id="q1", text="Why?").strong_answer == ""
    assert PlanQuestion(id="q1", text="Why?", strong_answer="  Covers X.  ").strong_answer == "Covers X."
    assert len(PlanQuestion(id="q1", text="Why?", strong_answer="x" * 2000).strong_answer) == 2000
    with pytest.raises(ValueError, match="2000"):
        PlanQuestion(id="q1", text="Why?", strong_answer="x" * 2001)


# --- the template editor ------------------------------------------------------------------


def test_the_note_is_saved_reloaded_and_duplicated(session: Session) -> None:
    t = templates.save_template(session, _draft(questions=[_row("Tell me about a system you built.", f"  {NOTE_Q1} "), _row("Why us?")]))
    session.commit()
    assert [q["strong_answer"] for q in t.questions] == [NOTE_Q1, ""]
    draft = templates.draft_from_template(t)
    assert [q["strong_answer"] for q in draft.questions] == [NOTE_Q1, ""]
    draft.questions[1]["strong_answer"] = NOTE_Q2
    templates.save_template(session, draft, t.id)
    session.commit()
    session.refresh(t)
    assert [q["strong_answer"] for q in t.questions] == [NOTE_Q1, NOTE_Q2]
    copy = templates.duplicate_template(session, t.id)
    session.commit()
    assert [q["strong_answer"] for q in copy.questions] == [NOTE_Q1, NOTE_Q2]


def test_an_older_question_without_a_note_opens_with_an_empty_one(session: Session) -> None:
    t = make_template(session, questions=[{"id": "q1", "text": "Why?", "competency": "", "follow_up_guidance": "", "max_follow_ups": 1}])
    session.commit()
    assert templates.draft_from_template(t).questions[0]["strong_answer"] == ""


def test_a_note_longer_than_2000_characters_is_refused_with_a_sentence(session: Session) -> None:
    before = session.exec(select(sa.func.count()).select_from(InterviewTemplate)).one()
    with pytest.raises(templates.TemplateError) as err:
        templates.save_template(session, _draft(questions=[_row("Why?"), _row("And how?", "x" * 2001)]))
    assert err.value.problems == ["Question 2: “What a strong answer covers” is longer than 2000 characters (2001); shorten it."]
    # A note without its question is not dropped silently either.
    with pytest.raises(templates.TemplateError) as err:
        templates.save_template(session, _draft(questions=[_row("Why?"), _row("", NOTE_Q1)]))
    assert any(p.startswith("Question 2 is not valid") for p in err.value.problems)
    session.rollback()
    assert session.exec(select(sa.func.count()).select_from(InterviewTemplate)).one() == before
    assert templates.save_template(session, _draft(questions=[_row("Why?", "x" * 2000)])).questions[0]["strong_answer"] == "x" * 2000
    session.rollback()


def test_drafted_questions_leave_the_note_to_the_author() -> None:
    content = {"questions": [{"text": "How do you design an API?", "competency": "Design", "strong_answer": "Invented by the model."}]}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"choices": [{"message": {"content": json.dumps(content)}}]})

    settings = _settings(LLM_PROVIDER="openai", OPENAI_API_KEY="sk-test", OPENAI_BASE_URL="http://127.0.0.1:9/v1")
    [row] = templates.draft_questions(settings, "Backend role", transport=httpx.MockTransport(handler))
    assert row["text"] == "How do you design an API?" and row["strong_answer"] == ""


def test_the_editor_saves_reloads_and_duplicates_the_note(people: dict[str, str], session: Session) -> None:  # noqa: F811
    title = f"Strong {uuid.uuid4().hex[:6]}"
    admin = state_for(TemplatesState, people["admin"])
    run(admin, "new_template")
    assert admin.draft.questions[0]["strong_answer"] == ""
    run(admin, "set_field", name="title", value=title)
    run(admin, "set_question_field", index=0, name="text", value="Tell me about a system you built.")
    run(admin, "set_question_field", index=0, name="strong_answer", value=NOTE_Q1)
    run(admin, "add_question")
    run(admin, "set_question_field", index=1, name="text", value="Why us?")
    run(admin, "save")
    assert admin.problems == [] and admin.editor_open is False
    session.expire_all()
    saved = session.exec(select(InterviewTemplate).where(InterviewTemplate.title == title)).one()
    assert [q["strong_answer"] for q in saved.questions] == [NOTE_Q1, ""]

    run(admin, "edit", template_id=str(saved.id))
    assert [q["strong_answer"] for q in admin.draft.questions] == [NOTE_Q1, ""]
    run(admin, "set_question_field", index=0, name="strong_answer", value="x" * 2001)
    run(admin, "save")
    assert admin.problems == ["Question 1: “What a strong answer covers” is longer than 2000 characters (2001); shorten it."]
    assert admin.editor_open is True

    run(admin, "duplicate", template_id=str(saved.id))
    session.expire_all()
    copy = session.exec(select(InterviewTemplate).where(InterviewTemplate.title == f"{title} (copy)")).one()
    assert [q["strong_answer"] for q in copy.questions] == [NOTE_Q1, ""]

    reviewer = state_for(TemplatesState, people["reviewer"])
    reviewer.draft = replace(reviewer.draft, questions=[dict(q) for q in admin.draft.questions])
    run(reviewer, "set_question_field", index=0, name="strong_answer", value="changed")
    assert reviewer.draft.questions[0]["strong_answer"] == "x" * 2001  # refused: reviewers do not edit templates


def test_the_editor_page_has_the_field_with_its_label() -> None:
    import interview_app.interview_app  # noqa: F401  (registers the states)
    from interview_app.pages.admin.templates import _editor

    rendered = str(_editor())
    assert "question-strong-answer" in rendered
    assert (
        "What a strong answer covers (optional; seen by the evaluator and reviewers, never by the candidate or the interviewer)" in rendered
    )


# --- the evaluator ----------------------------------------------------------------------------


def _input(questions: list[dict[str, object]], rubric: list[dict[str, object]] = RUBRIC) -> EvaluationInput:
    segments = [
        TranscriptSegment(seq=0, speaker="agent", text=QUESTIONS[0]["text"], start_ms=0, end_ms=2000, question_id="q1"),
        TranscriptSegment(seq=1, speaker="candidate", text=Q1_ANSWER, start_ms=3000, end_ms=9000, question_id="q1"),
    ]
    return EvaluationInput(
        interview_id=uuid.uuid4(),
        role_title="Engineer",
        job_description="",
        rubric=[RubricCriterion.model_validate(c) for c in rubric],
        segments=segments,  # type: ignore[arg-type]
        questions=questions,
    )


def test_the_evaluator_gets_each_note_as_guidance_not_evidence() -> None:
    system, user = (m["content"] for m in build_messages(_input(QUESTIONS)))
    assert STRONG_ANSWER_GUIDANCE in system
    assert (
        "guidance for scoring, not evidence" in system and "evidence quotes must still be copied from the candidate's turns only" in system
    )
    listed = user.split("Planned questions (JSON, written by the hiring team):\n", 1)[1].split("\n\nTranscript (JSON):\n", 1)[0]
    assert json.loads(listed) == [
        {"id": "q1", "text": QUESTIONS[0]["text"], "competency": "Technical depth", "strong_answer": NOTE_Q1},
        {"id": "q2", "text": QUESTIONS[1]["text"], "competency": "Problem solving", "strong_answer": NOTE_Q2},
        {"id": "q3", "text": QUESTIONS[2]["text"], "competency": "Communication", "strong_answer": NOTE_Q3},
        {"id": "q4", "text": QUESTIONS[3]["text"]},  # no note, no competency: neither key
    ]
    transcript = json.loads(user.split("Transcript (JSON):\n", 1)[1])  # the transcript stays last, as JSON turns
    assert [t["speaker"] for t in transcript] == ["interviewer", "candidate"]


def test_without_notes_the_prompt_does_not_mention_them() -> None:
    plain = [{k: v for k, v in q.items() if k != "strong_answer"} for q in QUESTIONS]
    system, user = (m["content"] for m in build_messages(_input(plain)))
    assert "strong_answer" not in system + user and STRONG_ANSWER_GUIDANCE not in system
    system, user = (m["content"] for m in build_messages(_input([])))
    assert "Planned questions" not in user and "strong_answer" not in system


def test_the_question_of_a_withheld_criterion_does_not_reach_the_model() -> None:
    rubric = [RubricCriterion.model_validate(c) for c in RUBRIC]
    kept = questions_for_prompt(QUESTIONS, rubric, {"Technical depth", "Problem solving"})
    assert [q["id"] for q in kept] == ["q1", "q2", "q4"]
    assert questions_for_prompt(QUESTIONS, rubric, {c.name for c in rubric}) == QUESTIONS


def test_an_evaluation_run_sends_the_notes_of_the_scored_criteria_only(
    session: Session,
    app_db: sa.Engine,
    llm_server: ChatCompletionsServer,
    openai_settings,  # noqa: F811
) -> None:
    template = make_template(session, questions=QUESTIONS, rubric=RUBRIC)
    interview, _ = make_interview(session, template=template)
    transition(session, interview, InterviewStatus.in_progress)
    transition(session, interview, InterviewStatus.processing)
    turns = [("agent", QUESTIONS[0]["text"], "q1"), ("candidate", Q1_ANSWER, "q1"), ("agent", QUESTIONS[1]["text"], "q2"),
             ("candidate", Q2_ANSWER, "q2"), ("agent", QUESTIONS[2]["text"], "q3")]  # fmt: skip
    for seq, (speaker, text, qid) in enumerate(turns):
        session.add(SegmentRow(interview_id=interview.id, seq=seq, speaker=speaker, text=text, start_ms=seq * 4000, end_ms=seq * 4000 + 3500,
                               question_id=qid))  # fmt: skip
    ev = Evaluation(interview_id=interview.id, status="pending")
    session.add(ev)
    session.commit()
    llm_server.answer({"criteria": [{"name": "Technical depth", "score": 4, "rationale": "Concrete.", "evidence": [NOTE_Q1]},
                                    {"name": "Problem solving", "score": 4, "rationale": "Measures.", "evidence": []}],
                       "summary": "Good.", "recommendation": "yes"})  # fmt: skip
    assert run_pending(app_db) == [(ev.id, "done")]
    [request] = llm_server.requests
    system, user = (m["content"] for m in request["body"]["messages"])
    assert NOTE_Q1 in user and NOTE_Q2 in user and STRONG_ANSWER_GUIDANCE in system
    assert NOTE_Q3 not in user and "communication" not in (system + user).casefold()  # the gate withheld it: its note too
    session.expire_all()
    depth = session.get(Evaluation, ev.id).scores[0]
    assert depth["score"] == 4 and depth["evidence"] == [] and depth["dropped_evidence"] == 1  # a quote of the note is no evidence


# --- the review page ------------------------------------------------------------------------


@pytest.fixture
def review_state():
    import interview_app.interview_app  # noqa: F401  (registers the states)
    from interview_app.state.review import ReviewState

    return rx.State(_reflex_internal_init=True).get_substate(ReviewState.get_full_name().split(".")[1:])


def _at(state, interview_id: uuid.UUID, token: str) -> None:
    state.router = RouterData.from_router_data(
        {
            "pathname": "/admin/interviews/[interview_id]",
            "asPath": f"/admin/interviews/{interview_id}",
            "headers": connection_headers(token),
        }
    )


def test_the_review_lists_the_questions_with_their_notes_for_signed_in_reviewers(review_state, session: Session) -> None:
    template = make_template(session, questions=QUESTIONS, rubric=RUBRIC)
    interview, _ = make_interview(session, template=template)
    data = load_review(session, interview.id)
    assert data is not None
    assert [(q.number, q.id, q.strong_answer) for q in data.questions] == [
        (1, "q1", NOTE_Q1),
        (2, "q2", NOTE_Q2),
        (3, "q3", NOTE_Q3),
        (4, "q4", ""),
    ]
    assert planned_questions(None) == []

    _at(review_state, interview.id, "not-a-session")
    type(review_state).event_handlers["load_review"].fn(review_state)
    assert review_state.review_error.startswith("Sign in") and review_state.planned_questions == []

    tag = uuid.uuid4().hex[:6]
    reviewer = create_admin(session, f"rev.{tag}@example.com", "long-enough-password", role="reviewer")
    token = create_session(session, reviewer, ttl_minutes=30)
    session.commit()
    _at(review_state, interview.id, token)
    type(review_state).event_handlers["load_review"].fn(review_state)
    assert review_state.review_loaded
    assert [(q.label, q.text, q.competency, q.strong_answer) for q in review_state.planned_questions] == [
        (f"Q{i}", q["text"], q["competency"], q.get("strong_answer", "")) for i, q in enumerate(QUESTIONS, start=1)
    ]


def test_the_review_renders_the_questions_section() -> None:
    import interview_app.interview_app  # noqa: F401  (registers the states)
    from interview_app.components.review import review_sections

    rendered = str(review_sections())
    assert "review-questions" in rendered and "A strong answer covers: " in rendered and "strong-answer" in rendered


# --- never the interviewer, never the candidate ---------------------------------------------------


def test_the_interviewer_never_sees_the_note(session: Session) -> None:
    from agent.interviewer import render_instructions
    from agent.progress import InterviewProgress

    template = make_template(session, questions=QUESTIONS, rubric=RUBRIC)
    interview, _ = make_interview(session, template=template)
    plan = build_plan(interview, session.get(Candidate, interview.candidate_id), template)
    instructions = render_instructions(plan)
    assert QUESTIONS[0]["text"] in instructions  # the questions are there ...
    for note in (NOTE_Q1, NOTE_Q2, NOTE_Q3):
        assert note not in instructions  # ... their notes are not
    progress = InterviewProgress(plan)
    for _ in QUESTIONS:
        note = json.dumps(progress.snapshot(), ensure_ascii=False)  # the state note before each reply
        assert all(n not in note for n in (NOTE_Q1, NOTE_Q2, NOTE_Q3)) and "strong_answer" not in note
        progress.cover(progress.current.question.id)  # type: ignore[union-attr]


def test_the_candidate_page_s_link_view_has_no_note(session: Session) -> None:
    template = make_template(session, questions=QUESTIONS, rubric=RUBRIC)
    _, raw = make_interview(session, template=template)
    view = describe_link(session, raw)
    assert view.state == "valid"
    assert all(n not in repr(view) for n in (NOTE_Q1, NOTE_Q2, NOTE_Q3))


def test_the_plan_the_room_carries_has_no_strong_answer_note(session) -> None:
    """The plan becomes LiveKit room metadata, which the candidate's browser receives: no note in it."""
    from interview_app.models import Candidate, InterviewTemplate
    from interview_app.services.interviews import build_plan
    from tests.factories import make_interview

    interview, _ = make_interview(session)
    template = session.get(InterviewTemplate, interview.template_id)
    template.questions = [{**q, "strong_answer": "SECRET-IDEAL-ANSWER covers retries"} for q in template.questions]
    session.add(template)
    session.commit()
    plan = build_plan(interview, session.get(Candidate, interview.candidate_id), template)
    assert "SECRET-IDEAL-ANSWER" not in plan.model_dump_json()
    assert [q.text for q in plan.questions] == [q["text"] for q in template.questions]
