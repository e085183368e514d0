"""The candidate-text boundary (``interview_app.sanitize.candidate_text``), and the host keeping such answers."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from agent.scripted import ScriptedLLM
from interview_app.models import TranscriptSegment
from interview_app.sanitize import HARD_CEILING, MAX_MESSAGE_CHARS, candidate_text
from interview_app.text_host import TextInterviewError, TextInterviewHost
from tests.factories import make_interview


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("plain answer", "plain answer"),
        ("nul\x00 byte", "nul byte"),
        ("bell\x07 esc\x1b[31m del\x7f c1\x85", "bell esc[31m del c1"),
        ("keeps\nnew lines\tand tabs", "keeps\nnew lines\tand tabs"),
        ("windows\r\nand old mac\rlines", "windows\nand old mac\nlines"),
        ("lone high \ud800 and low \udfff", "lone high \ufffd and low \ufffd"),
        ("a pair as two halves \ud83d\ude00", "a pair as two halves \U0001f600"),
        ("cafe\u0301", "caf\u00e9"),  # NFC
        ("hello <reflex.Var>x</reflex.Var>", "hello <reflex.Var>x</reflex.Var>"),  # kept: never formatted into a Var
        (b"invalid utf-8 \xff\xfe", "invalid utf-8 \ufffd\ufffd"),
        (None, ""),
        ({"message": "not a string"}, ""),
    ],
)
def test_candidate_text_is_valid_unicode_without_controls(raw: object, clean: str) -> None:
    result = candidate_text(raw)
    assert result.text == clean and not result.over_limit
    result.text.encode("utf-8")  # valid for the database, pydantic and the websocket
    assert candidate_text(result.text).text == result.text  # idempotent


def test_the_cap() -> None:
    assert not candidate_text("a" * MAX_MESSAGE_CHARS).over_limit
    assert not candidate_text("  " + "a" * MAX_MESSAGE_CHARS + "\n\n").over_limit  # blanks at the ends do not count
    assert candidate_text("a" * (MAX_MESSAGE_CHARS + 1)).over_limit
    assert candidate_text("abc", limit=2).over_limit
    huge = candidate_text("a" * 1_000_000)
    assert huge.over_limit and len(huge.text) == HARD_CEILING  # bounded work and memory
    assert not candidate_text("\x00" * 10 + "short").over_limit  # controls are removed before counting


@pytest.fixture
def host(app_db, settings_env, tmp_path) -> TextInterviewHost:
    settings_env(STORAGE_LOCAL_DIR=str(tmp_path / "storage"))
    return TextInterviewHost(llm_factory=ScriptedLLM, lease_seconds=20, idle_seconds=600, single_process=True)


async def test_a_lone_surrogate_answer_is_kept_replaced(host: TextInterviewHost, session: Session) -> None:
    interview, raw = make_interview(session)
    snap = await host.open(raw, "tab-a")
    snap = await host.send(snap.interview_id, "tab-a", "I wrote the parser \ud800 myself.\x00")
    assert (snap.messages[-2].speaker, snap.messages[-2].text) == ("candidate", "I wrote the parser \ufffd myself.")
    assert snap.messages[-1].speaker == "agent"
    with pytest.raises(TextInterviewError) as err:
        await host.send(snap.interview_id, "tab-a", "\x00\x01 \r\n")
    assert err.value.reason == "empty"
    with pytest.raises(TextInterviewError) as err:
        await host.send(snap.interview_id, "tab-a", "a" * (MAX_MESSAGE_CHARS + 1))
    assert err.value.reason == "too_long" and "4000 characters" in err.value.message
    await host.end(snap.interview_id, "tab-a")
    session.expire_all()
    texts = [s.text for s in session.exec(select(TranscriptSegment).where(TranscriptSegment.interview_id == interview.id)).all()]
    assert "I wrote the parser \ufffd myself." in texts
