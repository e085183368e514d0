"""The candidate page's state machine, driven through its event handlers (no browser).

The browser tests cover rendering; these cover the paths a dead fake server cannot
reach in Chromium: the agent arriving late or never, drops and reconnects.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from interview_app.models import InterviewEvent
from interview_app.settings import TEXT_CONSENT_TEXT, VOICE_CONSENT_TEXT
from interview_app.state.candidate import CandidateState
from tests.factories import make_interview


def handler(name: str):
    return CandidateState.event_handlers[name].fn


def run(state: CandidateState, name: str, *args: object) -> object:
    result = handler(name)(state, *args)
    if asyncio.iscoroutine(result):
        return asyncio.run(result)
    if hasattr(result, "__anext__"):

        async def drain() -> None:
            async for _ in result:
                pass

        return asyncio.run(drain())
    return result


@pytest.fixture
def page_state(monkeypatch):
    def make(raw_token: str) -> CandidateState:
        monkeypatch.setattr(CandidateState, "_raw_token", lambda self: raw_token)
        state = CandidateState(_reflex_internal_init=True)
        run(state, "load_link")
        return state

    return make


def in_room(session, page_state, *, connected: bool = True) -> CandidateState:
    """A fresh invitation's page after consent and join, and LiveKit's "connected" unless ``connected`` is False."""
    _, raw = make_interview(session)
    s = page_state(raw)
    run(s, "set_consent_checked", True)
    run(s, "accept_consent")
    run(s, "join")
    if connected:
        run(s, "on_connected")
    return s


def test_consent_then_join_then_reconnect_reuses_the_room(session, livekit_settings, fake_livekit, page_state) -> None:
    interview, raw = make_interview(session)
    s = page_state(raw)
    assert s.link_state == "valid" and s.voice_available and s.step == "consent"
    assert s.consent_text == VOICE_CONSENT_TEXT
    run(s, "accept_consent")
    assert s.step == "consent"  # the box was not ticked
    run(s, "set_consent_checked", True)
    run(s, "accept_consent")
    assert s.step == "devices"
    run(s, "on_mic_ready", "mic-1")
    run(s, "join")
    assert s.step == "room" and s.connect and s.room_name == interview.room_name
    assert s.connection_sentence == "Connecting you to the interview room…"

    run(s, "on_connected")
    assert s.agent_sentence == "The interviewer is joining…"
    run(s, "on_agent_presence", True)
    run(s, "on_agent_state", "listening")
    assert s.agent_sentence == "The interviewer is listening"

    # the network drops: LiveKit reconnects by itself, then gives up
    run(s, "on_connection_state", "reconnecting")
    assert s.connection_sentence == "Your connection dropped; reconnecting…"
    run(s, "on_disconnected", 0)
    assert "disconnected" in s.connection_sentence and s.can_retry and not s.connect

    # the candidate reopens the link: consent was given, straight to the device check; same room, one interviewer
    again = page_state(raw)
    assert again.rejoining and again.step == "devices"
    run(again, "on_mic_ready", "mic-1")
    run(again, "join")
    assert again.room_name == s.room_name and again.room_token != ""
    assert len(fake_livekit.calls_to("CreateDispatch")) == 1


def test_interviewer_that_never_arrives_gets_a_message_and_a_retry(session, livekit_settings, page_state) -> None:
    s = in_room(session, page_state)
    assert not s.can_retry
    stale = s._attempt - 1
    s._agent_wait_over(stale)  # a timer from an earlier connection attempt changes nothing
    assert not s.agent_wait_expired
    s._agent_wait_over(s._attempt)  # what wait_for_agent does after AGENT_JOIN_TIMEOUT_SECONDS
    assert "has not joined after" in s.agent_sentence and "Try again" in s.agent_sentence
    assert s.can_retry
    # a late interviewer clears the warning
    run(s, "on_agent_presence", True)
    assert not s.agent_wait_expired and not s.can_retry
    s._agent_wait_over(s._attempt)  # the agent is here: no warning
    assert not s.agent_wait_expired


def test_connection_errors_and_leaving_are_sentences(session, livekit_settings, page_state) -> None:
    s = in_room(session, page_state, connected=False)
    run(s, "on_error", "could not establish signal connection")
    assert s.connection == "failed" and "could not connect you" in s.connection_sentence and s.can_retry
    run(s, "on_disconnected", 0)  # the disconnect that follows keeps the error's explanation
    assert "could not connect you" in s.connection_sentence
    s.connection, s.connection_error = "connected", ""
    run(s, "on_disconnected", 1)
    assert s.connection == "left" and "You left the interview room" in s.connection_sentence
    s.connection, s.connection_error = "connected", ""
    run(s, "on_disconnected", 5)
    assert s.connection == "ended" and "has ended" in s.connection_sentence and not s.can_retry


def test_interviewer_leaving_starts_the_departure_watch_only_after_it_was_there(session, livekit_settings, page_state) -> None:
    s = in_room(session, page_state)
    assert run(s, "on_agent_presence", False) is None  # not arrived yet: nothing to watch
    run(s, "on_agent_presence", True)
    watch = run(s, "on_agent_presence", False)
    assert watch is not None and "watch_agent_departure" in str(watch)
    s._end("The interview has ended.")
    assert s.connection == "ended" and not s.connect and s.ended_ok and not s.can_retry and s.agent_sentence == ""


def test_interviewer_lost_is_failed_only_when_livekit_shows_no_interviewer(session, livekit_settings, fake_livekit) -> None:
    from interview_app.models import Interview, InterviewStatus
    from interview_app.services.candidate_link import report_interviewer_lost
    from interview_app.services.interviews import INTERVIEWER_LOST_REASON
    from interview_app.services.start import start_interview

    interview, raw = make_interview(session)
    start_interview(raw)  # in progress, room created, agent dispatched (fake server: nobody in the room)
    session.expire_all()
    assert session.get(Interview, interview.id).status == InterviewStatus.in_progress.value
    assert report_interviewer_lost("not-a-token") == "unknown"
    assert report_interviewer_lost(raw) == "marked failed"
    session.expire_all()
    row = session.get(Interview, interview.id)
    assert row.status == InterviewStatus.failed.value and row.end_reason == INTERVIEWER_LOST_REASON
    assert report_interviewer_lost(raw) == "failed"  # already failed: the link says so, nothing changes
    # LiveKit unreachable: nothing is failed on the page's word alone
    other, raw2 = make_interview(session)
    start_interview(raw2)
    fake_livekit.fail_next("ListParticipants", status=503, times=2)
    assert report_interviewer_lost(raw2) == "unknown"
    session.expire_all()
    assert session.get(Interview, other.id).status == InterviewStatus.in_progress.value


def test_without_livekit_consent_goes_to_text_mode(session, app_db, page_state) -> None:
    interview, raw = make_interview(session)
    s = page_state(raw)
    assert not s.voice_available
    assert s.consent_text == TEXT_CONSENT_TEXT  # nothing is recorded but the chat: the wording says so
    run(s, "set_consent_checked", True)
    run(s, "accept_consent")
    assert s.step == "text" and s.mode == "text"
    session.expire_all()
    [consent] = [
        e for e in session.exec(select(InterviewEvent).where(InterviewEvent.interview_id == interview.id)) if e.kind == "consent_given"
    ]
    assert consent.detail["text"] == TEXT_CONSENT_TEXT
    run(s, "join")  # no voice join from text mode
    assert s.step == "text" and s.room_token == ""


def test_text_mode_only_when_the_template_allows_it(session, livekit_settings, page_state) -> None:
    from tests.factories import make_template

    _, raw = make_interview(session, template=make_template(session, allow_text_mode=False))
    s = page_state(raw)
    assert not s.allow_text_mode
    run(s, "set_consent_checked", True)
    run(s, "accept_consent")
    run(s, "choose_text")
    assert s.step == "devices" and s.mode == "voice"


def test_expired_link_during_join_shows_the_link_page(session, livekit_settings, page_state) -> None:
    from interview_app.services.interviews import transition

    interview, raw = make_interview(session)
    s = page_state(raw)
    run(s, "set_consent_checked", True)
    run(s, "accept_consent")
    transition(session, interview, "cancelled")
    session.commit()
    run(s, "join")
    assert s.link_state == "revoked" and "withdrawn" in s.message


def test_integrity_signals_are_stored_and_bounded(session, livekit_settings, page_state, monkeypatch) -> None:
    from sqlmodel import select

    from interview_app.models import InterviewEvent
    from interview_app.services import candidate_link

    interview, raw = make_interview(session)
    s = page_state(raw)
    run(s, "load_link")
    # before the consent, leaving the tab is not the interview's business
    run(s, "on_integrity_signal", "window_blur", True, 1_000)
    run(s, "on_integrity_signal", "window_blur", False, 9_000)
    assert s.blur_count == 0
    s.step = "devices"
    # the period is timed by the page's clock, from the first "away" to "back"
    run(s, "on_integrity_signal", "tab_hidden", True, 10_000)
    run(s, "on_integrity_signal", "tab_hidden", True, 10_700)
    run(s, "on_integrity_signal", "tab_hidden", False, 11_500)
    run(s, "on_integrity_signal", "tab_hidden", False, 12_000)  # back twice: one period
    run(s, "on_integrity_signal", "window_blur", True, 20_000)
    run(s, "on_integrity_signal", "window_blur", False, "not-a-number")
    run(s, "on_integrity_signal", "window_blur", False, 20_200)
    run(s, "on_integrity_signal", "devtools_open", True, 1)
    run(s, "on_integrity_signal", "devtools_open", False, 10)
    assert (s.hidden_count, s.hidden_ms, s.blur_count, s.blur_ms) == (1, 1500, 1, 200)
    monkeypatch.setattr(candidate_link, "MAX_INTEGRITY_EVENTS", 3)
    for i in range(5):
        run(s, "on_integrity_signal", "window_blur", True, 30_000 + 100 * i)
        run(s, "on_integrity_signal", "window_blur", False, 30_010 + 100 * i)
    session.expire_all()
    details = [
        e.detail
        for e in session.exec(select(InterviewEvent).where(InterviewEvent.interview_id == interview.id, InterviewEvent.kind == "integrity"))
    ]
    assert len(details) == 3
    assert details[0] == {"signal": "tab_hidden", "duration_ms": 1500, "count": 1}
    # signals are for people to review: the interview itself is untouched
    from interview_app.models import Interview

    assert session.get(Interview, interview.id).status == "invited"
