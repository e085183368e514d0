"""Accommodation requests from the candidate's side, on SQLite and PostgreSQL: the request, the
hiring team's email, the template's "wait" policy at the voice and text starts, extra time in the
plan and on the candidate page's link view."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, func, select

from agent.scripted import ScriptedLLM
from interview_app.contracts import MAX_DURATION_SECONDS, MAX_TIME_BUDGET_SECONDS
from interview_app.models import AccommodationRequest, Candidate, Interview, InterviewEvent, InterviewStatus, InterviewTemplate
from interview_app.services import accommodations
from interview_app.services.accommodations import (
    MAX_NOTE_CHARS,
    PENDING_MESSAGE,
    AccommodationView,
    accommodation_for,
    decide_accommodation,
    request_accommodation,
)
from interview_app.services.candidate_link import describe_link
from interview_app.services.email import EmailError
from interview_app.services.interviews import build_plan, transition
from interview_app.services.start import StartError, start_interview
from interview_app.settings import Settings
from interview_app.text_host import TextInterviewError, TextInterviewHost
from tests.conftest import Mail
from tests.factories import make_interview, make_template
from tests.fakes.livekit_server import FakeLiveKitServer


@pytest.fixture
def team(app_db, settings_env) -> Settings:
    return settings_env(SUPPORT_EMAIL="team@example.com", APP_URL="https://jobs.example.com")


def _events(session: Session, interview_id: uuid.UUID, kind: str | None = None) -> list[InterviewEvent]:
    session.expire_all()
    stmt = select(InterviewEvent).where(InterviewEvent.interview_id == interview_id)
    if kind:
        stmt = stmt.where(InterviewEvent.kind == kind)
    return list(session.exec(stmt.order_by(InterviewEvent.id)).all())


def _rows(session: Session, interview_id: uuid.UUID) -> list[AccommodationRequest]:
    session.expire_all()
    return list(session.exec(select(AccommodationRequest).where(AccommodationRequest.interview_id == interview_id)).all())


def _interview(session: Session, **template: Any) -> tuple[Interview, str]:
    return make_interview(session, template=make_template(session, **template))


def test_a_request_is_stored_recorded_and_emailed_to_the_hiring_team(session: Session, team: Settings, mails: list[Mail]) -> None:
    interview, raw = _interview(session)
    note = "I have dyslexia; reading the questions takes me longer.\nThank you."
    view = request_accommodation(session, raw, ["human", "extra_time"], note, settings=team)

    assert view is not None
    assert (view.status, view.kinds, view.note, view.waiting, view.policy) == ("requested", ("extra_time", "human"), note, False, "proceed")
    [row] = _rows(session, interview.id)
    assert row.kinds == ["extra_time", "human"] and row.note == note and row.status == "requested"
    assert row.extra_time_percent == 0 and row.decided_by == "" and row.decided_at is None
    [event] = _events(session, interview.id, "accommodation_requested")
    assert event.actor == "candidate"
    assert event.detail == {"kinds": ["extra_time", "human"], "note_chars": len(note), "email": "Email sent to team@example.com."}
    assert "dyslexia" not in json.dumps(event.detail)  # the note stays in its own row, not in the audit trail

    candidate = session.get(Candidate, interview.candidate_id)
    template = session.get(InterviewTemplate, interview.template_id)
    [mail] = mails
    assert mail.to == "team@example.com"
    assert mail.subject == f"Accommodation request: {candidate.name} for {template.title}"
    assert candidate.name in mail.body and candidate.email in mail.body and template.title in mail.body
    assert "extra time and a human interviewer" in mail.body and note in mail.body
    assert f"https://jobs.example.com/admin/interviews/{interview.id}" in mail.body
    assert accommodation_for(session, session.get(Interview, interview.id)) == AccommodationView(
        status="requested", kinds=("extra_time", "human"), note=note, policy="proceed"
    )


def test_without_a_request_the_view_is_empty(session: Session) -> None:
    interview, _ = _interview(session, accommodation_policy="wait")
    assert accommodation_for(session, interview) == AccommodationView(status="", kinds=(), note="", waiting=False, policy="wait")


@pytest.mark.parametrize(
    "kinds",
    [[], (), "extra_time", None, 3, {"extra_time": True}, ["extra_time", "coffee"], [1], [None], ["EXTRA_TIME"], ["text"] * 50],
    ids=lambda kinds: repr(kinds)[:32],
)
def test_bad_kinds_are_refused_and_write_nothing(session: Session, team: Settings, mails: list[Mail], kinds: object) -> None:
    interview, raw = _interview(session)
    before = len(_events(session, interview.id))
    assert request_accommodation(session, raw, kinds, "note", settings=team) is None
    assert _rows(session, interview.id) == [] and len(_events(session, interview.id)) == before and mails == []


def test_a_hostile_note_becomes_bounded_text_without_controls(session: Session, team: Settings, mails: list[Mail]) -> None:
    interview, raw = _interview(session)
    hostile = "\x00\x07Hi\r\n\x1b[31mthere\ud800 <script>alert(1)</script>\x7f\x9b" + "x" * 10_000
    view = request_accommodation(session, raw, ["extra_time"], hostile, settings=team)
    assert view is not None
    [row] = _rows(session, interview.id)
    assert len(row.note) == MAX_NOTE_CHARS == 2000 and row.note == view.note
    assert row.note.startswith("Hi\n[31mthere\ufffd <script>alert(1)</script>x")  # kept as text, shown as text
    assert not any(ord(c) < 32 and c not in "\n\t" or 0x7F <= ord(c) <= 0x9F for c in row.note)
    row.note.encode("utf-8")  # valid Unicode: no lone surrogate is stored
    [event] = _events(session, interview.id, "accommodation_requested")
    assert event.detail["note_chars"] == 2000
    # A note that is not text counts as no note.
    other, raw_other = _interview(session)
    assert request_accommodation(session, raw_other, ["text"], {"$gt": ""}, settings=team).note == ""


def test_unusable_links_are_refused(session: Session, team: Settings, mails: list[Mail]) -> None:
    expired, raw_expired = make_interview(session, ttl=timedelta(seconds=-1))
    revoked, raw_revoked = _interview(session)
    transition(session, revoked, InterviewStatus.cancelled, reason="revoked by an admin")
    session.commit()
    for token in ("", "not a token!", "A" * 201, "x" * 43, raw_expired, raw_revoked, None, 42, "\ud800abc"):
        assert request_accommodation(session, token, ["extra_time"], "n", settings=team) is None, token  # type: ignore[arg-type]
    assert _rows(session, expired.id) == [] and _rows(session, revoked.id) == [] and mails == []


def test_no_request_once_the_interview_has_started(session: Session, team: Settings, mails: list[Mail]) -> None:
    interview, raw = _interview(session)
    transition(session, interview, InterviewStatus.in_progress, actor="candidate")
    session.commit()
    assert request_accommodation(session, raw, ["extra_time"], "late", settings=team) is None
    assert _rows(session, interview.id) == [] and mails == []


def test_the_same_request_again_writes_and_sends_nothing_a_change_replaces_it(session: Session, team: Settings, mails: list[Mail]) -> None:
    interview, raw = _interview(session)
    first = request_accommodation(session, raw, ["text"], "Voice is hard for me.", settings=team)
    again = request_accommodation(session, raw, ["text", "text"], "  Voice is hard for me.  ", settings=team)
    assert first is not None and again is not None and again.kinds == first.kinds and again.note == first.note
    assert len(_events(session, interview.id, "accommodation_requested")) == 1 and len(mails) == 1
    assert again.email == ""  # nothing was sent this time

    changed = request_accommodation(session, raw, ["text", "human"], "Or a person, please.", settings=team)
    assert changed is not None and changed.kinds == ("text", "human")
    [row] = _rows(session, interview.id)  # still one row per interview
    assert row.kinds == ["text", "human"] and row.note == "Or a person, please." and row.status == "requested"
    assert len(_events(session, interview.id, "accommodation_requested")) == 2 and len(mails) == 2
    # The service never switches the mode itself; the page calls choose_text_mode.
    assert session.get(Interview, interview.id).mode == "voice"


def test_after_a_decision_a_new_request_is_refused(session: Session, team: Settings, mails: list[Mail]) -> None:
    interview, raw = _interview(session)
    request_accommodation(session, raw, ["human"], "", settings=team)
    decide_accommodation(session, interview.id, grant=False, extra_time_percent=0, admin_email="boss@example.com", settings=team)
    assert request_accommodation(session, raw, ["extra_time"], "Then more time?", settings=team) is None
    [row] = _rows(session, interview.id)
    assert row.status == "declined" and row.kinds == ["human"]
    assert len(_events(session, interview.id, "accommodation_requested")) == 1


def test_an_email_failure_is_recorded_not_raised(session: Session, team: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object) -> str:
        raise EmailError("The mail server smtp.example.com:25 refused or did not answer (ConnectionRefusedError).")

    monkeypatch.setattr(accommodations, "send_email", refuse)
    interview, raw = _interview(session)
    view = request_accommodation(session, raw, ["extra_time"], "", settings=team)
    assert view is not None and view.status == "requested" and "refused" in view.email
    [event] = _events(session, interview.id, "accommodation_requested")
    assert event.detail["email"].startswith("The mail server smtp.example.com:25 refused")
    assert _rows(session, interview.id)[0].status == "requested"


def test_with_the_log_backend_the_email_is_written_to_the_app_log(session: Session, settings_env, caplog: pytest.LogCaptureFixture) -> None:
    settings = settings_env(EMAIL_BACKEND="log", SUPPORT_EMAIL="team@example.com")
    interview, raw = _interview(session)
    with caplog.at_level("WARNING", logger="interview_app.email"):
        request_accommodation(session, raw, ["extra_time"], "Please.", settings=settings)
    assert "Accommodation request:" in caplog.text and "to=team@example.com" in caplog.text
    [event] = _events(session, interview.id, "accommodation_requested")
    assert "app log" in event.detail["email"]


# --- the start ------------------------------------------------------------------------


def test_wait_policy_holds_the_voice_start_with_a_sentence_and_writes_nothing(
    session: Session, livekit_settings: Settings, fake_livekit: FakeLiveKitServer, mails: list[Mail]
) -> None:
    interview, raw = _interview(session, accommodation_policy="wait")
    view = request_accommodation(session, raw, ["extra_time"], "", settings=livekit_settings)
    assert view is not None and view.waiting
    before = len(_events(session, interview.id))
    with pytest.raises(StartError) as err:
        start_interview(raw)
    assert (err.value.code, err.value.reason, err.value.message) == (409, "accommodation_pending", PENDING_MESSAGE)
    assert PENDING_MESSAGE == (
        "Your request for an adjustment is with the hiring team; you can start once they have answered. They will contact you."
    )
    assert fake_livekit.calls == [] and len(_events(session, interview.id)) == before
    session.expire_all()
    row = session.get(Interview, interview.id)
    assert row.status == "invited" and row.dispatch_id is None and row.started_at is None


def test_wait_policy_holds_the_text_start_and_writes_nothing(session: Session, team: Settings, mails: list[Mail]) -> None:
    interview, raw = _interview(session, accommodation_policy="wait")
    request_accommodation(session, raw, ["text"], "", settings=team)
    before = len(_events(session, interview.id))
    host = TextInterviewHost(llm_factory=ScriptedLLM, single_process=True)

    async def open_it() -> None:
        await host.open(raw, "tab-a")

    import asyncio

    with pytest.raises(TextInterviewError) as err:
        asyncio.run(open_it())
    assert (err.value.reason, err.value.message) == ("accommodation_pending", PENDING_MESSAGE)
    assert host.sessions == {} and len(_events(session, interview.id)) == before
    session.expire_all()
    assert session.get(Interview, interview.id).status == "invited"


def test_proceed_policy_lets_the_candidate_start_while_the_request_is_open(
    session: Session, livekit_settings: Settings, fake_livekit: FakeLiveKitServer, mails: list[Mail]
) -> None:
    interview, raw = _interview(session)  # "proceed" is the default
    view = request_accommodation(session, raw, ["extra_time"], "", settings=livekit_settings)
    assert view is not None and not view.waiting
    assert not start_interview(raw).rejoined
    session.expire_all()
    assert session.get(Interview, interview.id).status == "in_progress"


def test_once_decided_the_candidate_can_start_with_the_extra_time(
    session: Session, livekit_settings: Settings, fake_livekit: FakeLiveKitServer, mails: list[Mail]
) -> None:
    interview, raw = _interview(session, accommodation_policy="wait", duration_limit_minutes=20)
    request_accommodation(session, raw, ["extra_time"], "", settings=livekit_settings)
    decide_accommodation(
        session, interview.id, grant=True, extra_time_percent=50, admin_email="boss@example.com", settings=livekit_settings
    )
    started = start_interview(raw)
    plan = json.loads(fake_livekit.rooms[started.room_name].metadata)
    assert plan["duration_limit_seconds"] == 30 * 60


def test_a_declined_request_no_longer_holds_the_start(
    session: Session, livekit_settings: Settings, fake_livekit: FakeLiveKitServer, mails: list[Mail]
) -> None:
    interview, raw = _interview(session, accommodation_policy="wait")
    request_accommodation(session, raw, ["human"], "", settings=livekit_settings)
    decide_accommodation(
        session, interview.id, grant=False, extra_time_percent=0, admin_email="boss@example.com", settings=livekit_settings
    )
    assert not start_interview(raw).rejoined


def test_a_rejoin_is_never_held(session: Session, livekit_settings: Settings, fake_livekit: FakeLiveKitServer, mails: list[Mail]) -> None:
    interview, raw = _interview(session)
    request_accommodation(session, raw, ["extra_time"], "", settings=livekit_settings)
    start_interview(raw)  # "proceed": started while the request is open
    template = session.get(InterviewTemplate, interview.template_id)
    template.accommodation_policy = "wait"  # the admin changes the template meanwhile
    session.add(template)
    session.commit()
    assert start_interview(raw).rejoined


async def test_the_text_interview_s_time_left_includes_the_extra_time(session: Session, team: Settings, mails: list[Mail]) -> None:
    interview, raw = _interview(session, duration_limit_minutes=20)
    request_accommodation(session, raw, ["extra_time", "text"], "", settings=team)
    decide_accommodation(session, interview.id, grant=True, extra_time_percent=50, admin_email="boss@example.com", settings=team)
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    host = TextInterviewHost(clock=lambda: now, llm_factory=ScriptedLLM, single_process=True)
    try:
        snap = await host.open(raw, "tab-a")
        assert snap.seconds_left == 30 * 60
    finally:
        await host.aclose()


# --- extra time in the plan and on the link ------------------------------------------------


def _granted(session: Session, team: Settings, percent: int, **template: Any) -> tuple[Interview, str]:
    interview, raw = _interview(session, **template)
    request_accommodation(session, raw, ["extra_time"], "", settings=team)
    decide_accommodation(session, interview.id, grant=True, extra_time_percent=percent, admin_email="boss@example.com", settings=team)
    session.expire_all()
    return session.get(Interview, interview.id), raw


def test_granted_extra_time_lengthens_the_plan_and_its_question_budgets_up_to_the_maxima(
    session: Session, team: Settings, mails: list[Mail]
) -> None:
    questions = [
        {"id": "q1", "text": "Tell me about a system you built.", "time_budget_seconds": 240},
        {"id": "q2", "text": "How do you debug?", "time_budget_seconds": 3000},
        {"id": "q3", "text": "Anything else?"},
        {"id": "q4", "text": "Odd budget?", "time_budget_seconds": 15},
    ]
    interview, _ = _granted(session, team, 50, duration_limit_minutes=20, questions=questions)
    assert interview.extra_time_percent == 50
    plan = build_plan(interview, session.get(Candidate, interview.candidate_id), session.get(InterviewTemplate, interview.template_id))
    assert plan.duration_limit_seconds == 1800
    assert [q.time_budget_seconds for q in plan.questions] == [360, MAX_TIME_BUDGET_SECONDS, None, 23]  # 3000 × 1.5 capped; 22.5 up

    long, _ = _granted(session, team, 100, duration_limit_minutes=200, questions=questions)
    plan = build_plan(long, session.get(Candidate, long.candidate_id), session.get(InterviewTemplate, long.template_id))
    assert plan.duration_limit_seconds == MAX_DURATION_SECONDS == 4 * 3600  # 400 minutes capped at 4 h


def test_without_extra_time_the_plan_keeps_the_template_s_limits(session: Session) -> None:
    interview, _ = _interview(session, duration_limit_minutes=20)
    template = session.get(InterviewTemplate, interview.template_id)
    plan = build_plan(interview, session.get(Candidate, interview.candidate_id), template)
    assert plan.duration_limit_seconds == 1200
    assert [q.time_budget_seconds for q in plan.questions] == [q.get("time_budget_seconds") for q in template.questions]


def test_the_link_view_shows_the_request_and_the_extended_duration(session: Session, team: Settings, mails: list[Mail]) -> None:
    interview, raw = _interview(session, accommodation_policy="wait", duration_limit_minutes=25)
    view = describe_link(session, raw)
    assert (view.accommodation_status, view.accommodation_kinds, view.accommodation_waiting) == ("", (), False)
    assert (view.extra_time_percent, view.accommodation_policy, view.duration_minutes) == (0, "wait", 25)

    request_accommodation(session, raw, ["text", "extra_time"], "", settings=team)
    view = describe_link(session, raw)
    assert (view.accommodation_status, view.accommodation_kinds, view.accommodation_waiting) == ("requested", ("extra_time", "text"), True)

    decide_accommodation(session, interview.id, grant=True, extra_time_percent=25, admin_email="boss@example.com", settings=team)
    view = describe_link(session, raw)
    assert (view.accommodation_status, view.accommodation_waiting, view.extra_time_percent) == ("granted", False, 25)
    assert view.duration_minutes == 32  # 25 min × 1.25 = 31.25, rounded up
    assert view.state == "valid" and view.role_title and view.allow_text_mode  # the existing fields are still there


def test_a_candidate_s_data_deletion_removes_the_request(session: Session, team: Settings, mails: list[Mail]) -> None:
    from interview_app.services.retention import delete_candidate_data

    interview, raw = _interview(session)
    request_accommodation(session, raw, ["human"], "A private note.", settings=team)
    report = delete_candidate_data(session, interview.candidate_id, actor="boss@example.com", settings=team)
    assert report.rows["accommodation_requests"] == 1
    session.expire_all()
    assert (
        session.exec(select(func.count()).select_from(AccommodationRequest).where(AccommodationRequest.interview_id == interview.id)).one()
        == 0
    )
