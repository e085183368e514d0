"""The interview's language reaches the evaluator, the Evaluation row, the review page and the transcript downloads."""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa
from sqlmodel import Session

from interview_app.contracts import RubricCriterion, TranscriptSegment
from interview_app.models import Evaluation
from interview_app.services.evaluation import process
from interview_app.services.interview_list import interview_detail
from interview_app.services.review import load_review, transcript_json, transcript_text
from interview_app.services.scoring import EvaluationInput, build_messages
from tests.review.helpers import finished_interview

SPANISH = [
    ("agent", "Cuéntame de un sistema que hayas construido."),
    (
        "candidate",
        "Construí la facturación de Acme con PostgreSQL y una cola. Procesaba dos millones de facturas al mes, y yo diseñé "
        "los reintentos idempotentes para que un cobro nunca se hiciera dos veces. Cuando el servicio se volvía lento, primero "
        "miraba los percentiles de latencia y el registro de consultas lentas antes de cambiar nada. "
        "Hoy añadiría trazas distribuidas desde el principio del proyecto.",
    ),
]  # long enough (63 words) for the insufficient-evidence gate


class RecordingLLM:
    """An evaluator model that answers one fixed JSON and keeps the chats it was sent."""

    model = "judge-es"

    def __init__(self) -> None:
        self.chats: list[list[dict[str, str]]] = []

    def complete_json(self, messages: list[dict[str, str]]) -> str:
        self.chats.append(messages)
        criteria = [
            {"name": name, "score": 4, "rationale": "Concrete system.", "evidence": ["Construí la facturación de Acme"]}
            for name in ("Technical depth", "Problem solving", "Communication")
        ]
        return json.dumps({"criteria": criteria, "summary": "Solid.", "recommendation": "yes"})


def _running(session: Session, **fields: object) -> tuple[object, Evaluation]:
    interview, _ = finished_interview(session, segments=SPANISH, evaluation=False, **fields)
    ev = Evaluation(interview_id=interview.id, status="running", attempts=1)
    session.add(ev)
    session.commit()
    return interview, ev


def test_the_prompt_names_the_transcripts_language_and_asks_for_english() -> None:
    data = EvaluationInput(
        interview_id=uuid.uuid4(),
        role_title="Ingeniera",
        job_description="",
        rubric=[RubricCriterion(name="Depth", description="d")],
        segments=[TranscriptSegment(seq=0, speaker="candidate", text="Hola", start_ms=0, end_ms=1)],
        language="es",
    )
    system = build_messages(data)[0]["content"]
    assert "held in Español (language code es)" in system
    assert "Write rationales and the summary in English." in system
    default = build_messages(EvaluationInput(uuid.uuid4(), "R", "", [], []))[0]["content"]
    assert "held in English (language code en)" in default


def test_the_evaluation_stores_the_chosen_language(session: Session, app_db: sa.Engine) -> None:
    interview, ev = _running(session, language="es")  # the template is in English; the candidate chose Spanish
    llm = RecordingLLM()
    assert process(app_db, ev.id, llm=llm) == "done"
    session.expire_all()
    stored = session.get(Evaluation, ev.id)
    assert stored.language == "es" and stored.scores[0]["evidence"][0]["quote"] == "Construí la facturación de Acme"
    [chat] = llm.chats
    assert "Español (language code es)" in chat[0]["content"]


def test_without_a_choice_the_evaluation_is_in_the_templates_language(session: Session, app_db: sa.Engine) -> None:
    interview, ev = _running(session)
    assert process(app_db, ev.id, llm=RecordingLLM()) == "done"
    session.expire_all()
    assert session.get(Evaluation, ev.id).language == "en"


def test_review_detail_and_downloads_name_the_language(session: Session) -> None:
    interview, _ = finished_interview(session, segments=SPANISH, evaluation=False, language="es")
    data = load_review(session, interview.id)
    assert data is not None and data.language == "es"
    body = json.loads(transcript_json(data))
    assert body["language"] == "es" and body["language_name"] == "Español"
    assert transcript_text(data).splitlines()[1] == "Language: Español (es)"
    assert interview_detail(session, str(interview.id)).language == "Español (es)"


def test_the_review_state_shows_the_language(session: Session) -> None:
    import reflex as rx

    import interview_app.interview_app  # noqa: F401  (registers the states)
    from interview_app.state.review import ReviewState

    interview, _ = finished_interview(session, segments=SPANISH, evaluation=False, language="de")
    state = rx.State(_reflex_internal_init=True).get_substate(ReviewState.get_full_name().split(".")[1:])
    state._fill(load_review(session, interview.id))
    assert state.interview_language == "Deutsch (de)"
    state._clear()
    assert state.interview_language == ""
