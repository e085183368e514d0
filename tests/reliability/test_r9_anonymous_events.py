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


def test_page_events_keep_only_short_strings(session: Session, app_db, monkeypatch) -> None:
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


def test_accepting_the_consent_again_stores_one_row(session: Session, app_db, monkeypatch) -> None:
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


def test_each_event_kind_is_capped_per_tab() -> None:
    """A tab that floods an event gets its burst, then one per refill; other tabs and kinds are untouched."""
    from interview_app.state.event_limits import CANDIDATE_RATES, DEFAULT_RATE, EventBuckets, EventRateLimitMiddleware
    from interview_app.state.text_interview import TextInterviewState

    now = [1000.0]
    middleware = EventRateLimitMiddleware(buckets=None)
    middleware.buckets = EventBuckets(rates=middleware._buckets_now().rates, clock=lambda: now[0])
    on_error = f"{CandidateState.get_full_name()}.on_error"
    consent = f"{CandidateState.get_full_name()}.accept_consent"
    send = f"{TextInterviewState.get_full_name()}.send_message"

    def sent(token: str, name: str, n: int) -> int:
        passed = 0
        for _ in range(n):
            passed += middleware.check(token, name) is None
        return passed

    flood = 5000
    assert sent("tab-a", on_error, flood) == CANDIDATE_RATES["on_error"].burst
    assert sent("tab-a", consent, 300) == CANDIDATE_RATES["accept_consent"].burst
    assert sent("tab-a", send, 100) == CANDIDATE_RATES["send_message"].burst
    assert sent("tab-b", on_error, 5) == 5  # another tab is not affected
    now[0] += 10.0  # ten seconds later: refilled at the rate, not more
    assert sent("tab-a", on_error, 100) == int(10 * CANDIDATE_RATES["on_error"].per_second)
    assert sent("tab-a", consent, 100) == 1
    # An event kind not listed gets the default cap; all kinds of one tab share the tab's cap.
    other = f"{CandidateState.get_full_name()}.on_speaker_test"
    assert sent("tab-c", other, 1000) == DEFAULT_RATE.burst
    figure("R9 on_error events of one tab handled out of a flood of 5000", f"{CANDIDATE_RATES['on_error'].burst} (then 1/s)")
    figure("R9 accept_consent calls handled out of 300", CANDIDATE_RATES["accept_consent"].burst)


def test_the_app_runs_the_caps_before_any_other_middleware_or_handler() -> None:
    from interview_app.interview_app import app
    from interview_app.state.auth import AdminAuthorityMiddleware
    from interview_app.state.event_limits import EventRateLimitMiddleware

    kinds = [type(m) for m in app._middlewares]
    assert kinds[:2] == [EventRateLimitMiddleware, AdminAuthorityMiddleware], kinds


def test_buckets_are_bounded() -> None:
    from interview_app.state.event_limits import EventBuckets

    buckets = EventBuckets(max_buckets=1000)
    for n in range(5000):
        buckets.allow(f"tab-{n}", "x.y")
    assert len(buckets) <= 1000
