"""STT, LLM, TTS, VAD and turn detection from settings. The rest of the agent knows no vendor.

- LLM: ``scripted`` (deterministic, no keys) or ``openai`` (any OpenAI-compatible server via
  ``OPENAI_BASE_URL``: OpenAI, vLLM, Ollama, LM Studio, OpenRouter, ...).
- STT: ``openai`` (OpenAI-compatible ``/audio/transcriptions``; ``STT_BASE_URL``) or ``deepgram``.
- TTS: ``openai`` (OpenAI-compatible ``/audio/speech``; ``TTS_BASE_URL``).
- VAD: Silero (ships in its wheel). End of turn: the bundled offline ``v1-mini`` turn detector
  from livekit-local-inference when it loads, otherwise VAD + endpointing delays.
"""

from __future__ import annotations

import logging
from typing import Any

from livekit.agents import llm, stt, tts, vad

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
    kwargs: dict[str, Any] = {"model": settings.tts_model, "voice": settings.tts_voice, "api_key": settings.openai_api_key}
    if base_url:
        kwargs["base_url"] = base_url
    return openai.TTS(**kwargs)


def build_vad() -> vad.VAD:
    """Silero VAD; loading takes a moment, so the worker does it once per process (prewarm)."""
    from livekit.plugins import silero

    return silero.VAD.load()


def build_turn_detector() -> Any | None:
    """The offline end-of-turn model (``v1-mini`` in livekit-local-inference), or None when unavailable."""
    try:
        from livekit.agents.inference import TurnDetector

        return TurnDetector(version="v1-mini")
    except Exception as err:  # noqa: BLE001 - optional: fall back to VAD endpointing
        logger.warning("offline turn detector unavailable (%s); using VAD endpointing only", err)
        return None


def check_voice_settings(settings: Settings | None = None) -> None:
    """Raise ConfigError (one line naming the key) when the voice pipeline lacks a setting."""
    settings = settings or get_settings()
    settings.require_livekit()
    if settings.llm_provider == "openai" or settings.stt_provider == "openai" or settings.tts_provider == "openai":
        settings.require("OPENAI_API_KEY")
    if settings.stt_provider == "deepgram":
        settings.require("DEEPGRAM_API_KEY")


def turn_handling(settings: Settings | None = None, *, turn_detector: Any | None = None) -> dict[str, Any]:
    """Interview-tuned endpointing: candidates pause to think, so wait longer than a chat bot."""
    settings = settings or get_settings()
    options: dict[str, Any] = {
        "endpointing": {
            "min_delay": settings.endpointing_min_delay,
            "max_delay": max(settings.endpointing_max_delay, settings.endpointing_min_delay),
        }
    }
    if turn_detector is not None:
        options["turn_detection"] = turn_detector
    return options
