"""The candidate pages' message catalogues (interview_app/i18n): complete, translated, and the language helpers."""

from __future__ import annotations

import re

import pytest

from interview_app import i18n
from interview_app.i18n import en

ARABIC_LETTER = re.compile(r"[\u0600-\u06FF]")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
TRANSLATED = [code for code in i18n.CATALOGUES if code != "en"]


def _letters(text: str) -> bool:
    """Whether ``text`` has letters outside its ``{placeholders}``."""
    return any(ch.isalpha() for ch in PLACEHOLDER.sub("", text))


@pytest.mark.parametrize("code", sorted(i18n.CATALOGUES))
def test_catalogue_has_exactly_the_english_keys(code: str) -> None:
    keys = set(i18n.CATALOGUES[code])
    missing = sorted(set(en.MESSAGES) - keys)
    extra = sorted(keys - set(en.MESSAGES))
    assert not missing and not extra, f"{code}: missing keys {missing}, extra keys {extra}"


@pytest.mark.parametrize("code", sorted(i18n.CATALOGUES))
def test_catalogue_keeps_the_english_placeholders(code: str) -> None:
    messages = i18n.CATALOGUES[code]
    wrong = {
        key: (sorted(i18n.placeholders(messages[key])), sorted(i18n.placeholders(text)))
        for key, text in en.MESSAGES.items()
        if key in messages and i18n.placeholders(messages[key]) != i18n.placeholders(text)
    }
    assert not wrong, f"{code}: placeholders differ from English (theirs, English): {wrong}"


@pytest.mark.parametrize("code", sorted(i18n.CATALOGUES))
def test_no_value_is_empty(code: str) -> None:
    empty = sorted(key for key, text in i18n.CATALOGUES[code].items() if not text.strip())
    assert not empty, f"{code}: empty values for {empty}"


@pytest.mark.parametrize("code", ["es", "ar"])
def test_catalogue_is_translated(code: str) -> None:
    messages = i18n.CATALOGUES[code]
    same = sorted(key for key, text in en.MESSAGES.items() if messages.get(key) == text)
    assert len(same) <= 0.05 * len(en.MESSAGES), f"{code}: {len(same)} of {len(en.MESSAGES)} values are the English text: {same}"


def test_arabic_values_are_written_in_arabic() -> None:
    messages = i18n.CATALOGUES["ar"]
    latin_only = sorted(key for key, text in en.MESSAGES.items() if _letters(text) and not ARABIC_LETTER.search(messages.get(key, "")))
    assert not latin_only, f"ar: no Arabic letters in {latin_only}"


def test_every_translated_language_is_checked() -> None:
    """A new catalogue gets the translated/placeholder checks above by being in CATALOGUES."""
    assert {"es", "ar"} <= set(TRANSLATED)


@pytest.mark.parametrize(
    ("accept_language", "offered", "expected"),
    [
        ("es-MX,es;q=0.9,en;q=0.8", ["en", "es"], "es"),
        ("fr-FR,fr;q=0.9", ["en", "ar"], "en"),
        ("ar;q=0.2,en;q=0.1", ["en", "ar"], "ar"),
        ("en;q=0", ["ar", "en"], "ar"),
        ("*;;;q=x,,", ["es", "en"], "es"),
        ("", ["ar", "en"], "ar"),
        ("es", [], "en"),
    ],
)
def test_best_language(accept_language: str, offered: list[str], expected: str) -> None:
    assert i18n.best_language(accept_language, offered) == expected


def test_page_language_and_direction() -> None:
    assert i18n.page_language("es-ES") == "es"
    assert i18n.page_language("de") == "en"
    assert i18n.page_language(None) == "en"
    assert i18n.direction("ar") == "rtl"
    assert i18n.direction("es") == "ltr"
    assert i18n.direction("de") == "ltr"


def test_t_fills_in_values() -> None:
    text = i18n.t("es", "welcome.hello", name="Ana")
    assert "Ana" in text and "{name}" not in text


def test_catalogue_keeps_placeholders_it_was_not_given() -> None:
    messages = i18n.catalogue("ar", time="x")
    assert set(messages) == set(en.MESSAGES)
    assert "{i}" in messages["room.progress_question"] and "{n}" in messages["room.progress_question"]
    assert "x" in messages["room.progress_time"] and "{time}" not in messages["room.progress_time"]
