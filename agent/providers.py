"""STT, LLM, TTS, VAD and turn detection from settings. The rest of the agent knows no vendor.

- LLM: ``scripted`` (deterministic, no keys) or ``openai`` (any OpenAI-compatible server via
  ``OPENAI_BASE_URL``: OpenAI, vLLM, Ollama, LM Studio, OpenRouter, ...).
- STT: ``openai`` (OpenAI-compatible ``/audio/transcriptions``; ``STT_BASE_URL``) or ``deepgram``.
- TTS: ``openai`` (OpenAI-compatible ``/audio/speech``; ``TTS_BASE_URL``).
- VAD: Silero (ships in its wheel). End of turn: :class:`TranscriptTurnDetector` (the words the
  candidate said last, English) on top of VAD + endpointing delays; VAD + delays alone otherwise.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from livekit.agents import TurnHandlingOptions, llm, stt, tts, vad
from livekit.agents.language import LanguageCode

from agent.scripted import ScriptedLLM
from interview_app.settings import Settings, get_settings

logger = logging.getLogger("agent.providers")

_OPENAI_DEFAULT_STT_MODEL = Settings.stt_model


def build_llm(settings: Settings | None = None) -> llm.LLM:
    settings = settings or get_settings()
    if settings.llm_provider == "scripted":
        return ScriptedLLM()
    from livekit.plugins import openai

    settings.require("OPENAI_API_KEY")
    kwargs: dict[str, Any] = {"model": settings.llm_model, "api_key": settings.openai_api_key}
    if settings.openai_base_url:
        kwargs["base_url"] = settings.openai_base_url
    return openai.LLM(**kwargs)


def build_stt(settings: Settings | None = None, *, language: str = "en") -> stt.STT:
    settings = settings or get_settings()
    if settings.stt_provider == "deepgram":
        from livekit.plugins import deepgram

        settings.require("DEEPGRAM_API_KEY")
        model = settings.stt_model if settings.stt_model != _OPENAI_DEFAULT_STT_MODEL else "nova-3"
        return deepgram.STT(model=model, language=language, api_key=settings.deepgram_api_key)
    from livekit.plugins import openai

    settings.require("OPENAI_API_KEY")
    base_url = settings.stt_base_url or settings.openai_base_url
    kwargs: dict[str, Any] = {"model": settings.stt_model, "language": language, "api_key": settings.openai_api_key}
    if base_url:
        kwargs["base_url"] = base_url
    return openai.STT(**kwargs)


def build_tts(settings: Settings | None = None) -> tts.TTS:
    settings = settings or get_settings()
    from livekit.plugins import openai

    settings.require("OPENAI_API_KEY")
    base_url = settings.tts_base_url or settings.openai_base_url
    kwargs: dict[str, Any] = {
        "model": settings.tts_model,
        "voice": settings.tts_voice,
        "speed": settings.tts_speed,
        "api_key": settings.openai_api_key,
    }
    if base_url:
        kwargs["base_url"] = base_url
    return openai.TTS(**kwargs)


def build_vad() -> vad.VAD:
    """Silero VAD; loading takes a moment, so the worker does it once per process (prewarm)."""
    from livekit.plugins import silero

    return silero.VAD.load()


# End of turn ------------------------------------------------------------------------------------
#
# Why not livekit-agents' ``inference.TurnDetector(version="v1-mini")``: in 1.8.9 it is an *audio*
# model (``livekit.local_inference.EOT``: the last 1.2 s of PCM, predicted once the VAD has seen
# 200 ms of silence); it never sees the transcript, so STT punctuation or language cannot help it.
# Its threshold for English is 0.36 and a probability below it makes the session wait
# ``max_delay`` instead of ``min_delay``. Measured on espeak-ng answers (72 complete, 72 unfinished,
# 200 ms of silence): complete answers scored median 0.27, only 17 % reached 0.36 (the room saw
# 1 turn in 6 at min_delay); unfinished ones median 0.18. No threshold separates them (keeping 86 %
# of complete answers at min_delay lets 36 % of mid-thought pauses through), and every miss costs
# the candidate ENDPOINTING_MAX_DELAY (6 s). The transcript does separate them: a sentence does
# not end on "the", "and", "because", "was", ... and it is there before min_delay runs out (the
# non-streaming STT's final transcript came 0.6-0.7 s after the end of speech, min_delay is 0.8 s).

# No complete English sentence ends on these: an answer that does is mid-thought, whatever the STT's punctuation.
_EN_NEVER_LAST = frozenset(
    "a an the my our your their its every and but or nor because although whereas unless than "
    "um uh uhm erm er "
    "i'm it's that's there's what's we're they're you're he's she's i've we've they've you've i'd we'd they'd i'll we'll they'll".split()
)
# These end a sentence only sometimes ("that's what it was.", "where are you from?"): mid-thought
# unless the STT closed the sentence with . ! or ? (PocketSphinx-like STTs never punctuate: then mid-thought).
_EN_RARELY_LAST = frozenset(
    "of to in on at for with from by about into onto over under through between like as via per during without towards toward "
    "is was are were am be been being "
    "that which who whose where when while since so whether if then "
    "i we they he she".split()
)
_CONTINUES = re.compile(r"(,|;|:|-|\u2013|\u2014|\.\.\.|\u2026)$")  # "was," / "was -" / "was..." (Whisper's trailing off)
_CLOSED = re.compile(r"[.!?]$")
_WORD = re.compile(r"[a-z']+")
_SUPPORTED_LANGUAGES = {"en"}


def end_of_turn_probability(text: str) -> float:
    """How likely ``text`` (the candidate's words since the last reply) is a finished answer.

    0.05 for a dangling word or trailing comma/dash/ellipsis, 0.15 for a word that rarely ends a
    sentence with no closing punctuation, 0.9 otherwise (0.6 for a rarely-last word the STT
    closed with ``.``/``!``/``?``). The detector's threshold is 0.5.
    """
    stripped = text.strip().replace("\u2019", "'").lower()
    words = _WORD.findall(stripped)
    if not words:
        return 1.0
    last = words[-1].strip("'")
    if _CONTINUES.search(stripped) or last in _EN_NEVER_LAST:
        return 0.05
    if last in _EN_RARELY_LAST:
        return 0.6 if _CLOSED.search(stripped) else 0.15
    return 0.9


class TranscriptTurnDetector:
    """End of turn from the candidate's last words (livekit-agents' text ``_TurnDetector`` protocol).

    livekit-agents calls it with the chat context once the final transcript of the turn is in
    (``trigger="stt"``): below :attr:`UNLIKELY_THRESHOLD` the session waits the endpointing
    ``max_delay`` for the rest of the sentence, otherwise ``min_delay``. Resumed speech cancels the
    wait, and the next prediction sees the whole answer so far. English only: for a reported
    language it has no word lists for, ``supports_language`` is False and the session uses
    ``min_delay`` (VAD endpointing).
    """

    UNLIKELY_THRESHOLD = 0.5

    def __init__(self, language: str = "en") -> None:
        self._language = LanguageCode(language or "en")

    @property
    def model(self) -> str:
        return "transcript-end-of-turn"

    @property
    def provider(self) -> str:
        return "agent"

    def _lang(self, language: LanguageCode | None) -> str:
        return (language or self._language).language  # the STT may report none: the interview's language

    async def supports_language(self, language: LanguageCode | None) -> bool:
        return self._lang(language) in _SUPPORTED_LANGUAGES

    async def unlikely_threshold(self, language: LanguageCode | None) -> float | None:
        return self.UNLIKELY_THRESHOLD if self._lang(language) in _SUPPORTED_LANGUAGES else None

    async def predict_end_of_turn(self, chat_ctx: llm.ChatContext, *, timeout: float | None = None) -> float:
        for item in reversed(chat_ctx.items):
            if item.type == "message" and item.role == "user":
                return end_of_turn_probability(item.text_content or "")
        return 1.0


def build_turn_detector(language: str = "en") -> TranscriptTurnDetector | None:
    """The end-of-turn detector for an interview in ``language``, or None (VAD + endpointing delays only).

    Deliberately not livekit's bundled ``v1-mini`` audio model: see the note above
    :data:`_EN_NEVER_LAST` (it held 5 of 6 complete answers for the whole ``max_delay``).
    """
    code = LanguageCode(language or "en")
    if code.language not in _SUPPORTED_LANGUAGES:
        logger.info("no end-of-turn word lists for language %r; ending turns on VAD + ENDPOINTING_MIN_DELAY", language)
        return None
    return TranscriptTurnDetector(code)


def check_voice_settings(settings: Settings | None = None) -> None:
    """Raise ConfigError (one line naming the key) when the voice pipeline lacks a setting."""
    settings = settings or get_settings()
    settings.require_livekit()
    if settings.llm_provider == "openai" or settings.stt_provider == "openai" or settings.tts_provider == "openai":
        settings.require("OPENAI_API_KEY")
    if settings.stt_provider == "deepgram":
        settings.require("DEEPGRAM_API_KEY")


def turn_handling(settings: Settings | None = None, *, turn_detector: Any | None = None) -> TurnHandlingOptions:
    """Interview-tuned endpointing: ``min_delay`` after a finished answer, ``max_delay`` when the detector
    says the candidate stopped mid-thought (``turn_detector`` None: VAD + ``min_delay`` only)."""
    settings = settings or get_settings()
    options: TurnHandlingOptions = {
        "endpointing": {
            "min_delay": settings.endpointing_min_delay,
            "max_delay": max(settings.endpointing_max_delay, settings.endpointing_min_delay),
        }
    }
    # Always explicit: without the key livekit-agents 1.8 builds its default ``inference.TurnDetector()``
    # (the v1-mini audio model, or the cloud v1 under ``agent dev``) instead of VAD endpointing.
    options["turn_detection"] = turn_detector
    return options
