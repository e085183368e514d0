"""The insufficient-evidence gate (issue 18): no score from a transcript too short or too garbled to support one.

A criterion with too little candidate speech behind it is stored as "insufficient evidence" and never
shown to the model; an interview below the minimum is not evaluated at all, and the model gets no
request. The job tests use the real database fixtures and the local OpenAI-compatible server
(``llm_server``), whose ``requests`` list counts what the model was asked.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from interview_app.contracts import PlanQuestion, RubricCriterion, TranscriptSegment
from interview_app.models import Evaluation, EvaluationStatus, Interview, InterviewEvent, InterviewStatus
from interview_app.models import TranscriptSegment as SegmentRow
from interview_app.services import scoring
from interview_app.services.evaluation import run_pending
from interview_app.services.interviews import transition
from interview_app.services.review import load_review
from interview_app.services.scoring import (
    MIN_CRITERION_WORDS,
    MIN_INTERVIEW_WORDS,
    assess_evidence,
    garbled,
    read_scores,
    weighted_score,
    words,
)
from tests.factories import make_interview, make_template
from tests.review.conftest import ChatCompletionsServer

INSUFFICIENT = EvaluationStatus.insufficient_evidence.value
RUBRIC = [
    {"name": "Technical depth", "description": "Explains systems precisely.", "weight": 2, "scale_min": 1, "scale_max": 5},
    {"name": "Problem solving", "description": "Measures before acting.", "weight": 2, "scale_min": 1, "scale_max": 5},
    {"name": "Communication", "description": "Clear and concise.", "weight": 1, "scale_min": 1, "scale_max": 5},
]
QUESTIONS = [
    {"id": "q1", "text": "Tell me about a backend system you built.", "competency": "Technical depth"},
    {"id": "q2", "text": "A service becomes slow under load. How do you find the cause?", "competency": "  problem SOLVING "},
    {"id": "q3", "text": "How would you explain a design decision to a colleague in sales?", "competency": "communication"},
]
Q1_ANSWER = (
    "I built the billing pipeline at Acme. It processed two million invoices a month on PostgreSQL and a queue, "
    "and I designed the idempotent retry logic myself so that no customer was ever charged twice."
)  # 35 words
Q2_ANSWER = (
    "First I look at the latency percentiles and the database slow query log before changing anything. "
    "Then I trace the slowest requests and profile the endpoint that dominates the time."
)  # 30 words
Q3_SHORT = "I would draw a picture and avoid jargon."  # 8 words


@pytest.fixture
def no_foreign_jobs(app_db: sa.Engine) -> None:
    """The PostgreSQL database is shared by the run: park jobs other tests left behind."""
    with app_db.begin() as conn:
        conn.execute(sa.update(Evaluation).where(Evaluation.status.in_(["pending", "running"])).values(status="failed"))


@pytest.fixture
def openai_settings(settings_env, llm_server: ChatCompletionsServer, no_foreign_jobs: None):
    return settings_env(LLM_PROVIDER="openai", OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=llm_server.base_url, LLM_MODEL="judge-1")


def interview_with(session: Session, turns: list[tuple[str, str, str | None]], **fields: object) -> tuple[Interview, Evaluation]:
    """A processing interview on a template whose questions name the rubric's criteria, with a pending Evaluation."""
    template = make_template(session, questions=QUESTIONS, rubric=RUBRIC)
    interview, _ = make_interview(session, template=template)
    transition(session, interview, InterviewStatus.in_progress)
    transition(session, interview, InterviewStatus.processing)
    for key, value in fields.items():
        setattr(interview, key, value)
    session.add(interview)
    for seq, (speaker, text, question_id) in enumerate(turns):
        session.add(
            SegmentRow(
                interview_id=interview.id,
                seq=seq,
                speaker=speaker,
                text=text,
                start_ms=seq * 4000,
                end_ms=seq * 4000 + 3500,
                question_id=question_id,
            )
        )
    ev = Evaluation(interview_id=interview.id, status="pending")
    session.add(ev)
    session.commit()
    return interview, ev


def asked(question_id: str) -> tuple[str, str, str]:
    text = next(q["text"] for q in QUESTIONS if q["id"] == question_id)
    return ("agent", text, question_id)


def _reload(session: Session, ev: Evaluation) -> Evaluation:
    session.expire_all()
    return session.get(Evaluation, ev.id)


def assert_not_evaluated(session: Session, interview: Interview, ev: Evaluation, llm_server: ChatCompletionsServer) -> Evaluation:
    """Not evaluated, finished like a done evaluation, every criterion insufficient, and no model request."""
    ev = _reload(session, ev)
    assert ev.status == INSUFFICIENT and ev.error is None and ev.recommendation == "" and ev.model == ""
    assert [s["criterion"] for s in ev.scores] == [c["name"] for c in RUBRIC]
    for entry in ev.scores:
        assert entry["insufficient_evidence"] is True and entry["score"] is None and entry["reason"]
        assert entry["weight"] and entry["evidence"] == [] and entry["dropped_evidence"] == 0
    assert weighted_score(read_scores(ev.scores)) is None
    assert llm_server.requests == []  # the model never got the chance to invent a score
    assert session.get(Interview, interview.id).status == InterviewStatus.completed.value
    finished = session.exec(
        select(InterviewEvent).where(InterviewEvent.interview_id == interview.id, InterviewEvent.kind == "evaluation_finished")
    ).one()
    assert finished.detail == {"status": INSUFFICIENT, "evaluation_id": ev.id} and finished.actor == "evaluator"
    return ev


# --- the pure functions -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "   \n", "...", "…", "?!", "♪♪", "[inaudible]", "(inaudible)", "[Unintelligible]", "[noise]", "[music]", "(music playing)",
     "[inaudible 00:12] …", "um", "Uh.", "hmm", "mm", "uh, um... hmm", "hmm hm ...", "<unk>"],
)  # fmt: skip
def test_garbled_segments_carry_no_usable_words(text: str) -> None:
    assert garbled(text)


@pytest.mark.parametrize(
    "text",
    ["Yes.", "I built the billing pipeline.", "[inaudible] then I profile the slowest endpoint", "Construí la facturación.",
     "بنيت نظام الفوترة", "مَرْحَبًا بِكُمْ", "It handled 10,000 requests at 99.9% uptime."],
)  # fmt: skip
def test_real_answers_are_not_garbled(text: str) -> None:
    assert not garbled(text)


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("I built the billing pipeline at Acme.", 7),
        ("Construí la facturación de Acme con PostgreSQL y una cola.", 10),
        ("¿Qué haría hoy? Añadiría trazas, métricas y alertas: ¡sin duda!", 10),
        ("بنيت نظام الفوترة في أكمي باستخدام قاعدة بيانات وطابور رسائل.", 10),
        ("مَرْحَبًا بِكُمْ، أَنَا مُهَنْدِسَةٌ", 4),  # vowel marks stay inside their words
        ("I don't know; it's 10,000 rows.", 6),
        ("  ", 0),
    ],
)
def test_words_counts_letters_and_digits_in_any_script(text: str, count: int) -> None:
    assert words(text) == count


def _segment(seq: int, speaker: str, text: str, question_id: str | None = None) -> TranscriptSegment:
    return TranscriptSegment(seq=seq, speaker=speaker, text=text, start_ms=seq, end_ms=seq, question_id=question_id)


def test_assess_maps_criteria_to_their_questions() -> None:
    rubric = [RubricCriterion.model_validate(c) for c in RUBRIC] + [RubricCriterion(name="Culture fit")]  # no question names it
    segments = [
        _segment(0, "agent", "Tell me about a backend system you built.", "q1"),
        _segment(1, "candidate", Q1_ANSWER, "q1"),
        _segment(2, "candidate", "[inaudible]", "q1"),
        _segment(3, "candidate", Q2_ANSWER, "q2"),
        _segment(4, "candidate", Q3_SHORT, "q3"),
        _segment(5, "candidate", "Also, thanks for having me today.", None),  # no question id: only the all-questions criterion
    ]
    report = assess_evidence(segments, [PlanQuestion.model_validate(q) for q in QUESTIONS], rubric)
    depth, solving, communication, culture = report.criteria
    assert (depth.words, depth.answered_questions, depth.garbled_segments, depth.enough) == (35, 1, 1, True)
    assert (solving.words, solving.enough) == (30, True)  # competency "  problem SOLVING " names it
    assert (communication.words, communication.answered_questions, communication.enough) == (8, 1, False)
    assert (
        communication.reason == f"Only 8 words of the candidate's answers relate to this criterion (at least {MIN_CRITERION_WORDS} needed)."
    )
    assert (culture.words, culture.answered_questions, culture.enough) == (35 + 30 + 8 + 6, 4, True)
    assert (report.total_words, report.usable_segments, report.garbled_segments) == (79, 4, 1)
    assert report.enough and report.reason == ""
    assert report.scorable() == ["Technical depth", "Problem solving", "Culture fit"]
    # The same questions as template dicts (what the job loads) give the same report.
    assert assess_evidence(segments, QUESTIONS, rubric) == report


def test_assess_refuses_an_interview_below_the_minimum() -> None:
    rubric = [RubricCriterion.model_validate(c) for c in RUBRIC]
    short = [_segment(0, "candidate", "Billing at Acme, mostly.", "q1"), _segment(1, "candidate", "I'd check the logs.", "q2")]
    report = assess_evidence(short, QUESTIONS, rubric)
    assert not report.enough and report.total_words == 8
    assert (
        report.reason == f"The candidate's answers contain only 8 usable words (at least {MIN_INTERVIEW_WORDS} needed), too few to score."
    )
    assert not any(c.enough for c in report.criteria)
    unanswered = assess_evidence([_segment(0, "candidate", Q1_ANSWER + " " + Q2_ANSWER, "q1")], QUESTIONS, rubric)
    assert unanswered.enough and [c.enough for c in unanswered.criteria] == [True, False, False]
    assert unanswered.criteria[2].reason == "The candidate gave no usable answer to the question on this criterion (q3)."


def test_weighted_score_ignores_insufficient_entries() -> None:
    scored = {"criterion": "Technical depth", "weight": 2, "scale_min": 1, "scale_max": 5, "score": 5}
    # An insufficient entry counts for nothing, even one that somehow carries a number.
    stray = {"criterion": "Communication", "weight": 1, "scale_min": 1, "scale_max": 5, "score": 1, "insufficient_evidence": True}
    assert weighted_score(read_scores([scored, stray])) == pytest.approx(1.0)
    assert weighted_score(read_scores([stray])) is None
    assert weighted_score(read_scores([stray | {"score": None}])) is None


# --- the job ------------------------------------------------------------------------


def test_an_empty_transcript_is_not_evaluated(
    session: Session, app_db: sa.Engine, llm_server: ChatCompletionsServer, openai_settings
) -> None:
    interview, ev = interview_with(session, [])
    llm_server.answer({"criteria": [{"name": "Technical depth", "score": 5, "rationale": "r", "evidence": []}]})
    assert run_pending(app_db) == [(ev.id, INSUFFICIENT)]
    ev = assert_not_evaluated(session, interview, ev, llm_server)
    assert "no answers from the candidate" in ev.summary


def test_three_short_answers_are_not_evaluated(
    session: Session, app_db: sa.Engine, llm_server: ChatCompletionsServer, openai_settings
) -> None:
    turns = [
        asked("q1"),
        ("candidate", "The billing system at Acme, mostly PostgreSQL.", "q1"),
        asked("q2"),
        ("candidate", "I would check the logs and the metrics first.", "q2"),
        asked("q3"),
        ("candidate", "Keep it simple, use pictures, no jargon.", "q3"),
    ]
    interview, ev = interview_with(session, turns)
    llm_server.answer({"criteria": [{"name": c["name"], "score": 5, "rationale": "r", "evidence": []} for c in RUBRIC]})
    assert run_pending(app_db) == [(ev.id, INSUFFICIENT)]
    ev = assert_not_evaluated(session, interview, ev, llm_server)
    assert ev.summary == "The candidate's answers contain only 23 usable words (at least 60 needed), too few to score."
    assert ev.scores[0]["reason"].startswith("Only 7 words of the candidate's answers relate to this criterion")


def test_a_mostly_garbled_transcript_is_not_evaluated(
    session: Session, app_db: sa.Engine, llm_server: ChatCompletionsServer, openai_settings
) -> None:
    turns = [
        asked("q1"),
        ("candidate", "[inaudible]", "q1"),
        ("candidate", "uh", "q1"),
        ("candidate", Q1_ANSWER, "q1"),
        asked("q2"),
        ("candidate", "um… [inaudible]", "q2"),
        ("candidate", "(inaudible)", "q2"),
        ("candidate", Q2_ANSWER, "q2"),
        asked("q3"),
        ("candidate", "hmm hm ...", "q3"),
        ("candidate", "[noise]", "q3"),
        ("candidate", "I would draw the design on one page, name the trade-off plainly and check they followed.", "q3"),
    ]
    interview, ev = interview_with(session, turns)  # 81 usable words: only the garbled share stops it
    llm_server.answer({"criteria": [{"name": c["name"], "score": 5, "rationale": "r", "evidence": []} for c in RUBRIC]})
    assert run_pending(app_db) == [(ev.id, INSUFFICIENT)]
    ev = assert_not_evaluated(session, interview, ev, llm_server)
    assert ev.summary.startswith("6 of the candidate's 9 transcript segments carry no usable words")
    assert "check the recording" in ev.summary


def test_an_unanswered_criterion_is_insufficient_and_never_reaches_the_model(
    session: Session, app_db: sa.Engine, llm_server: ChatCompletionsServer, openai_settings
) -> None:
    turns = [asked("q1"), ("candidate", Q1_ANSWER, "q1"), asked("q2"), ("candidate", Q2_ANSWER, "q2"), asked("q3")]
    interview, ev = interview_with(session, turns)  # q3, the Communication question, got no answer
    llm_server.answer(
        {
            "criteria": [
                {"name": "Technical depth", "score": 4, "rationale": "Concrete system.", "evidence": ["two million invoices a month"]},
                {"name": "Problem solving", "score": 5, "rationale": "Measures first.", "evidence": []},
                {"name": "Communication", "score": 5, "rationale": "Invented.", "evidence": []},  # not asked: dropped
            ],
            "summary": "Strong on systems.",
            "recommendation": "yes",
        }
    )
    assert run_pending(app_db) == [(ev.id, "done")]

    [request] = llm_server.requests
    system, user = (m["content"] for m in request["body"]["messages"])
    assert "Technical depth" in user and "Problem solving" in user
    assert "communication" not in (system + user).casefold()  # the prompt does not name the criterion

    ev = _reload(session, ev)
    depth, solving, communication = ev.scores
    assert depth["score"] == 4 and depth["evidence"][0]["quote"] == "two million invoices a month"
    assert solving["score"] == 5 and not solving.get("insufficient_evidence")
    assert communication["score"] is None and communication["insufficient_evidence"] is True
    assert communication["reason"] == "The candidate gave no usable answer to the question on this criterion (q3)."
    assert weighted_score(read_scores(ev.scores)) == pytest.approx((2 * 0.75 + 2 * 1.0) / 4)  # Communication does not count
    assert ev.summary == "Strong on systems." and ev.recommendation == "yes"
    assert session.get(Interview, interview.id).status == InterviewStatus.completed.value


def test_spanish_answers_are_counted_word_by_word(
    session: Session, app_db: sa.Engine, llm_server: ChatCompletionsServer, openai_settings
) -> None:
    spanish = [
        asked("q1"),
        ("candidate", "Construí la facturación de Acme con PostgreSQL y una cola; procesaba dos millones de facturas al mes, "
                      "y diseñé yo misma los reintentos idempotentes para que ningún cliente pagara dos veces.", "q1"),
        asked("q2"),
        ("candidate", "Primero miro los percentiles de latencia y el registro de consultas lentas antes de cambiar nada; "
                      "después sigo las peticiones más lentas y perfilo el punto que domina el tiempo.", "q2"),
        asked("q3"),
        ("candidate", "Dibujaría el diseño en una página, sin jerga, y nombraría el compromiso con claridad; luego preguntaría.", "q3"),
    ]  # fmt: skip
    assert [words(t) for s, t, _ in spanish if s == "candidate"] == [31, 30, 16]
    _, ev = interview_with(session, spanish, language="es")
    llm_server.answer({"criteria": [{"name": c["name"], "score": 4, "rationale": "r", "evidence": []} for c in RUBRIC]})
    assert run_pending(app_db) == [(ev.id, "done")]
    assert len(llm_server.requests) == 1
    ev = _reload(session, ev)
    assert [s["score"] for s in ev.scores] == [4, 4, None]  # the model's 4 for Communication was not asked for
    assert ev.scores[2]["reason"] == "Only 16 words of the candidate's answers relate to this criterion (at least 25 needed)."


def test_arabic_answers_are_counted_word_by_word(
    session: Session, app_db: sa.Engine, llm_server: ChatCompletionsServer, openai_settings
) -> None:
    arabic = [
        asked("q1"),
        ("candidate", "بنيت نظام الفوترة في أكمي باستخدام قاعدة بيانات وطابور رسائل.", "q1"),  # 10 words
        asked("q2"),
        ("candidate", "أَبْدَأُ بِقِيَاسِ زَمَنِ الاسْتِجَابَةِ ثُمَّ أَفْحَصُ سِجِلَّ الاسْتِعْلَامَاتِ البَطِيئَةِ.", "q2"),  # 9, fully vowelled
    ]
    assert [words(t) for s, t, _ in arabic if s == "candidate"] == [10, 9]
    interview, ev = interview_with(session, arabic, language="ar")
    assert run_pending(app_db) == [(ev.id, INSUFFICIENT)]
    ev = assert_not_evaluated(session, interview, ev, llm_server)
    assert ev.summary == "The candidate's answers contain only 19 usable words (at least 60 needed), too few to score."
    assert ev.language == "ar"
    assert ev.scores[0]["reason"] == "Only 10 words of the candidate's answers relate to this criterion (at least 25 needed)."


def test_the_scripted_provider_runs_the_gate_first(session: Session, app_db: sa.Engine, settings_env, no_foreign_jobs: None) -> None:
    settings_env(LLM_PROVIDER="scripted")
    short, short_ev = interview_with(session, [asked("q1"), ("candidate", "Billing, mostly.", "q1")])
    enough, enough_ev = interview_with(session, [asked("q1"), ("candidate", Q1_ANSWER, "q1"), asked("q2"), ("candidate", Q2_ANSWER, "q2")])
    assert sorted(run_pending(app_db)) == sorted([(short_ev.id, INSUFFICIENT), (enough_ev.id, "needs_llm")])
    short_ev, enough_ev = _reload(session, short_ev), _reload(session, enough_ev)
    assert short_ev.error is None and "only 2 usable words" in short_ev.summary  # never evaluable, LLM or not
    assert all(s["insufficient_evidence"] for s in short_ev.scores)
    assert enough_ev.scores == [] and "LLM_PROVIDER=openai" in enough_ev.error  # today's behaviour
    assert {session.get(Interview, i.id).status for i in (short, enough)} == {InterviewStatus.completed.value}


# --- the review page ----------------------------------------------------------------


@pytest.fixture
def review_state():
    import reflex as rx

    import interview_app.interview_app  # noqa: F401  (registers the states)
    from interview_app.state.review import ReviewState

    return rx.State(_reflex_internal_init=True).get_substate(ReviewState.get_full_name().split(".")[1:])


def test_the_review_shows_an_interview_that_was_not_evaluated(
    review_state, session: Session, app_db: sa.Engine, llm_server: ChatCompletionsServer, openai_settings
) -> None:
    interview, _ = interview_with(session, [asked("q1"), ("candidate", "Billing at Acme.", "q1")])
    run_pending(app_db)
    data = load_review(session, interview.id)
    assert data is not None and data.evaluation is not None and data.evaluation.status == INSUFFICIENT
    review_state._fill_evaluation(data)
    assert review_state.evaluation_status == INSUFFICIENT
    assert review_state.evaluation_message == (
        "Not evaluated: The candidate's answers contain only 3 usable words (at least 60 needed), too few to score."
    )
    assert review_state.evaluation_overall == "" and review_state.evaluation_recommendation == "" and review_state.evaluation_summary == ""
    assert [(r.criterion, r.insufficient, r.score) for r in review_state.criteria] == [(c["name"], True, "—") for c in RUBRIC]
    assert review_state.criteria[0].reason.startswith("Only 3 words of the candidate's answers relate to this criterion")
    assert review_state.criteria[2].reason == "The candidate gave no usable answer to the question on this criterion (q3)."
    assert llm_server.requests == []


def test_the_review_shows_insufficient_criteria_beside_scored_ones(
    review_state, session: Session, app_db: sa.Engine, llm_server: ChatCompletionsServer, openai_settings
) -> None:
    turns = [
        asked("q1"),
        ("candidate", Q1_ANSWER, "q1"),
        asked("q2"),
        ("candidate", Q2_ANSWER, "q2"),
        asked("q3"),
        ("candidate", Q3_SHORT, "q3"),
    ]
    interview, _ = interview_with(session, turns)
    llm_server.answer({"criteria": [{"name": c["name"], "score": 3, "rationale": "Fine.", "evidence": []} for c in RUBRIC],
                       "summary": "OK.", "recommendation": "no"})  # fmt: skip
    run_pending(app_db)
    review_state._fill_evaluation(load_review(session, interview.id))
    assert review_state.evaluation_status == "done" and review_state.evaluation_message == ""
    assert review_state.evaluation_overall == "50 / 100 (2 of 3 criteria scored; 1 with insufficient evidence)"
    depth, solving, communication = review_state.criteria
    assert (depth.score, depth.insufficient, depth.rationale) == ("3", False, "Fine.")
    assert (communication.score, communication.insufficient, communication.rationale, communication.evidence) == ("—", True, "", [])
    assert communication.reason == "Only 8 words of the candidate's answers relate to this criterion (at least 25 needed)."


def test_the_evaluation_section_renders_the_badge_and_the_callout() -> None:
    import interview_app.interview_app  # noqa: F401  (registers the states)
    from interview_app.components.review import review_sections

    rendered = str(review_sections())
    assert "Insufficient evidence" in rendered and "insufficient-evidence" in rendered and "insufficient-reason" in rendered
    assert "evaluation-not-evaluated" in rendered and f'"{INSUFFICIENT}"' in rendered


def test_the_thresholds_are_module_constants(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read at call time: a lower minimum lets the same transcript through."""
    rubric = [RubricCriterion.model_validate(c) for c in RUBRIC]
    segments = [_segment(0, "candidate", "Billing at Acme, mostly PostgreSQL and a queue.", "q1")]
    assert not assess_evidence(segments, QUESTIONS, rubric).enough
    monkeypatch.setattr(scoring, "MIN_INTERVIEW_WORDS", 5)
    monkeypatch.setattr(scoring, "MIN_CRITERION_WORDS", 5)
    report = assess_evidence(segments, QUESTIONS, rubric)
    assert report.enough and report.scorable() == ["Technical depth"]
