"""The candidate pages' sentences in several languages (a message catalogue; no reflex import).

Every sentence a candidate reads comes from here: ``t(lang, key, **values)`` for one sentence,
``catalogue(lang, **values)`` for all of them at once (the candidate page keeps the result in
state and its components read ``CandidateState.t["key"]``). A language is *complete* when its
catalogue has every English key with the same ``{placeholders}`` (tests/candidate/test_i18n.py).
Placeholders the browser fills in (``{i}``, ``{n}``, ``{time}``) stay in the text.

Adding a language: copy ``en.py`` to ``<code>.py``, translate the values, add the code to
``CATALOGUES`` below (and to ``RTL`` if it is written right to left).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping

from interview_app.i18n import ar, en, es

DEFAULT = "en"
#: Languages whose candidate pages are complete.
CATALOGUES: dict[str, Mapping[str, str]] = {"en": en.MESSAGES, "es": es.MESSAGES, "ar": ar.MESSAGES}
#: Languages written right to left (the page gets ``dir="rtl"``).
RTL = frozenset({"ar", "fa", "he", "ur"})
#: Languages a template may offer, by code, in their own name. The interviewer (an LLM) speaks
#: any of them; the candidate pages of a language without a catalogue are shown in English.
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "es": "Español",
    "ar": "العربية",
    "de": "Deutsch",
    "fr": "Français",
    "it": "Italiano",
    "nl": "Nederlands",
    "pt": "Português",
    "pl": "Polski",
    "sv": "Svenska",
}


def page_language(language: str | None) -> str:
    """The catalogue the pages use for ``language``: its own when complete, else English."""
    code = (language or "").strip().lower().split("-")[0]
    return code if code in CATALOGUES else DEFAULT


def direction(language: str | None) -> str:
    """``"rtl"`` or ``"ltr"`` for the pages shown in ``language``."""
    return "rtl" if page_language(language) in RTL else "ltr"


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


class _Keep(dict):
    """format_map values: a placeholder without a value stays as it is (``{time}`` for the browser)."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _format(text: str, values: Mapping[str, object]) -> str:
    return text.format_map(_Keep(values)) if "{" in text else text


def t(language: str | None, key: str, **values: object) -> str:
    """One sentence in ``language`` (English when the language or the key is missing)."""
    lang = page_language(language)
    text = CATALOGUES[lang].get(key)
    if text is None:
        text = en.MESSAGES[key]  # a KeyError here is a programming error: the key does not exist
    return _format(text, values)


def has(key: str) -> bool:
    """Whether ``key`` is a sentence of the catalogue."""
    return key in en.MESSAGES


def catalogue(language: str | None, **values: object) -> dict[str, str]:
    """Every sentence in ``language``, with ``values`` filled in."""
    lang = page_language(language)
    own = CATALOGUES[lang]
    return {key: _format(own.get(key, text), values) for key, text in en.MESSAGES.items()}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


_TAG = re.compile(r"^([a-zA-Z]{2,3})(?:-[a-zA-Z0-9]{1,8})*$")


def best_language(accept_language: str, offered: Iterable[str]) -> str:
    """The offered language the browser prefers most (RFC 9110 ``Accept-Language``), else the first offered."""
    offered = [code for code in offered if code]
    if not offered:
        return DEFAULT
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "")[:500].split(",")):
        tag, _, params = part.strip().partition(";")
        match = _TAG.match(tag.strip())
        if not match:
            continue
        quality = 1.0
        q = re.search(r"q\s*=\s*([0-9.]+)", params)
        if q:
            try:
                quality = float(q.group(1))
            except ValueError:
                continue
        if quality > 0:
            ranked.append((-quality, position, match.group(1).lower()))
    for _, _, code in sorted(ranked):
        if code in offered:
            return code
    return offered[0]
