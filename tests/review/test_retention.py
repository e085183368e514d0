"""Retention deletes exactly what is due; deleting a candidate's data leaves only an audit event."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from interview_app.models import Candidate, Evaluation, Interview, InterviewEvent, TranscriptSegment, utcnow
from interview_app.services.retention import DeletionError, apply_retention, delete_candidate_data
from interview_app.services.storage import LocalStorage, recording_key, storage_from_settings, transcript_key
from tests.review.helpers import finished_interview


@pytest.fixture
def storage(settings_env, tmp_path: Path, app_db: sa.Engine) -> LocalStorage:
    s = storage_from_settings(settings_env(STORAGE_LOCAL_DIR=str(tmp_path / "store"), RETENTION_DAYS="30"))
    assert isinstance(s, LocalStorage)
    return s


def _stored_interview(session: Session, storage: LocalStorage, *, ended_days_ago: float, status: str = "completed") -> Interview:
    interview, _ = finished_interview(session, evaluation=False)
    iid = str(interview.id)
    interview.s3_recording_url = storage.put(recording_key(iid, "ogg"), b"OggS-audio")
    interview.s3_transcript_url = storage.put(transcript_key(iid), b'{"segments": []}')
    interview.status = status
    interview.ended_at = utcnow() - timedelta(days=ended_days_ago)
    session.add(interview)
    session.add(
        Evaluation(
            interview_id=interview.id,
            status="done",
            scores=[{"criterion": "Technical depth", "score": 4, "evidence": [{"quote": "two million invoices", "seq": 1}]}],
        )
    )
    session.commit()
    return interview


def _segments(session: Session, interview: Interview) -> int:
    return len(session.exec(select(TranscriptSegment).where(TranscriptSegment.interview_id == interview.id)).all())


def test_retention_deletes_exactly_what_is_due(session: Session, storage: LocalStorage, settings_env) -> None:
    old = _stored_interview(session, storage, ended_days_ago=31)
    recent = _stored_interview(session, storage, ended_days_ago=29)
    running = _stored_interview(session, storage, ended_days_ago=40, status="processing")  # not finished: kept

    old_uris = sorted([old.s3_recording_url, old.s3_transcript_url])
    mine = {old.id, recent.id, running.id}  # the PostgreSQL database is shared by the test run
    dry = apply_retention(session, dry_run=True)
    assert [i.interview_id for i in dry.items if i.interview_id in mine] == [old.id]
    assert storage.exists(old.s3_recording_url) and _segments(session, old) == 6  # dry run touches nothing

    report = apply_retention(session)
    items = [i for i in report.items if i.interview_id in mine]
    assert [i.interview_id for i in items] == [old.id] and report.errors == []
    assert sorted(items[0].objects) == old_uris

    session.expire_all()
    gone = session.get(Interview, old.id)
    assert gone.s3_recording_url is None and gone.s3_transcript_url is None and gone.status == "completed"
    assert _segments(session, gone) == 0
    assert not storage.list_keys(f"interviews/{old.id}/")
    ev = session.exec(select(Evaluation).where(Evaluation.interview_id == old.id)).one()
    assert ev.scores[0]["score"] == 4 and ev.scores[0]["evidence"] == []  # quotes were transcript text
    for kept in (recent, running):
        assert storage.exists(kept.s3_recording_url) and storage.exists(kept.s3_transcript_url)
        assert _segments(session, kept) == 6
    audit = session.exec(
        select(InterviewEvent).where(InterviewEvent.interview_id == old.id, InterviewEvent.kind == "retention_deleted")
    ).one()
    assert audit.detail["objects"] == 2 and audit.detail["transcript_segments"] == 6

    assert not [i for i in apply_retention(session).items if i.interview_id in mine]  # nothing is due twice


def test_zero_days_keeps_everything(session: Session, storage: LocalStorage, settings_env) -> None:
    old = _stored_interview(session, storage, ended_days_ago=400)
    settings_env(RETENTION_DAYS="0")
    report = apply_retention(session)
    assert report.cutoff is None and report.items == []
    assert storage.exists(old.s3_recording_url)


def test_retention_cli_dry_run_lists_and_run_deletes(session: Session, storage: LocalStorage, capsys) -> None:
    from interview_app.cli import main

    old = _stored_interview(session, storage, ended_days_ago=45)
    assert main(["retention", "--dry-run"]) == 0
    out = capsys.readouterr().out
    recording = old.s3_recording_url
    assert f"Would delete: interview {old.id}" in out and recording in out
    assert storage.exists(recording)
    assert main(["retention"]) == 0
    assert f"Deleted: interview {old.id}" in capsys.readouterr().out
    assert not storage.exists(recording)


def test_delete_candidate_data_removes_rows_and_files(session: Session, storage: LocalStorage) -> None:
    interview = _stored_interview(session, storage, ended_days_ago=1)
    other = _stored_interview(session, storage, ended_days_ago=1)
    candidate = session.get(Candidate, interview.candidate_id)
    name, email = candidate.name, candidate.email

    report = delete_candidate_data(session, candidate.id, actor="lead@example.com")
    assert report.interviews == 1 and report.objects == 2

    session.expire_all()
    assert session.get(Candidate, candidate.id) is None
    assert session.get(Interview, interview.id) is None
    assert _segments(session, interview) == 0
    assert session.exec(select(Evaluation).where(Evaluation.interview_id == interview.id)).all() == []
    assert session.exec(select(InterviewEvent).where(InterviewEvent.interview_id == interview.id)).all() == []
    assert not storage.list_keys(f"interviews/{interview.id}/")
    assert storage.exists(other.s3_recording_url) and session.get(Interview, other.id) is not None

    audit = session.exec(
        select(InterviewEvent).where(InterviewEvent.kind == "candidate_data_deleted", InterviewEvent.actor == "lead@example.com")
    ).all()
    audit = [a for a in audit if a.detail["candidate_id"] == candidate.id]
    assert len(audit) == 1 and audit[0].interview_id is None
    assert audit[0].detail["interview_ids"] == [str(interview.id)] and audit[0].detail["storage_objects"] == 2
    assert name not in str(audit[0].detail) and email not in str(audit[0].detail)

    with pytest.raises(DeletionError, match="already deleted"):
        delete_candidate_data(session, candidate.id, actor="lead@example.com")
