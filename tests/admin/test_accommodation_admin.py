"""The hiring team's side of accommodation requests, on SQLite and PostgreSQL: grant and decline,
the refusals (sentences), the candidate's email, the timeline, the list badge, the template's
policy, and the detail page's handlers for admins and reviewers."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from interview_app.models import AccommodationRequest, Candidate, Interview, InterviewEvent, InterviewTemplate
from interview_app.services import accommodations, interview_list, templates
from interview_app.services.accommodations import AccommodationError, decide_accommodation, request_accommodation
from interview_app.services.email import EmailError
from interview_app.settings import Settings, get_settings
from interview_app.state.admin_detail import InterviewDetailState
from interview_app.state.admin_templates import TemplatesState
from tests.admin.test_admin_state_guards import people, run, state_for  # noqa: F401  (people is a fixture)
from tests.conftest import Mail
from tests.factories import make_interview, make_template

BOSS = "boss@example.com"


@pytest.fixture
def settings(app_db, settings_env) -> Settings:
    return settings_env(SUPPORT_EMAIL="team@example.com")


def _requested(session: Session, settings: Settings, kinds: list[str], note: str = "", **template: object) -> tuple[Interview, str]:
    interview, raw = make_interview(session, template=make_template(session, **template))
    assert request_accommodation(session, raw, kinds, note, settings=settings) is not None
    return interview, raw


def _row(session: Session, interview: Interview) -> AccommodationRequest:
    session.expire_all()
    return session.exec(select(AccommodationRequest).where(AccommodationRequest.interview_id == interview.id)).one()


def _events(session: Session, interview: Interview) -> list[InterviewEvent]:
    session.expire_all()
    return list(session.exec(select(InterviewEvent).where(InterviewEvent.interview_id == interview.id).order_by(InterviewEvent.id)))


def test_granting_extra_time_records_it_tells_the_candidate_and_extends_the_interview(
    session: Session, settings: Settings, mails: list[Mail]
) -> None:
    interview, _ = _requested(session, settings, ["extra_time"], "More time, please.")
    mails.clear()
    view = decide_accommodation(session, interview.id, grant=True, extra_time_percent=50, admin_email=BOSS, settings=settings)

    assert (view.status, view.extra_time_percent, view.waiting, view.decided_by) == ("granted", 50, False, BOSS)
    assert view.message.startswith("Granted +50 % extra time") and "Email sent to" in view.message
    row = _row(session, interview)
    assert (row.status, row.extra_time_percent, row.decided_by) == ("granted", 50, BOSS) and row.decided_at is not None
    assert session.get(Interview, interview.id).extra_time_percent == 50
    event = _events(session, interview)[-1]
    assert (event.kind, event.actor) == ("accommodation_granted", BOSS)
    candidate = session.get(Candidate, interview.candidate_id)
    assert event.detail == {"extra_time_percent": 50, "by": BOSS, "email": f"Email sent to {candidate.email}."}
    [mail] = mails
    assert mail.to == candidate.email and "granted your request" in mail.body and "50 % more time" in mail.body


def test_declining_tells_the_candidate_and_grants_no_time(session: Session, settings: Settings, mails: list[Mail]) -> None:
    interview, _ = _requested(session, settings, ["extra_time", "human"])
    mails.clear()
    view = decide_accommodation(session, interview.id, grant=False, extra_time_percent=50, admin_email=BOSS, settings=settings)
    assert (view.status, view.extra_time_percent) == ("declined", 0) and view.message.startswith("Declined")
    assert _row(session, interview).status == "declined" and session.get(Interview, interview.id).extra_time_percent == 0
    event = _events(session, interview)[-1]
    assert event.kind == "accommodation_declined" and event.detail["extra_time_percent"] == 0 and event.detail["by"] == BOSS
    [mail] = mails
    assert "could not grant" in mail.body and "team@example.com" in mail.body


def test_a_request_without_extra_time_is_granted_as_arranged(session: Session, settings: Settings, mails: list[Mail]) -> None:
    interview, _ = _requested(session, settings, ["text", "human"], allow_text_mode=False)
    view = decide_accommodation(session, interview.id, grant=True, extra_time_percent=0, admin_email=BOSS, settings=settings)
    assert view.status == "granted" and view.extra_time_percent == 0
    assert "arranged" in view.message and "does not allow a text interview" in view.message and "with a person" in view.message
    assert "text format instead of voice" in mails[-1].body and "a human interviewer" in mails[-1].body


def test_the_text_format_can_be_granted_without_the_extra_time_asked_with_it(
    session: Session, settings: Settings, mails: list[Mail]
) -> None:
    interview, _ = _requested(session, settings, ["extra_time", "text"])
    view = decide_accommodation(session, interview.id, grant=True, extra_time_percent=0, admin_email=BOSS, settings=settings)
    assert view.message.startswith("Granted (the text format instead of voice): marked as arranged. No extra time was granted.")
    assert "choose the text format on their page" in view.message
    assert "without extra time" in mails[-1].body and session.get(Interview, interview.id).extra_time_percent == 0


@pytest.mark.parametrize(
    ("kinds", "grant", "percent", "expected"),
    [
        (["text"], True, 50, "did not ask for extra time"),
        (["extra_time"], True, 0, "Choose how much extra time"),
        (["extra_time"], True, 30, "+25 %, +50 % or +100 %"),
        (["extra_time"], True, True, "+25 %, +50 % or +100 %"),
        (["extra_time"], True, "50", "+25 %, +50 % or +100 %"),
        (["extra_time"], False, -25, "+25 %, +50 % or +100 %"),
    ],
)
def test_a_decision_that_cannot_be_made_is_refused_with_a_sentence_and_writes_nothing(
    session: Session, settings: Settings, mails: list[Mail], kinds: list[str], grant: bool, percent: object, expected: str
) -> None:
    interview, _ = _requested(session, settings, kinds)
    before, sent = len(_events(session, interview)), len(mails)
    with pytest.raises(AccommodationError) as err:
        decide_accommodation(session, interview.id, grant=grant, extra_time_percent=percent, admin_email=BOSS, settings=settings)  # type: ignore[arg-type]
    assert expected in err.value.message and err.value.message.endswith(".")
    assert _row(session, interview).status == "requested" and len(_events(session, interview)) == before and len(mails) == sent
    assert session.get(Interview, interview.id).extra_time_percent == 0


def test_without_an_open_request_nothing_can_be_decided(session: Session, settings: Settings, mails: list[Mail]) -> None:
    plain, _ = make_interview(session)
    with pytest.raises(AccommodationError, match="no open adjustment request"):
        decide_accommodation(session, plain.id, grant=True, extra_time_percent=25, admin_email=BOSS, settings=settings)
    for missing in ("not-a-uuid", str(uuid.uuid4())):
        with pytest.raises(AccommodationError, match="does not exist"):
            decide_accommodation(session, missing, grant=False, extra_time_percent=0, admin_email=BOSS, settings=settings)
    interview, _ = _requested(session, settings, ["extra_time"])
    decide_accommodation(session, interview.id, grant=True, extra_time_percent=25, admin_email=BOSS, settings=settings)
    with pytest.raises(AccommodationError, match="answered already"):  # the second of two admins
        decide_accommodation(session, interview.id, grant=False, extra_time_percent=0, admin_email="other@example.com", settings=settings)
    assert _row(session, interview).status == "granted" and session.get(Interview, interview.id).extra_time_percent == 25


def test_a_failed_email_to_the_candidate_is_recorded_not_raised(
    session: Session, settings: Settings, mails: list[Mail], monkeypatch: pytest.MonkeyPatch
) -> None:
    interview, _ = _requested(session, settings, ["extra_time"])

    def refuse(*_args: object) -> str:
        raise EmailError("The mail server smtp.example.com:25 refused or did not answer (TimeoutError).")

    monkeypatch.setattr(accommodations, "send_email", refuse)
    view = decide_accommodation(session, interview.id, grant=True, extra_time_percent=100, admin_email=BOSS, settings=settings)
    assert view.status == "granted" and "refused" in view.email and "refused" in view.message
    assert _events(session, interview)[-1].detail["email"].startswith("The mail server")


def test_the_timeline_shows_the_request_and_the_decision(session: Session, settings: Settings, mails: list[Mail]) -> None:
    interview, _ = _requested(session, settings, ["text", "extra_time"], "Note")
    decide_accommodation(session, interview.id, grant=True, extra_time_percent=50, admin_email=BOSS, settings=settings)
    detail = interview_list.interview_detail(session, str(interview.id))
    by_kind = {e["kind"]: e for e in detail.events}
    assert by_kind["accommodation requested"]["actor"] == "candidate"
    assert by_kind["accommodation requested"]["detail"].startswith("kinds: extra_time + text, note_chars: 4, email: Email sent to")
    assert by_kind["accommodation granted"]["actor"] == BOSS
    assert by_kind["accommodation granted"]["detail"].startswith(f"extra_time_percent: 50, by: {BOSS}, email:")


def test_the_list_shows_the_request_s_state_in_the_same_single_query(
    session: Session, settings: Settings, mails: list[Mail], app_db: sa.Engine
) -> None:
    template = make_template(session)
    session.commit()
    plain, _ = make_interview(session, template=template)
    asked, raw_asked = make_interview(session, template=template)
    granted, raw_granted = make_interview(session, template=template)
    declined, raw_declined = make_interview(session, template=template)
    for raw in (raw_asked, raw_granted, raw_declined):
        request_accommodation(session, raw, ["extra_time"], "", settings=settings)
    decide_accommodation(session, granted.id, grant=True, extra_time_percent=25, admin_email=BOSS, settings=settings)
    decide_accommodation(session, declined.id, grant=False, extra_time_percent=0, admin_email=BOSS, settings=settings)

    statements: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    filters = interview_list.ListFilters(template_id=template.id)
    session.expire_all()
    sa.event.listen(app_db, "before_cursor_execute", note)
    try:
        page = interview_list.list_interviews(session, filters)
    finally:
        sa.event.remove(app_db, "before_cursor_execute", note)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
    states = {r.id: r.accommodation for r in page.rows}
    assert states == {str(plain.id): "", str(asked.id): "requested", str(granted.id): "granted", str(declined.id): "declined"}
    assert len(interview_list.export_csv(session, filters).splitlines()) == 5


# --- the template's policy -------------------------------------------------------------------


def _draft(**overrides: object) -> templates.TemplateDraft:
    values = {"title": "Support Engineer", "questions": [{"id": "", "text": "Why support?"}]} | overrides
    return templates.TemplateDraft(**values)  # type: ignore[arg-type]


def test_the_template_policy_is_validated_saved_edited_and_duplicated(session: Session) -> None:
    assert templates.save_template(session, _draft()).accommodation_policy == "proceed"
    waiting = templates.save_template(session, _draft(accommodation_policy=" Wait "))
    session.commit()
    assert waiting.accommodation_policy == "wait"
    assert templates.draft_from_template(waiting).accommodation_policy == "wait"
    assert templates.duplicate_template(session, waiting.id).accommodation_policy == "wait"
    draft = templates.draft_from_template(waiting)
    draft.accommodation_policy = "proceed"
    assert templates.save_template(session, draft, waiting.id).accommodation_policy == "proceed"
    for bad in ("later", "", None):
        with pytest.raises(templates.TemplateError) as err:
            templates.save_template(session, _draft(accommodation_policy=bad))
        assert any("They may start right away" in p and "They wait until we answer" in p for p in err.value.problems)
    session.rollback()


def test_the_template_editor_sets_the_policy_for_admins_only(people: dict[str, str], session: Session) -> None:  # noqa: F811
    title = f"Policy {uuid.uuid4().hex[:6]}"
    reviewer = state_for(TemplatesState, people["reviewer"])
    run(reviewer, "set_accommodation_policy", value="wait")
    assert reviewer.draft.accommodation_policy == "proceed"
    admin = state_for(TemplatesState, people["admin"])
    run(admin, "new_template")
    run(admin, "set_field", name="title", value=title)
    run(admin, "set_question_field", index=0, name="text", value="Why this job?")
    run(admin, "set_accommodation_policy", value="sometimes")  # not a choice: ignored
    assert admin.draft.accommodation_policy == "proceed"
    run(admin, "set_accommodation_policy", value="wait")
    run(admin, "save")
    assert admin.problems == []
    session.expire_all()
    saved = session.exec(select(InterviewTemplate).where(InterviewTemplate.title == title)).one()
    assert saved.accommodation_policy == "wait"
    run(admin, "edit", template_id=str(saved.id))
    assert admin.draft.accommodation_policy == "wait"


# --- the detail page --------------------------------------------------------------------------


def test_a_reviewer_sees_the_request_but_cannot_decide(people: dict[str, str], session: Session, mails: list[Mail]) -> None:  # noqa: F811
    interview, raw = make_interview(session)
    request_accommodation(session, raw, ["extra_time", "human"], "<b>not markup</b>", settings=get_settings())
    state = state_for(InterviewDetailState, people["reviewer"], path=f"/admin/interviews/{interview.id}")
    run(state, "load")
    assert state.has_adjustment and state.adjustment_open and state.adjustment_asks_extra_time and not state.can_edit
    assert state.adjustment["note"] == "<b>not markup</b>" and state.adjustment["kinds_text"] == "Extra time; A human interviewer"
    run(state, "set_adjustment_extra_time", value="100")
    run(state, "grant_adjustment")
    run(state, "decline_adjustment")
    assert state.adjustment_extra_time == "50" and state.adjustment_message == state.adjustment_error == ""
    assert state.access_message == "Your role can read interviews but not change this."
    row = _row(session, interview)
    assert row.status == "requested" and session.get(Interview, interview.id).extra_time_percent == 0
    assert not any(e.kind.startswith("accommodation_g") or e.kind == "accommodation_declined" for e in _events(session, interview))


def test_an_admin_grants_from_the_detail_page_and_errors_are_sentences(
    people: dict[str, str],  # noqa: F811
    session: Session,
    mails: list[Mail],
) -> None:
    interview, raw = make_interview(session)
    request_accommodation(session, raw, ["extra_time"], "Please", settings=get_settings())
    state = state_for(InterviewDetailState, people["admin"], path=f"/admin/interviews/{interview.id}")
    run(state, "load")
    assert state.adjustment["status_label"] == "Waiting for your answer" and state.adjustment["policy_text"].startswith(
        "The candidate may start"
    )
    run(state, "set_adjustment_extra_time", value="33")  # not offered: ignored
    assert state.adjustment_extra_time == "50"
    run(state, "set_adjustment_extra_time", value="100")
    run(state, "grant_adjustment")
    assert state.adjustment_error == "" and state.adjustment_message.startswith("Granted +100 % extra time")
    assert state.adjustment["status"] == "granted" and state.adjustment["extra_time_percent"] == "100" and not state.adjustment_open
    assert state.adjustment["decided_by"].startswith("boss.")
    session.expire_all()
    assert session.get(Interview, interview.id).extra_time_percent == 100
    run(state, "decline_adjustment")  # already answered (another tab, another admin)
    assert state.adjustment_message == "" and state.adjustment_error.startswith("There is no open adjustment request")
    assert _row(session, interview).status == "granted"


def test_no_card_without_a_request(people: dict[str, str], session: Session) -> None:  # noqa: F811
    interview, _ = make_interview(session)
    state = state_for(InterviewDetailState, people["admin"], path=f"/admin/interviews/{interview.id}")
    run(state, "load")
    assert state.found and state.adjustment == {} and not state.has_adjustment
