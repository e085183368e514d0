"""The scripted interviewer speaks the plan's language (issue 19): English, Spanish, Arabic.

Most tests call :func:`agent.scripted.next_turn` on a chat context built the way the Interviewer
builds it (a state note from :class:`agent.progress.InterviewProgress`, then the candidate's words
or a tool's output); two run whole turns through a roomless text ``AgentSession`` so the tools
really run.
"""

from __future__ import annotations

import json
import re
import string
import uuid
from typing import Any

import pytest
from livekit.agents import llm

from agent.interviewer import STATE_NOTE_PREFIX
from agent.progress import InterviewProgress
from agent.scripted import (
    PHRASES,
    ScriptedLLM,
    ScriptedTurn,
    greeting_text,
    minutes_text,
    next_turn,
    questions_text,
    say,
    scripted_language,
)
from agent.text_mode import TextInterview
from interview_app.contracts import InterviewPlan

QUESTIONS = [
    {
        "id": "q1",
        "text": "Hábleme de un sistema que haya construido.",
        "follow_up_guidance": "Pregunte cuál fue su parte.",
        "max_follow_ups": 1,
    },
    {"id": "q2", "text": "¿Cómo encuentra la causa de un servicio lento?", "max_follow_ups": 0},
    {"id": "q3", "text": "¿Cómo cambia un esquema de forma segura?", "max_follow_ups": 0},
]
ARABIC = re.compile("[\u0600-\u06ff]")


def make_plan(**overrides: Any) -> InterviewPlan:
    values = {
        "interview_id": uuid.uuid4(),
        "candidate_name": "Ana López",
        "role_title": "Backend Engineer",
        "org_name": "Acme",
        "duration_limit_seconds": 900,
        "questions": QUESTIONS,
    } | overrides
    return InterviewPlan.model_validate(values)


def note(language: str | None = "es", **changes: Any) -> dict[str, Any]:
    """A state note as the Interviewer writes it (``changes`` override keys, e.g. ``event``)."""
    plan = make_plan() if language is None else make_plan(language=language)
    progress = InterviewProgress(plan, clock=lambda: 1000.0)
    progress.start()
    state = progress.snapshot() | changes
    if language is None:
        state.pop("language")  # a note from before issue 19
    return state


def context(state: dict[str, Any], *items: llm.ChatItem | str) -> llm.ChatContext:
    """The chat context the scripted LLM reads: ``items`` (str: the candidate's words), then the state note."""
    ctx = llm.ChatContext.empty()
    ctx.add_message(role="system", content="instructions")
    for item in items:
        if isinstance(item, str):
            ctx.add_message(role="user", content=item)
        else:
            ctx.items.append(item)
    ctx.add_message(role="system", content=STATE_NOTE_PREFIX + json.dumps(state))
    return ctx


def tool_output(name: str, output: dict[str, Any]) -> llm.FunctionCallOutput:
    return llm.FunctionCallOutput(name=name, call_id=f"call_{name}", output=json.dumps(output), is_error=False)


def turn(language: str | None, *items: llm.ChatItem | str, **changes: Any) -> ScriptedTurn:
    return next_turn(context(note(language, **changes), *items))


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


# --- the phrase tables -----------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["es", "ar"])
def test_every_phrase_table_has_the_english_names_and_placeholders(language: str) -> None:
    assert set(PHRASES[language]) == set(PHRASES["en"])
    for name, english in PHRASES["en"].items():
        assert placeholders(PHRASES[language][name]) == placeholders(english), name
        assert PHRASES[language][name] != english, f"{language}.{name} is not translated"
    if language == "ar":
        assert all(ARABIC.search(text) for text in PHRASES["ar"].values())


@pytest.mark.parametrize(
    ("code", "table"),
    [("en", "en"), ("es", "es"), ("es-MX", "es"), ("ES_es", "es"), ("ar", "ar"), (" ar-EG ", "ar"), ("fr", "en"), ("", "en"), (None, "en")],
)
def test_language_codes_choose_a_table_like_the_pages(code: str | None, table: str) -> None:
    assert scripted_language(code) == table


@pytest.mark.parametrize(
    ("minutes", "words"),
    [
        (1, "دقيقة واحدة"),
        (2, "دقيقتان"),
        (3, "3 دقائق"),
        (5, "5 دقائق"),
        (10, "10 دقائق"),
        (11, "11 دقيقة"),
        (45, "45 دقيقة"),
        (100, "100 دقيقة"),
    ],
)
def test_arabic_minutes_take_the_right_plural_form(minutes: int, words: str) -> None:
    assert minutes_text("ar", minutes * 60) == words


@pytest.mark.parametrize(
    ("count", "words"), [(1, "سؤال واحد"), (2, "سؤالان"), (5, "5 أسئلة"), (10, "10 أسئلة"), (11, "11 سؤالاً"), (20, "20 سؤالاً")]
)
def test_arabic_questions_take_the_right_plural_form(count: int, words: str) -> None:
    assert questions_text("ar", count) == words


def test_english_and_spanish_counts() -> None:
    assert [minutes_text("en", s) for s in (20, 60, 780)] == ["one minute", "one minute", "13 minutes"]
    assert [questions_text("en", n) for n in (0, 1, 2)] == ["0 questions", "1 question", "2 questions"]
    assert [minutes_text("es", s) for s in (60, 120)] == ["un minuto", "2 minutos"]
    assert [questions_text("es", n) for n in (1, 3)] == ["una pregunta", "3 preguntas"]


# --- what the interviewer says ---------------------------------------------------------------------


def test_spanish_greeting() -> None:
    text = greeting_text(note("es"))
    assert text.startswith("Hola, Ana López, gracias por acompañarnos.")
    assert "puesto de Backend Engineer en Acme" in text and "le haré 3 preguntas" in text and "15 minutos" in text
    assert text.endswith("Pregunta 1: Hábleme de un sistema que haya construido.")
    assert "Question" not in text and "Hello" not in text


def test_arabic_greeting() -> None:
    text = greeting_text(note("ar"))
    assert text.startswith("مرحبًا Ana López،")
    assert "لدينا 3 أسئلة" in text and "15 دقيقة" in text and "Backend Engineer في Acme" in text
    assert text.endswith("السؤال 1: Hábleme de un sistema que haya construido.")
    assert "Question" not in text and "Hello" not in text


@pytest.mark.parametrize("language", ["es", "ar"])
def test_a_greeting_template_without_the_name_gets_the_languages_hello(language: str) -> None:
    text = greeting_text(note(language, greeting="Bienvenida a {org_name}.", question_count=1, duration_limit_seconds=120))
    assert text.startswith(say(language, "hello_prefix", name="Ana López", greeting="Bienvenida a Acme."))
    assert questions_text(language, 1) in text and minutes_text(language, 120) in text


def test_unknown_or_missing_language_greets_in_english() -> None:
    english = greeting_text(note("en"))
    assert english.startswith("Hello Ana López, thank you for joining. I'm your interviewer for the Backend Engineer role at Acme.")
    assert greeting_text(note("fr")) == english
    assert greeting_text(note(None)) == english
    assert turn("de", "Could you repeat the question?").text == "Of course. The question is: Hábleme de un sistema que haya construido."


@pytest.mark.parametrize("event", ["greeting", "idle_reminder", "idle_end", "pause", "time_up"])
@pytest.mark.parametrize("language", ["es", "ar"])
def test_every_event_in_the_language_with_the_english_tool_calls(event: str, language: str) -> None:
    english = turn("en", event=event)
    own = turn(language, event=event)
    assert own.tool_calls == english.tool_calls
    assert own.text and own.text != english.text
    assert not re.search(r"\b(the|you|your|thank)\b", own.text, flags=re.I), own.text
    if language == "ar":
        assert ARABIC.search(own.text)
    if event == "idle_reminder":
        assert own.text.startswith("Ana") and own.text.endswith("Hábleme de un sistema que haya construido.")
    if event == "time_up":
        assert "Ana" in own.text


@pytest.mark.parametrize("language", ["es", "ar"])
def test_idle_reminder_without_a_question(language: str) -> None:
    assert turn(language, event="idle_reminder", current_question=None).text == say(language, "idle_reminder", name="Ana")


@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_tool_outputs_are_answered_in_the_language(language: str) -> None:
    t = turn(language, "ok", tool_output("time_remaining", {"seconds_left": 300, "questions_left": 2}))
    assert t.text == say(language, "time_left", minutes=minutes_text(language, 300), questions=questions_text(language, 2))
    t = turn(language, "ok", tool_output("mark_question_covered", {"next_question": {"number": 2, "text": "Q2?"}}))
    assert t.text == say(language, "next_question", number=2, question="Q2?")
    t = turn(language, "ok", tool_output("mark_question_covered", {"all_questions_covered": True}))
    assert t.text == say(language, "last_question", name="Ana")
    assert t.tool_calls == [("end_interview", {"reason": "all questions covered"})]
    assert turn(language, "ok", tool_output("give_candidate_a_moment", {"paused_seconds": 60})).text == say(language, "pause")
    assert turn(language, "ok", tool_output("something_else", {})).text == say(language, "thanks")
    t = turn(language, "done", current_question=None)
    assert t.text == say(language, "done", name="Ana") and t.tool_calls == [("end_interview", {"reason": "all questions covered"})]


def test_english_time_left_is_unchanged() -> None:
    t = turn("en", "how much?", tool_output("time_remaining", {"seconds_left": 60, "questions_left": 1}))
    assert t.text == "We have about one minute left, with 1 question to go. Take your time."


def test_arabic_time_left_reads_the_counts() -> None:
    t = turn("ar", "?", tool_output("time_remaining", {"seconds_left": 120, "questions_left": 2}))
    assert t.text == "لدينا دقيقتان تقريبًا، وأمامنا سؤالان. يمكنك أخذ وقتك."
    t = turn("ar", "?", tool_output("time_remaining", {"seconds_left": 660, "questions_left": 11}))
    assert "11 دقيقة" in t.text and "11 سؤالاً" in t.text


# --- what the candidate asks -----------------------------------------------------------------------

ENGLISH_REQUESTS = {
    "repeat": "Could you repeat the question?",
    "rephrase": "I don't understand.",
    "time": "How much time is left?",
    "stop": "I want to stop the interview.",
    "moment": "Give me a moment.",
    "skip": "I don't know.",
}
REQUESTS = {
    "es": {
        "repeat": ["¿Puede repetir?", "Repita la pregunta, por favor.", "¿Podría repetir la pregunta?", "Perdón, no le escuché."],
        "rephrase": ["No entiendo.", "No entendí la pregunta.", "¿Qué quiere decir?", "¿Puede decirlo de otra manera?"],
        "time": ["¿Cuánto tiempo queda?", "¿Cuánto tiempo nos queda?", "cuanto tiempo tenemos?"],
        "stop": ["Quiero terminar.", "Quisiera terminar la entrevista.", "Lo siento, tengo que irme."],
        "moment": ["Deme un momento.", "Déjeme pensar.", "DÉJEME PENSAR", "Necesito un momento, por favor."],
        "skip": ["Siguiente pregunta.", "No sé.", "No lo sé, la verdad.", "Ni idea."],
    },
    "ar": {
        "repeat": ["أعد السؤال", "هل يمكنك التكرار؟", "هل يمكنك تكرار السؤال من فضلك؟", "اعد السؤال", "أَعِدِ السُّؤَالَ"],
        "rephrase": ["لم أفهم", "لم أفهم السؤال، هل يمكنك التكرار؟", "ماذا تقصد؟", "هل يمكنك طرحه بطريقة أخرى؟"],
        "time": ["كم من الوقت بقي؟", "كم بقي من الوقت؟", "كم تبقى من الوقت؟"],
        "stop": ["أريد إنهاء المقابلة", "أود إنهاء المقابلة الآن", "آسف، يجب أن أذهب"],
        "moment": ["أعطني لحظة", "دعني أفكر", "لحظة من فضلك"],
        "skip": ["السؤال التالي", "لننتقل إلى السؤال التالي", "والسؤال التالي؟", "لا أعرف", "لا أدري"],
    },
}


def expected(language: str, request: str) -> ScriptedTurn:
    """What the English request does, with the sentence in ``language``."""
    english = turn("en", ENGLISH_REQUESTS[request])
    question = QUESTIONS[0]["text"]
    text = {
        "repeat": say(language, "repeat", question=question),
        "rephrase": say(language, "rephrase", question=question),
        "stop": say(language, "stop", name="Ana"),
    }.get(request, "")
    return ScriptedTurn(text=text, tool_calls=english.tool_calls)


@pytest.mark.parametrize("language", ["es", "ar"])
@pytest.mark.parametrize("request_name", list(ENGLISH_REQUESTS))
def test_requests_in_the_language_do_what_the_english_ones_do(language: str, request_name: str) -> None:
    want = expected(language, request_name)
    assert want.tool_calls or want.text  # the English request is understood at all
    for words in REQUESTS[language][request_name]:
        assert turn(language, words) == want, words


@pytest.mark.parametrize("language", ["es", "ar"])
@pytest.mark.parametrize("request_name", list(ENGLISH_REQUESTS))
def test_english_requests_work_in_any_language(language: str, request_name: str) -> None:
    assert turn(language, ENGLISH_REQUESTS[request_name]) == expected(language, request_name)


def test_requests_of_one_language_do_not_leak_into_another() -> None:
    """Only the interview's language and English are matched: Arabic words in a Spanish interview are an answer."""
    assert turn("es", "أعد السؤال").tool_calls[0][0] == "ask_follow_up"
    assert turn("ar", "¿Puede repetir?").tool_calls[0][0] == "ask_follow_up"


@pytest.mark.parametrize(
    "answer",
    ["No se puede escalar sin colas.", "Lo que quiere decir que el servicio era lento.", "En un momento dado cambiamos el paso siguiente."],
)
def test_spanish_answers_that_only_look_like_requests(answer: str) -> None:
    t = turn("es", answer)
    assert t.text == "" and [name for name, _ in t.tool_calls] == ["ask_follow_up"]


def test_follow_ups_in_spanish_and_arabic_read_the_guidance_as_written() -> None:
    t = turn("es", "Construí un servicio de facturación.")
    assert t.tool_calls == [("ask_follow_up", {"follow_up_question": "Gracias. Una pregunta de seguimiento: Pregunte cuál fue su parte."})]
    t = turn("ar", "بنيت خدمة فوترة.")
    assert t.tool_calls == [("ask_follow_up", {"follow_up_question": "شكرًا لك. سؤال متابعة: Pregunte cuál fue su parte."})]
    no_guidance = dict(QUESTIONS[0], follow_up_guidance="")
    for language in ("es", "ar"):
        t = turn(language, "Una respuesta.", current_question=dict(note(language)["current_question"], **no_guidance))
        assert t.tool_calls == [("ask_follow_up", {"follow_up_question": say(language, "follow_up")})]
    # English still turns the guidance into a question
    english = dict(QUESTIONS[0], follow_up_guidance="Ask what their own part was.")
    t = turn("en", "An answer.", current_question=dict(note("en")["current_question"], **english))
    assert t.tool_calls == [
        ("ask_follow_up", {"follow_up_question": "Thank you. A follow-up on that: could you tell me what your own part was?"})
    ]


# --- whole turns through the Interviewer's tools ---------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def assistant_text(result: Any) -> str:
    texts = [ev.item.text_content for ev in result.events if getattr(ev, "type", "") == "message" and ev.item.role == "assistant"]
    return texts[-1] or "" if texts else ""


async def test_a_spanish_text_interview() -> None:
    clock = FakeClock()
    ti = await TextInterview.start(make_plan(language="es-MX"), llm_model=ScriptedLLM(), clock=clock)
    try:
        assert ti.greeting[0].startswith("Hola, Ana López") and "3 preguntas" in ti.greeting[0]
        clock.now += 120
        r = await ti.session.run(user_input="¿Cuánto tiempo nos queda?")
        r.expect.next_event().is_function_call(name="time_remaining")
        r.expect.next_event().is_function_call_output()
        assert assistant_text(r) == "Tenemos aproximadamente 13 minutos por delante y 3 preguntas por responder. Tómese su tiempo."
        r = await ti.session.run(user_input="No sé, siguiente pregunta.")
        r.expect.next_event().is_function_call(
            name="mark_question_covered", arguments={"question_id": "q1", "notes": "candidate skipped the question"}
        )
        assert assistant_text(r) == "Gracias. Pregunta 2: ¿Cómo encuentra la causa de un servicio lento?"
        r = await ti.session.run(user_input="Déjeme pensar.")
        r.expect.next_event().is_function_call(name="give_candidate_a_moment")
        assert assistant_text(r) == say("es", "pause")
        r = await ti.session.run(user_input="Lo siento, quiero terminar la entrevista.")
        r.expect.next_event().is_message(role="assistant")
        r.expect.next_event().is_function_call(name="end_interview", arguments={"reason": "candidate ended the interview"})
        assert ti.finished and ti.end_reason == "candidate ended the interview"
    finally:
        await ti.close()


async def test_an_arabic_text_interview() -> None:
    clock = FakeClock()
    ti = await TextInterview.start(make_plan(language="ar"), llm_model=ScriptedLLM(), clock=clock)
    try:
        assert "لدينا 3 أسئلة" in ti.greeting[0]
        r = await ti.session.run(user_input="هل يمكنك تكرار السؤال؟")
        r.expect.next_event().is_message(role="assistant")
        r.expect.no_more_events()
        assert assistant_text(r) == say("ar", "repeat", question=QUESTIONS[0]["text"])
        replies = await ti.candidate_idle()
        assert replies == [say("ar", "idle_reminder_question", name="Ana", question=QUESTIONS[0]["text"])]
        replies = await ti.candidate_idle()
        assert replies == [say("ar", "idle_end")]
        assert ti.finished and ti.end_reason == "candidate idle"
    finally:
        await ti.close()
