"""ReviewState handlers refuse without a session and check roles server-side (not just in the UI)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import reflex as rx
from reflex.istate.data import RouterData
from sqlmodel import Session, select

from interview_app.models import Candidate, Evaluation, Interview, InterviewEvent
from interview_app.services.auth import create_admin, create_session
from interview_app.services.storage import LocalStorage, recording_key, storage_from_settings
from tests.admin.test_admin_state_guards import connection_headers
from tests.review.helpers import finished_interview


@pytest.fixture
def review_state():
    import interview_app.interview_app  # noqa: F401  (registers the states)
    from interview_app.state.review import ReviewState

    root = rx.State(_reflex_internal_init=True)
    return root.get_substate(ReviewState.get_full_name().split(".")[1:])


@pytest.fixture
def stored(session: Session, settings_env, tmp_path: Path):
    storage = storage_from_settings(settings_env(STORAGE_LOCAL_DIR=str(tmp_path / "store"), APP_URL="http://127.0.0.1:3999"))
    assert isinstance(storage, LocalStorage)
    interview, _ = finished_interview(session, evaluation=False)
    interview.s3_recording_url = storage.put(recording_key(str(interview.id), "ogg"), b"OggS")
    interview.status = "completed"
    session.add(interview)
    session.add(Evaluation(interview_id=interview.id, status="needs_llm"))
    tag = uuid.uuid4().hex[:6]
    tokens = {}
    for role in ("admin", "reviewer"):
        user = create_admin(session, f"{role}.{tag}@example.com", "long-enough-password", role=role)
        tokens[role] = (create_session(session, user, ttl_minutes=30), user.email)
    session.commit()
    return interview, tokens


def _at(state, interview_id: uuid.UUID, token: str) -> None:
    state.router = RouterData.from_router_data(
        {
            "pathname": "/admin/interviews/[interview_id]",
            "asPath": f"/admin/interviews/{interview_id}",
            "headers": {**connection_headers(token), "origin": "http://127.0.0.1:3999"},
        }
    )


def _call(state, name: str, *args):
    return type(state).event_handlers[name].fn(state, *args)


def _views(session: Session, interview_id: uuid.UUID) -> list[InterviewEvent]:
    session.expire_all()
    return session.exec(
        select(InterviewEvent).where(InterviewEvent.interview_id == interview_id, InterviewEvent.kind == "recording_viewed")
    ).all()


def test_without_a_session_every_handler_refuses(review_state, stored, session: Session) -> None:
    interview, _ = stored
    _at(review_state, interview.id, "not-a-session")
    _call(review_state, "load_review")
    assert review_state.review_error.startswith("Sign in") and review_state.media_url == "" and review_state.segments == []
    review_state.review_interview_id = str(interview.id)  # even with the id set by hand
    assert _call(review_state, "download_transcript_json") is None
    assert _call(review_state, "download_transcript_text") is None
    _call(review_state, "refresh_recording_link")
    assert review_state.media_url == ""
    _call(review_state, "track_position", 12.0)
    assert review_state.position_ms == 0
    _call(review_state, "delete_candidate")
    _call(review_state, "rerun_evaluation")
    session.expire_all()
    assert session.get(Candidate, interview.candidate_id) is not None
    assert session.exec(select(Evaluation).where(Evaluation.interview_id == interview.id)).one().status == "needs_llm"
    assert _views(session, interview.id) == []


def test_a_reviewer_views_but_cannot_rerun_or_delete(review_state, stored, session: Session) -> None:
    interview, tokens = stored
    token, email = tokens["reviewer"]
    _at(review_state, interview.id, token)
    _call(review_state, "load_review")
    assert review_state.review_loaded and not review_state.can_manage
    assert review_state.media_url.startswith("http://127.0.0.1:3999/api/files/interviews/")
    assert len(review_state.segments) == 6 and review_state.evaluation_status == "needs_llm"
    assert [v.actor for v in _views(session, interview.id)] == [email]
    assert _call(review_state, "download_transcript_json") is not None

    _call(review_state, "rerun_evaluation")
    assert "Only an admin" in review_state.action_message
    _call(review_state, "delete_candidate")
    session.expire_all()
    assert session.get(Interview, interview.id) is not None
    assert session.exec(select(Evaluation).where(Evaluation.interview_id == interview.id)).one().status == "needs_llm"


def test_an_admin_reruns_and_deletes(review_state, stored, session: Session) -> None:
    interview, tokens = stored
    token, email = tokens["admin"]
    _at(review_state, interview.id, token)
    _call(review_state, "load_review")
    assert review_state.can_manage
    _call(review_state, "seek_to", 3)
    assert review_state.position_ms == 12_000 and review_state.active_seq == 3
    assert (review_state.player_seek.at, review_state.player_seek.play) == (12.0, True)
    review_state.transcript_query = "PERCENTILES"
    assert [s.seq for s in review_state.visible_segments] == [5]

    _call(review_state, "rerun_evaluation")
    session.expire_all()
    assert session.exec(select(Evaluation).where(Evaluation.interview_id == interview.id)).one().status == "pending"

    interview_id, candidate_id = interview.id, interview.candidate_id
    _call(review_state, "delete_candidate")
    session.expunge_all()
    assert session.get(Interview, interview_id) is None and session.get(Candidate, candidate_id) is None
    audit = session.exec(select(InterviewEvent).where(InterviewEvent.kind == "candidate_data_deleted", InterviewEvent.actor == email)).one()
    assert audit.interview_id is None and audit.detail["interview_ids"] == [str(interview_id)]


def test_an_expired_link_is_renewed_when_the_player_fails(review_state, stored, session: Session) -> None:
    interview, tokens = stored
    _at(review_state, interview.id, tokens["reviewer"][0])
    _call(review_state, "load_review")
    first = review_state.media_url
    _call(review_state, "recording_failed")  # link still valid: no new link, a sentence instead
    assert review_state.media_url == first and "could not be played" in review_state.media_message
    assert len(_views(session, interview.id)) == 1

    review_state.media_expires_ts = 1  # the link has expired
    review_state.position_ms = 7_500
    _call(review_state, "recording_failed")
    assert review_state.media_url.startswith("http://127.0.0.1:3999/api/files/") and review_state.media_message == ""
    assert review_state.media_expires_ts > 1 and review_state.resume_ms == 7_500
    assert len(_views(session, interview.id)) == 2
    _call(review_state, "recording_ready")  # the new link's metadata: the player goes back to 7.5 s, paused
    assert (review_state.player_seek.at, review_state.player_seek.play, review_state.resume_ms) == (7.5, False, 0)
    seeks = review_state.player_seek.n
    _call(review_state, "recording_ready")  # a later load of the same link does not move it
    assert review_state.player_seek.n == seeks
