"""R9 — what a browser tab can park on the server through the candidate page's events is bounded.

Anyone can open a candidate page and call its event handlers with any arguments. Device ids,
failure names and error messages from the page are cut to a short printable string, and
accepting the consent again (a double click, or a script calling it 300 times) stores one row.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import func
from sqlmodel import Session, select

from interview_app.models import InterviewEvent
from interview_app.state.candidate import CandidateState
from tests.factories import make_interview
from tests.reliability.conftest import figure

BIG = "x" * 1_800_000


def _run(state: CandidateState, name: str, *args: object) -> None:
    result = CandidateState.event_handlers[name].fn(state, *args)
    if asyncio.iscoroutine(result):
        asyncio.run(result)


def test_page_events_keep_only_short_strings(session: Session, app_db, monkeypatch) -> None:  # noqa: ANN001
    _, raw = make_interview(session)
    monkeypatch.setattr(CandidateState, "_raw_token", lambda self: raw)
    state = CandidateState(_reflex_internal_init=True)
    _run(state, "load_link")
    _run(state, "on_mic_device", {"not": "a string"})
    assert state.mic_device_id == ""
    kept = {}
    for handler, args, field in (
        ("on_mic_device", (BIG,), "mic_device_id"),
        ("on_mic_ready", (BIG,), "mic_device_id"),
        ("on_media_failure", (BIG, BIG), "device_error"),
        ("on_device_error", (BIG,), "device_error"),
        ("on_error", (BIG,), "connection_error"),
        ("on_agent_state", (BIG,), "agent_state"),
        ("on_connection_state", (BIG,), "connection"),
    ):
        _run(state, handler, *args)
        kept[handler] = len(str(getattr(state, field)))
    assert max(kept.values()) <= 700, kept
    figure("R9 largest string kept from a 1.8 MB page event", f"{max(kept.values())} characters")


def test_accepting_the_consent_again_stores_one_row(session: Session, app_db, monkeypatch) -> None:  # noqa: ANN001
    interview, raw = make_interview(session)
    monkeypatch.setattr(CandidateState, "_raw_token", lambda self: raw)
    state = CandidateState(_reflex_internal_init=True)
    _run(state, "load_link")
    for _ in range(300):
        state.consent_checked = True
        state.step = "consent"
        _run(state, "accept_consent")
    session.expire_all()
    rows = session.exec(
        select(func.count())
        .select_from(InterviewEvent)
        .where(InterviewEvent.interview_id == interview.id, InterviewEvent.kind == "consent_given")
    ).one()
    assert rows == 1
    figure("R9 consent rows after 300 accept_consent calls", rows)
