"""A deterministic LLM that walks the interview plan: no keys, no network.

It is the embedded default interviewer and the test double. It reads what a
real model would read — the chat context, including the Interviewer's state note
(:data:`agent.interviewer.STATE_NOTE_PREFIX`) — and answers with text and tool
calls, so the Interviewer's function tools run for real.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from livekit.agents import llm
from livekit.agents.llm import ChatChunk, ChoiceDelta, FunctionToolCall
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr
from livekit.agents.utils import shortuuid

from agent.interviewer import STATE_NOTE_PREFIX

#: The phrase table for a plan language that has none of its own (the scripted interviewer speaks en, es, ar).
DEFAULT_LANGUAGE = "en"

#: Every sentence the scripted interviewer says, per language: phrase name → format string.
#: Each language has the English phrase names with the same ``{placeholders}``
#: (tests/agent/test_scripted_languages.py). ``{minutes}`` and ``{questions}`` are counts already
#: in words (:data:`COUNTS`). Spanish addresses the candidate as "usted"; Arabic is Modern Standard
#: Arabic, written so that it reads the same for a man or a woman (no gendered verb forms).
PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "hello": "Hello {name}, thank you for joining. I'm your interviewer for the {role} role.",
        "hello_org": "Hello {name}, thank you for joining. I'm your interviewer for the {role} role at {org}.",
        "hello_prefix": "Hello {name}. {greeting}",
        "intro": (
            "{hello} Here is how this works: I will ask you {questions}, "
            "sometimes with a short follow-up, and we have about {minutes}. "
            "Take your time to think before you answer. You can ask me to repeat a question, or how much time is left, at any point. "
            "Let's begin. Question 1: {question}"
        ),
        "idle_reminder": "{name}, are you still there? There is no rush, take your time.",
        "idle_reminder_question": "{name}, are you still there? There is no rush, take your time. The question was: {question}",
        "idle_end": (
            "It seems you have stepped away, so I will end the interview here. Thank you for your time; the hiring team will be in touch."
        ),
        "pause": "Of course, take your time. I will wait until you are ready.",
        "time_up": (
            "We have reached the end of our time, {name}. Thank you very much for your answers; "
            "the hiring team will be in touch with next steps."
        ),
        "follow_up": "Thank you. Could you give me a concrete example of that?",
        "follow_up_guided": "Thank you. A follow-up on that: could you tell me {guidance}?",
        "next_question": "Thank you. Question {number}: {question}",
        "last_question": (
            "Thank you, {name}, that was the last question. The hiring team will review the interview and get back to you. Goodbye!"
        ),
        "done": "Thank you, {name}. We are done; the hiring team will be in touch.",
        "stop": "Of course, {name}. Thank you for your time; we will end the interview here and the hiring team will be in touch.",
        "rephrase": "Let me put it another way. {question} There is no single right answer.",
        "repeat": "Of course. The question is: {question}",
        "time_left": "We have about {minutes} left, with {questions} to go. Take your time.",
        "thanks": "Thank you.",
        "take_your_time": "Please take your time.",
    },
    "es": {
        "hello": "Hola, {name}, gracias por acompañarnos. Seré quien le entreviste para el puesto de {role}.",
        "hello_org": "Hola, {name}, gracias por acompañarnos. Seré quien le entreviste para el puesto de {role} en {org}.",
        "hello_prefix": "Hola, {name}. {greeting}",
        "intro": (
            "{hello} Así es como funciona: le haré {questions}, a veces con una breve pregunta de seguimiento, "
            "y tenemos aproximadamente {minutes}. Tómese su tiempo para pensar antes de responder. "
            "En cualquier momento puede pedirme que repita una pregunta o preguntarme cuánto tiempo queda. "
            "Comencemos. Pregunta 1: {question}"
        ),
        "idle_reminder": "{name}, ¿sigue ahí? No hay prisa, tómese su tiempo.",
        "idle_reminder_question": "{name}, ¿sigue ahí? No hay prisa, tómese su tiempo. La pregunta era: {question}",
        "idle_end": (
            "Parece que se ha ausentado, así que terminaré la entrevista aquí. Gracias por su tiempo; "
            "el equipo de selección se pondrá en contacto con usted."
        ),
        "pause": "Por supuesto, tómese su tiempo. Esperaré hasta que quiera continuar.",
        "time_up": (
            "Hemos llegado al final de nuestro tiempo, {name}. Muchas gracias por sus respuestas; "
            "el equipo de selección se pondrá en contacto con usted para los próximos pasos."
        ),
        "follow_up": "Gracias. ¿Podría darme un ejemplo concreto de eso?",
        "follow_up_guided": "Gracias. Una pregunta de seguimiento: {guidance}",
        "next_question": "Gracias. Pregunta {number}: {question}",
        "last_question": (
            "Gracias, {name}, esa fue la última pregunta. El equipo de selección revisará la entrevista "
            "y se pondrá en contacto con usted. ¡Hasta luego!"
        ),
        "done": "Gracias, {name}. Hemos terminado; el equipo de selección se pondrá en contacto con usted.",
        "stop": (
            "Por supuesto, {name}. Gracias por su tiempo; terminaremos la entrevista aquí "
            "y el equipo de selección se pondrá en contacto con usted."
        ),
        "rephrase": "Permítame decirlo de otra manera. {question} No hay una única respuesta correcta.",
        "repeat": "Por supuesto. La pregunta es: {question}",
        "time_left": "Tenemos aproximadamente {minutes} por delante y {questions} por responder. Tómese su tiempo.",
        "thanks": "Gracias.",
        "take_your_time": "Tómese su tiempo, por favor.",
    },
    "ar": {
        "hello": "مرحبًا {name}، شكرًا لانضمامك. سأجري معك المقابلة لوظيفة {role}.",
        "hello_org": "مرحبًا {name}، شكرًا لانضمامك. سأجري معك المقابلة لوظيفة {role} في {org}.",
        "hello_prefix": "مرحبًا {name}. {greeting}",
        "intro": (
            "{hello} إليك طريقة سير المقابلة: لدينا {questions}، وقد أطرح أحيانًا سؤال متابعة قصيرًا، "
            "ومدة المقابلة {minutes} تقريبًا. يمكنك أخذ وقتك في التفكير قبل الإجابة. "
            "ويمكنك في أي وقت طلب إعادة السؤال أو السؤال عن الوقت المتبقي. "
            "لنبدأ. السؤال 1: {question}"
        ),
        "idle_reminder": "{name}، هل ما زلت معنا؟ لا داعي للعجلة، يمكنك أخذ وقتك.",
        "idle_reminder_question": "{name}، هل ما زلت معنا؟ لا داعي للعجلة، يمكنك أخذ وقتك. كان السؤال: {question}",
        "idle_end": "يبدو أنك ابتعدت، لذلك سأنهي المقابلة هنا. شكرًا لك على وقتك؛ وسيتواصل معك فريق التوظيف.",
        "pause": "بالتأكيد، يمكنك أخذ وقتك. سأنتظر إلى حين استعدادك.",
        "time_up": "لقد وصلنا إلى نهاية الوقت المخصص، {name}. شكرًا جزيلًا لك على إجاباتك؛ وسيتواصل معك فريق التوظيف بشأن الخطوات التالية.",
        "follow_up": "شكرًا لك. هل يمكنك إعطائي مثالًا ملموسًا على ذلك؟",
        "follow_up_guided": "شكرًا لك. سؤال متابعة: {guidance}",
        "next_question": "شكرًا لك. السؤال {number}: {question}",
        "last_question": "شكرًا لك، {name}، كان هذا السؤال الأخير. سيراجع فريق التوظيف المقابلة ويتواصل معك. مع السلامة!",
        "done": "شكرًا لك، {name}. لقد انتهينا؛ وسيتواصل معك فريق التوظيف.",
        "stop": "بالتأكيد، {name}. شكرًا لك على وقتك؛ سننهي المقابلة هنا وسيتواصل معك فريق التوظيف.",
        "rephrase": "سأطرح السؤال بطريقة أخرى. {question} لا توجد إجابة واحدة صحيحة.",
        "repeat": "بالتأكيد. السؤال هو: {question}",
        "time_left": "لدينا {minutes} تقريبًا، وأمامنا {questions}. يمكنك أخذ وقتك.",
        "thanks": "شكرًا لك.",
        "take_your_time": "لا داعي للعجلة، يمكنك أخذ وقتك.",
    },
}


def _minutes_en(n: int) -> str:
    return "one minute" if n == 1 else f"{n} minutes"


def _questions_en(n: int) -> str:
    return f"{n} question{'s' if n != 1 else ''}"


def _minutes_es(n: int) -> str:
    return "un minuto" if n == 1 else f"{n} minutos"


def _questions_es(n: int) -> str:
    return "una pregunta" if n == 1 else f"{n} preguntas"


def _arabic_count(n: int, one: str, two: str, few: str, many: str, other: str) -> str:
    """An Arabic count in the nominative (the phrases put counts where it is the subject or predicate).

    1 and 2 are the noun alone ("one minute", the dual); 3–10 take the plural, 11–99 the singular
    (accusative, tamyiz); from 100, the last two digits decide (CLDR plural rules: 100, 101, 102 take
    the singular genitive). 0 takes the plural.
    """
    if n == 1:
        return one
    if n == 2:
        return two
    rest = n % 100
    if n == 0 or 3 <= rest <= 10:
        return f"{n} {few}"
    if rest >= 11:
        return f"{n} {many}"
    return f"{n} {other}"


def _minutes_ar(n: int) -> str:
    return _arabic_count(n, "دقيقة واحدة", "دقيقتان", "دقائق", "دقيقة", "دقيقة")


def _questions_ar(n: int) -> str:
    return _arabic_count(n, "سؤال واحد", "سؤالان", "أسئلة", "سؤالاً", "سؤال")


#: Per language: (minutes in words, questions in words) for a count.
COUNTS: dict[str, tuple[Callable[[int], str], Callable[[int], str]]] = {
    "en": (_minutes_en, _questions_en),
    "es": (_minutes_es, _questions_es),
    "ar": (_minutes_ar, _questions_ar),
}


def scripted_language(language: str | None) -> str:
    """The phrase table for a plan's language code: ``"es-MX"`` → ``"es"``; unknown or empty → English."""
    code = re.split(r"[-_]", (language or "").strip().lower(), maxsplit=1)[0]
    return code if code in PHRASES else DEFAULT_LANGUAGE


def say(language: str | None, phrase: str, **values: object) -> str:
    """One sentence of the scripted interviewer in ``language`` (see :data:`PHRASES`)."""
    return PHRASES[scripted_language(language)][phrase].format(**values)


def minutes_text(language: str | None, seconds: float) -> str:
    """About how many minutes ``seconds`` are, in words ("one minute", "13 minutes"; at least one)."""
    return COUNTS[scripted_language(language)][0](max(1, round(seconds / 60)))


def questions_text(language: str | None, count: int) -> str:
    """A number of questions in words ("1 question", "3 questions")."""
    return COUNTS[scripted_language(language)][1](count)


# Candidate requests the scripted interviewer understands, per language (a real LLM handles the rest).
# A candidate is understood in the interview's language and in English. Phrases are matched as whole
# words after :func:`_normalize` (write them lowercase; Arabic with or without diacritics). Spanish
# accents count ("no sé" is a request, "no se puede" is not; "qué quiere decir" is, "lo que quiere
# decir" is not), so a few unambiguous phrases are listed also without them, as candidates type them.
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

REQUESTS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {"repeat": _REPEAT, "rephrase": _REPHRASE, "time": _TIME, "stop": _STOP, "moment": _MOMENT, "skip": _SKIP},
    "es": {
        "repeat": (
            "puede repetir",
            "podría repetir",
            "podria repetir",
            "puedes repetir",
            "podrías repetir",
            "podrias repetir",
            "repita la pregunta",
            "repite la pregunta",
            "repetir la pregunta",
            "repítame la pregunta",
            "repitame la pregunta",
            "repítala",
            "repítalo",
            "repita, por favor",
            "repita por favor",
            "otra vez, por favor",
            "no le escuché",
            "no lo escuché",
            "no la escuché",
            "no escuché",
            "no le oí",
            "no oí",
        ),
        "rephrase": (
            "no entiendo",
            "no entendí",
            "no entendi",
            "no he entendido",
            "no comprendo",
            "no lo entiendo",
            "no la entiendo",
            "qué quiere decir",
            "a qué se refiere",
            "de otra manera",
            "de otra forma",
            "con otras palabras",
            "reformular",
            "reformule",
            "aclarar la pregunta",
            "aclare la pregunta",
        ),
        "time": (
            "cuánto tiempo queda",
            "cuánto tiempo nos queda",
            "cuánto tiempo me queda",
            "cuánto tiempo tenemos",
            "cuánto tiempo falta",
            "cuánto falta",
            "cuantos minutos",
            "cuanto tiempo queda",
            "cuanto tiempo nos queda",
            "cuanto tiempo me queda",
            "cuanto tiempo tenemos",
            "cuanto tiempo falta",
            "tiempo restante",
            "cuántos minutos",
            "queda mucho tiempo",
        ),
        "stop": (
            "quiero terminar",
            "quisiera terminar",
            "terminar la entrevista",
            "terminemos la entrevista",
            "finalizar la entrevista",
            "detener la entrevista",
            "acabar la entrevista",
            "quiero parar",
            "quisiera parar",
            "tengo que irme",
            "me tengo que ir",
            "necesito irme",
        ),
        "moment": (
            "deme un momento",
            "dame un momento",
            "deme un minuto",
            "dame un minuto",
            "deme un segundo",
            "dame un segundo",
            "necesito un momento",
            "necesito un minuto",
            "un momento, por favor",
            "un momento por favor",
            "un momentito",
            "espere un momento",
            "espera un momento",
            "déjeme pensar",
            "déjame pensar",
            "dejeme pensar",
            "dejame pensar",
            "permítame pensar",
            "tengo que pensarlo",
        ),
        "skip": (
            "siguiente pregunta",
            "próxima pregunta",
            "proxima pregunta",
            "pasemos a la siguiente",
            "pasar a la siguiente",
            "saltar esta pregunta",
            "saltar la pregunta",
            "saltemos esta",
            "paso de esta pregunta",
            "no sé",
            "no lo sé",
            "ni idea",
            "no tengo idea",
            "no tengo ni idea",
        ),
    },
    "ar": {
        "repeat": (
            "أعد السؤال",
            "أعد لي السؤال",
            "أعد ما قلت",
            "أعد من فضلك",
            "أعده",
            "أعيد السؤال",
            "كرر السؤال",
            "كرر من فضلك",
            "يمكنك التكرار",
            "يمكنك تكرار",
            "يمكنك إعادة",
            "تكرار السؤال",
            "إعادة السؤال",
            "لم أسمع",
            "لم أسمعك",
            "لم أسمع جيدا",
            "مرة أخرى من فضلك",
        ),
        "rephrase": (
            "لم أفهم",
            "لا أفهم",
            "ما فهمت",
            "لم أستوعب",
            "ماذا تقصد",
            "ما المقصود",
            "ما معنى السؤال",
            "بطريقة أخرى",
            "بصيغة أخرى",
            "أعد صياغة",
            "إعادة صياغة",
            "وضح السؤال",
            "توضيح السؤال",
        ),
        "time": (
            "كم من الوقت بقي",
            "كم من الوقت تبقى",
            "كم من الوقت متبقي",
            "كم من الوقت لدينا",
            "كم بقي من الوقت",
            "كم تبقى من الوقت",
            "كم الوقت المتبقي",
            "الوقت المتبقي",
            "كم دقيقة",
        ),
        "stop": (
            "أريد إنهاء المقابلة",
            "أود إنهاء المقابلة",
            "إنهاء المقابلة",
            "أوقف المقابلة",
            "إيقاف المقابلة",
            "أريد التوقف",
            "أريد أن أتوقف",
            "لنتوقف",
            "يجب أن أذهب",
            "علي أن أذهب",
            "علي الذهاب",
            "يجب أن أغادر",
            "علي المغادرة",
        ),
        "moment": (
            "أعطني لحظة",
            "أعطني دقيقة",
            "أعطني ثانية",
            "امنحني لحظة",
            "امنحني دقيقة",
            "لحظة من فضلك",
            "لحظة واحدة",
            "دعني أفكر",
            "اسمح لي أن أفكر",
            "أحتاج لحظة",
            "أحتاج إلى لحظة",
            "أحتاج دقيقة",
            "انتظر لحظة",
            "أمهلني",
        ),
        "skip": (
            "السؤال التالي",
            "تخط هذا السؤال",
            "تخطي هذا السؤال",
            "تخطي السؤال",
            "تجاوز هذا السؤال",
            "تجاوز السؤال",
            "لننتقل",
            "لا أعرف",
            "لا أدري",
            "لا أعلم",
            "ليس لدي فكرة",
            "ليست لدي فكرة",
        ),
    },
}

_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")  # harakat, Quranic marks, tatweel
_ARABIC_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "’": "'", "‘": "'"})


def _normalize(text: str) -> str:
    """Text as the request matchers compare it: casefolded; Arabic without diacritics or tatweel,
    with one alef, ى as ي and ة as ه (speech-to-text writes them either way); curly apostrophes straight.
    Spanish accents stay ("no sé" is a request, "no se" is not)."""
    return _ARABIC_MARKS.sub("", unicodedata.normalize("NFC", text).casefold()).translate(_ARABIC_LETTERS)


def _pattern(phrase: str) -> str:
    # Arabic writes "and"/"so" (و, ف) joined to the next word: "والسؤال التالي" is "and the next question".
    prefix = "[وف]?" if re.match("[\u0600-\u06ff]", phrase) else ""
    return rf"(?<![\w']){prefix}{re.escape(phrase)}(?![\w'])"


def _has(text: str, phrases: tuple[str, ...]) -> bool:
    text = _normalize(text)
    return any(re.search(_pattern(_normalize(p)), text) for p in phrases)


def _asks(text: str, request: str, language: str) -> bool:
    """Whether the candidate's words make ``request`` ("repeat", "time", …) in the interview's language or in English."""
    languages = dict.fromkeys((scripted_language(language), DEFAULT_LANGUAGE))
    return any(_has(text, REQUESTS[lang][request]) for lang in languages)


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


def greeting_text(state: dict[str, Any]) -> str:
    """The scripted greeting for an interview state note (also used by tests to time the spoken greeting),
    in the note's ``language`` (English when it has none)."""
    lang = scripted_language(state.get("language"))
    name, role, org = state["candidate_name"], state["role_title"], state.get("org_name") or ""
    template = (state.get("greeting") or "").strip()
    if template:
        values = defaultdict(str, candidate_name=name, name=name, role_title=role, role=role, org_name=org)
        hello = template.format_map(values) if "{" in template else template
        if name.split()[0].lower() not in hello.lower():
            hello = say(lang, "hello_prefix", name=name, greeting=hello)
    else:
        hello = say(lang, "hello_org", name=name, role=role, org=org) if org else say(lang, "hello", name=name, role=role)
    return say(
        lang,
        "intro",
        hello=hello,
        questions=questions_text(lang, state["question_count"]),
        minutes=minutes_text(lang, state["duration_limit_seconds"]),
        question=state["current_question"]["text"],
    )


def _follow_up(question: dict[str, Any], answer: str, language: str = DEFAULT_LANGUAGE) -> str:
    lang = scripted_language(language)
    guidance = (question.get("follow_up_guidance") or "").strip()
    if not guidance:
        return say(lang, "follow_up")
    if lang != "en":  # guidance is read as the template wrote it: only English is turned into a question
        return say(lang, "follow_up_guided", guidance=guidance)
    guidance = re.sub(r"^(ask|find out|probe)\s+(them\s+|the candidate\s+)?", "", guidance.rstrip("."), flags=re.I)
    for third, second in ((r"\btheir\b", "your"), (r"\bthey\b", "you"), (r"\bthem\b", "you")):
        guidance = re.sub(third, second, guidance)
    return say(lang, "follow_up_guided", guidance=guidance)


def next_turn(chat_ctx: llm.ChatContext) -> ScriptedTurn:
    """Decide the next step of the interview from the chat context alone (speaking the state note's language)."""
    state = _state(chat_ctx)
    if state is None:
        return ScriptedTurn(text=say(DEFAULT_LANGUAGE, "thanks"))
    lang = scripted_language(state.get("language"))
    question = state.get("current_question")
    event = state.get("event")
    name = state["candidate_name"].split()[0]

    if event == "greeting":
        return ScriptedTurn(text=greeting_text(state))
    if event == "idle_reminder":
        if question:
            return ScriptedTurn(text=say(lang, "idle_reminder_question", name=name, question=question["text"]))
        return ScriptedTurn(text=say(lang, "idle_reminder", name=name))
    if event == "idle_end":
        return ScriptedTurn(text=say(lang, "idle_end"), tool_calls=[("end_interview", {"reason": "candidate idle"})])
    if event == "pause":
        return ScriptedTurn(text=say(lang, "pause"))
    if event == "time_up":
        return ScriptedTurn(text=say(lang, "time_up", name=name), tool_calls=[("end_interview", {"reason": "time limit reached"})])

    last = _last_turn(chat_ctx)
    if last is None:
        return ScriptedTurn(text=greeting_text(state))

    if last.type == "function_call_output":
        output = json.loads(last.output) if last.output.startswith("{") else {}
        if last.name == "ask_follow_up":
            if output.get("approved"):
                return ScriptedTurn(text=output["follow_up_question"])
            answer = _last_candidate_text(chat_ctx)
            assert question is not None, "a follow-up is asked about the current question"
            return ScriptedTurn(tool_calls=[("mark_question_covered", {"question_id": question["id"], "notes": answer[:300]})])
        if last.name == "mark_question_covered":
            if output.get("all_questions_covered"):
                return ScriptedTurn(
                    text=say(lang, "last_question", name=name), tool_calls=[("end_interview", {"reason": "all questions covered"})]
                )
            nxt = output["next_question"]
            return ScriptedTurn(text=say(lang, "next_question", number=nxt["number"], question=nxt["text"]))
        if last.name == "give_candidate_a_moment":
            return ScriptedTurn(text=say(lang, "pause"))
        if last.name == "time_remaining":
            left = minutes_text(lang, output.get("seconds_left", 0))
            return ScriptedTurn(text=say(lang, "time_left", minutes=left, questions=questions_text(lang, output.get("questions_left", 0))))
        return ScriptedTurn(text=say(lang, "thanks"))

    if last.type == "message" and last.role == "user":
        said = (last.text_content or "").strip().lower()
        if question is None:
            return ScriptedTurn(text=say(lang, "done", name=name), tool_calls=[("end_interview", {"reason": "all questions covered"})])
        if _asks(said, "stop", lang):
            return ScriptedTurn(
                text=say(lang, "stop", name=name), tool_calls=[("end_interview", {"reason": "candidate ended the interview"})]
            )
        if _asks(said, "moment", lang):
            return ScriptedTurn(tool_calls=[("give_candidate_a_moment", {"seconds": 60})])
        if _asks(said, "time", lang):
            return ScriptedTurn(tool_calls=[("time_remaining", {})])
        if _asks(said, "rephrase", lang):
            return ScriptedTurn(text=say(lang, "rephrase", question=question["text"]))
        if _asks(said, "repeat", lang):
            return ScriptedTurn(text=say(lang, "repeat", question=question["text"]))
        if _asks(said, "skip", lang):
            return ScriptedTurn(
                tool_calls=[("mark_question_covered", {"question_id": question["id"], "notes": "candidate skipped the question"})]
            )
        if state.get("follow_up_allowed"):
            return ScriptedTurn(tool_calls=[("ask_follow_up", {"follow_up_question": _follow_up(question, said, lang)})])
        return ScriptedTurn(tool_calls=[("mark_question_covered", {"question_id": question["id"], "notes": said[:300]})])

    return ScriptedTurn(text=say(lang, "take_your_time"))


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
