"""The candidate's own language: what a link offers, the choice, and the plan the interviewer gets (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, func, select

from interview_app.models import Candidate, Interview, InterviewEvent, InterviewStatus, InterviewTemplate
from interview_app.services.candidate_link import choose_language, describe_link
from interview_app.services.interviews import build_plan, transition
from tests.factories import make_interview, make_template


def _spanish_first(session: Session) -> tuple[Interview, str]:
    """An invited interview whose template is in Spanish and also offers English and German."""
    template = make_template(session, language="es", languages=["es", "en", "de"])
    return make_interview(session, template=template)


def _events(session: Session, interview: Interview) -> list[InterviewEvent]:
    session.expire_all()
    return list(
        session.exec(
            select(InterviewEvent)
            .where(InterviewEvent.interview_id == interview.id, InterviewEvent.kind == "language_chosen")
            .order_by(InterviewEvent.id)
        )
    )


def _stored(session: Session, interview: Interview) -> Interview:
    session.expire_all()
    return session.get(Interview, interview.id)


def test_a_link_offers_the_templates_languages_with_its_own_first(session: Session) -> None:
    interview, raw = _spanish_first(session)
    view = describe_link(session, raw)
    assert view.state == "valid"
    assert view.languages == ("es", "en", "de")
    assert view.language == "es" and view.language_chosen is False  # the template's until the candidate chooses

    plain, plain_raw = make_interview(session)  # a template that offers only its own language
    assert describe_link(session, plain_raw).languages == ("en",) and describe_link(session, plain_raw).language == "en"

    unknown = describe_link(session, "no-such-token")
    assert unknown.state == "unknown" and unknown.languages == () and unknown.language == ""


def test_choosing_an_offered_language_stores_it_once(session: Session) -> None:
    interview, raw = _spanish_first(session)
    before = _stored(session, interview).updated_at

    assert choose_language(session, raw, "de") is True
    stored = _stored(session, interview)
    assert stored.language == "de" and stored.updated_at >= before
    [event] = _events(session, interview)
    assert event.actor == "candidate" and event.detail == {"language": "de"}
    view = describe_link(session, raw)
    assert view.language == "de" and view.language_chosen is True

    for _ in range(3):  # a repeated click (or a script) writes nothing more
        assert choose_language(session, raw, "de") is True
    assert len(_events(session, interview)) == 1

    assert choose_language(session, raw, " EN ") is True  # case and spaces aside
    assert _stored(session, interview).language == "en"
    assert [e.detail for e in _events(session, interview)] == [{"language": "de"}, {"language": "en"}]


def test_confirming_the_templates_own_language_is_a_choice(session: Session) -> None:
    interview, raw = _spanish_first(session)
    assert choose_language(session, raw, "es") is True
    assert _stored(session, interview).language == "es" and describe_link(session, raw).language_chosen is True
    assert choose_language(session, raw, "es") is True
    assert [e.detail for e in _events(session, interview)] == [{"language": "es"}]


@pytest.mark.parametrize(
    "language",
    ["fr", "ar", "xx", "", "   ", None, 5, 1.5, True, ["de"], {"code": "de"}, "de" + " " * 15, "d" * 17, "de\x00"],
    ids=repr,
)
def test_a_language_not_offered_or_not_a_code_is_refused_and_writes_nothing(session: Session, language: Any) -> None:
    interview, raw = _spanish_first(session)
    before = _stored(session, interview)
    snapshot = (before.language, before.updated_at, before.status)
    assert choose_language(session, raw, language) is False
    after = _stored(session, interview)
    assert (after.language, after.updated_at, after.status) == snapshot
    assert _events(session, interview) == []


@pytest.mark.parametrize("token", ["no-such-token", "", "../../etc", None, 42, b"bytes"], ids=repr)
def test_an_unusable_link_is_refused(session: Session, token: Any) -> None:
    _spanish_first(session)
    count = session.exec(select(func.count()).select_from(InterviewEvent).where(InterviewEvent.kind == "language_chosen")).one()
    assert choose_language(session, token, "de") is False
    assert session.exec(select(func.count()).select_from(InterviewEvent).where(InterviewEvent.kind == "language_chosen")).one() == count


def test_a_cancelled_interview_takes_no_choice(session: Session) -> None:
    interview, raw = _spanish_first(session)
    transition(session, interview, InterviewStatus.cancelled, reason="revoked")
    session.commit()
    assert choose_language(session, raw, "de") is False
    assert _stored(session, interview).language is None and _events(session, interview) == []


def test_once_started_the_language_is_fixed(session: Session) -> None:
    interview, raw = _spanish_first(session)
    assert choose_language(session, raw, "de")
    transition(session, _stored(session, interview), InterviewStatus.in_progress)
    session.commit()

    assert choose_language(session, raw, "en") is False  # offered, but too late
    assert choose_language(session, raw, "de") is True  # what it already is: nothing to change
    stored = _stored(session, interview)
    assert stored.language == "de" and stored.status == "in_progress"
    assert len(_events(session, interview)) == 1


def test_started_without_a_choice_keeps_the_templates_language(session: Session) -> None:
    interview, raw = _spanish_first(session)
    transition(session, interview, InterviewStatus.in_progress)
    session.commit()
    assert choose_language(session, raw, "es") is True
    assert choose_language(session, raw, "de") is False
    assert _stored(session, interview).language is None and _events(session, interview) == []


def test_the_plan_is_in_the_chosen_language_else_the_templates(session: Session) -> None:
    interview, raw = _spanish_first(session)
    template = session.get(InterviewTemplate, interview.template_id)
    candidate = session.get(Candidate, interview.candidate_id)
    assert build_plan(_stored(session, interview), candidate, template).language == "es"
    assert choose_language(session, raw, "de")
    assert build_plan(_stored(session, interview), candidate, template).language == "de"


def test_the_voice_start_sends_the_chosen_language_and_fixes_it(session: Session, livekit_settings, fake_livekit) -> None:
    """The start path reads the interview with SQLAlchemy Core: the chosen language reaches the interviewer's plan."""
    import json

    from interview_app.services.start import start_interview

    interview, raw = _spanish_first(session)
    assert choose_language(session, raw, "de")
    started = start_interview(raw)
    assert json.loads(fake_livekit.rooms[started.room_name].metadata)["language"] == "de"
    [dispatch] = fake_livekit.dispatches[started.room_name]
    assert json.loads(dispatch.metadata)["language"] == "de"
    assert choose_language(session, raw, "en") is False and _stored(session, interview).language == "de"
