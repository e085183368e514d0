"""GREENHOUSE_API_KEY: off by default, a usable Basic-auth user name when set, never printed."""

from __future__ import annotations

import pytest

from interview_app.settings import ConfigError, load_settings
from tests.greenhouse.conftest import DOC_API_KEY

BASE = {"SECRET_KEY": "k" * 40}


def test_the_integration_is_off_without_a_key() -> None:
    s = load_settings(BASE)
    assert s.greenhouse_api_key == "" and not s.greenhouse_enabled


def test_a_key_switches_it_on_and_stays_out_of_repr() -> None:
    s = load_settings(BASE | {"GREENHOUSE_API_KEY": f"  {DOC_API_KEY} "})
    assert s.greenhouse_enabled and s.greenhouse_api_key == DOC_API_KEY
    assert DOC_API_KEY not in repr(s)


@pytest.mark.parametrize(
    ("key", "sentence"),
    [
        ("short-key", "shorter than 24 characters"),
        ("a" * 20 + ":" + "b" * 10, "without spaces or colons"),
        ("a" * 20 + " " + "b" * 10, "without spaces or colons"),
        ("ä" * 30, "printable ASCII"),
    ],
)
def test_a_key_greenhouse_could_not_send_is_refused_in_one_line(key: str, sentence: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(BASE | {"GREENHOUSE_API_KEY": key})
    message = str(err.value)
    assert message.startswith("GREENHOUSE_API_KEY") and sentence in message and "\n" not in message
    assert key not in message  # the key itself is never echoed
