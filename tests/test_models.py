"""Models and contracts: validated payloads, invite checks (their imports: tests/test_import_direction.py)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlmodel import Session, select

from interview_app.contracts import InterviewPlan, InterviewResult
from interview_app.models import Interview, InterviewStatus
from interview_app.services.interviews import InviteError, build_plan, check_invite, find_by_token, hash_token, transition
from tests.factories import make_interview


def test_only_the_token_hash_is_stored(session: Session) -> None:
    interview, raw = make_interview(session)
    row = session.get(Interview, interview.id)
    assert row is not None and row.invite_token_hash == hash_token(raw) and raw not in row.invite_token_hash
    assert find_by_token(session, raw).id == interview.id  # type: ignore[union-attr]
    assert find_by_token(session, raw + "x") is None
    assert find_by_token(session, "") is None


def test_invite_checks_say_why(session: Session) -> None:
    interview, raw = make_interview(session)
    assert check_invite(find_by_token(session, raw)) is not None
    with pytest.raises(InviteError) as err:
        check_invite(None)
    assert err.value.code == 404
    expired, raw_expired = make_interview(session, ttl=timedelta(seconds=-1))
    with pytest.raises(InviteError) as err:
        check_invite(find_by_token(session, raw_expired))
    assert (err.value.code, err.value.reason) == (410, "expired")
    transition(session, interview, InterviewStatus.cancelled)
    session.commit()
    with pytest.raises(InviteError) as err:
        check_invite(find_by_token(session, raw))
    assert err.value.reason == "revoked"


def test_plan_built_from_template_validates(session: Session) -> None:
    interview, _ = make_interview(session)
    from interview_app.models import Candidate, InterviewTemplate

    plan = build_plan(interview, session.get(Candidate, interview.candidate_id), session.get(InterviewTemplate, interview.template_id))
    again = InterviewPlan.model_validate_json(plan.model_dump_json())
    assert again == plan and len(plan.questions) == 3 and plan.duration_limit_seconds == 1200


def test_contracts_refuse_bad_payloads() -> None:
    with pytest.raises(ValidationError):
        InterviewPlan.model_validate({"interview_id": "x", "candidate_name": "A", "role_title": "B", "questions": []})
    with pytest.raises(ValidationError):
        InterviewResult.model_validate({"interview_id": str(uuid.uuid4()), "outcome": "maybe"})
    ok = InterviewResult.model_validate(
        {
            "interview_id": str(uuid.uuid4()),
            "outcome": "completed",
            "segments": [{"seq": 0, "speaker": "agent", "text": "Hi", "start_ms": 0, "end_ms": 10}],
        }
    )
    assert ok.segments[0].speaker == "agent"


def test_admin_list_indexes_exist(session: Session) -> None:
    import sqlalchemy as sa

    names = {ix["name"] for ix in sa.inspect(session.get_bind()).get_indexes("interview")}
    assert {"ix_interview_status_created", "ix_interview_created_id", "ix_interview_candidate_id"} <= names
    assert session.exec(select(Interview)).all() is not None


def test_overdue_invitations_become_expired_and_only_those(session: Session) -> None:
    from interview_app.services.interviews import expire_overdue_invitations

    overdue, _ = make_interview(session, ttl=timedelta(seconds=-1))
    fresh, _ = make_interview(session)
    started, _ = make_interview(session, ttl=timedelta(seconds=-1))
    transition(session, started, InterviewStatus.cancelled)
    session.commit()
    assert expire_overdue_invitations(session) >= 1
    session.commit()
    for row in (overdue, fresh, started):
        session.refresh(row)
    assert (overdue.status, fresh.status, started.status) == ("expired", "invited", "cancelled")
    assert overdue.end_reason == "invitation link expired"
    assert expire_overdue_invitations(session) == 0
