"""start_interview against a recording fake of LiveKit's server API, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from livekit.api import TokenVerifier
from sqlmodel import Session, select

from interview_app.models import Interview, InterviewEvent, InterviewStatus
from interview_app.services.interviews import transition
from interview_app.services.start import StartError, start_interview
from tests.factories import make_interview
from tests.fakes.livekit_server import FakeLiveKitServer


def _reload(session: Session, interview: Interview) -> Interview:
    session.expire_all()
    found = session.get(Interview, interview.id)
    assert found is not None
    return found


def _events(session: Session, interview: Interview) -> list[str]:
    session.expire_all()
    return [
        e.kind for e in session.exec(select(InterviewEvent).where(InterviewEvent.interview_id == interview.id).order_by(InterviewEvent.id))
    ]


def test_first_start_creates_room_dispatches_agent_and_moves_to_in_progress(session, livekit_settings, fake_livekit) -> None:
    interview, raw = make_interview(session)
    started = start_interview(raw)

    assert started.room_name == interview.room_name == f"interview-{interview.id}"
    assert started.server_url == fake_livekit.url and not started.rejoined
    claims = TokenVerifier(fake_livekit.api_key, fake_livekit.api_secret).verify(started.token)
    assert claims.identity == f"candidate-{interview.id}" and claims.video.room == started.room_name

    room = fake_livekit.rooms[started.room_name]
    plan = json.loads(room.metadata)
    assert plan["interview_id"] == str(interview.id) and plan["questions"]
    [dispatch] = fake_livekit.dispatches[started.room_name]
    assert dispatch.agent_name == "interviewer-test"
    assert json.loads(dispatch.metadata)["interview_id"] == str(interview.id)

    row = _reload(session, interview)
    assert row.status == InterviewStatus.in_progress.value
    assert row.dispatch_id == dispatch.id and row.started_at is not None
    assert "agent_dispatched" in _events(session, row) and "status_changed" in _events(session, row)
    # server API calls carried the grants livekit-server requires (the fake refuses otherwise)
    assert all(c.status == 200 for c in fake_livekit.calls)


def test_rejoin_reuses_room_and_dispatch(session, livekit_settings, fake_livekit) -> None:
    interview, raw = make_interview(session)
    first = start_interview(raw)
    second = start_interview(raw)
    assert second.rejoined and second.room_name == first.room_name
    assert len(fake_livekit.calls_to("CreateDispatch")) == 1
    assert len(fake_livekit.calls_to("CreateRoom")) == 1
    assert _events(session, interview).count("candidate_rejoined") == 1
    assert _reload(session, interview).status == InterviewStatus.in_progress.value


def test_rejoin_after_the_room_closed_opens_it_again_with_one_new_agent(session, livekit_settings, fake_livekit) -> None:
    interview, raw = make_interview(session)
    first = start_interview(raw)
    fake_livekit.end_room(first.room_name)
    again = start_interview(raw)
    assert again.room_name == first.room_name and again.rejoined
    assert len(fake_livekit.dispatches[first.room_name]) == 1
    assert "agent_redispatched" in _events(session, interview)


@pytest.mark.parametrize(
    ("prepare", "code", "reason"),
    [
        ("unknown", 404, "unknown"),
        ("expired", 410, "expired"),
        ("cancelled", 410, "revoked"),
        ("completed", 410, "finished"),
        ("failed", 410, "failed"),
    ],
)
def test_unusable_links_are_refused_and_nothing_is_called(session, livekit_settings, fake_livekit, prepare, code, reason) -> None:
    interview, raw = make_interview(session, ttl=timedelta(seconds=-1) if prepare == "expired" else timedelta(days=1))
    if prepare == "unknown":
        raw = "not-a-token"
    elif prepare in ("cancelled", "failed"):
        transition(session, interview, prepare)
        session.commit()
    elif prepare == "completed":
        for target in ("in_progress", "processing", "completed"):
            transition(session, interview, target)
        session.commit()
    with pytest.raises(StartError) as err:
        start_interview(raw)
    assert (err.value.code, err.value.reason) == (code, reason)
    assert fake_livekit.calls == []


def test_not_configured_is_503_and_writes_nothing(session, app_db) -> None:
    interview, raw = make_interview(session)
    with pytest.raises(StartError) as err:
        start_interview(raw)
    assert err.value.code == 503 and "not set up" in err.value.message
    assert _reload(session, interview).status == InterviewStatus.invited.value


def test_livekit_failure_is_503_and_leaves_the_interview_untouched(session, livekit_settings, fake_livekit) -> None:
    interview, raw = make_interview(session)
    fake_livekit.fail_next("CreateDispatch", status=503)
    with pytest.raises(StartError) as err:
        start_interview(raw)
    assert err.value.code == 503 and "try again" in err.value.message
    row = _reload(session, interview)
    assert row.status == InterviewStatus.invited.value and row.dispatch_id is None
    assert _events(session, row) == ["invited"]
    # the retry succeeds and still dispatches exactly once
    start_interview(raw)
    assert len(fake_livekit.calls_to("CreateDispatch")) == 1


def test_unreachable_livekit_is_503(session, app_db, settings_env) -> None:
    dead = FakeLiveKitServer().start()
    env = dead.env
    dead.stop()  # nothing listens there any more
    settings_env(**env)
    _, raw = make_interview(session)
    with pytest.raises(StartError) as err:
        start_interview(raw)
    assert err.value.code == 503


def test_fifty_parallel_starts_make_one_room_and_one_dispatch(session, livekit_settings, fake_livekit) -> None:
    interview, raw = make_interview(session)
    fake_livekit.latency_seconds = 0.02  # widen the race window
    try:
        with ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(lambda _: start_interview(raw), range(50)))
    finally:
        fake_livekit.latency_seconds = 0.0
    assert {r.room_name for r in results} == {interview.room_name}
    assert sum(not r.rejoined for r in results) == 1
    assert len(fake_livekit.calls_to("CreateDispatch")) == 1
    assert len(fake_livekit.calls_to("CreateRoom")) == 1
    assert list(fake_livekit.rooms) == [interview.room_name]
    row = _reload(session, interview)
    assert row.dispatch_id == fake_livekit.dispatches[interview.room_name][0].id
    assert _events(session, row).count("status_changed") == 1


def test_the_database_lock_alone_serialises_starts(session, livekit_settings, fake_livekit, monkeypatch) -> None:
    """As if each start ran in another worker process: no shared in-process lock."""
    import contextlib

    from interview_app.services import start as start_module

    class NoLock(contextlib.AbstractContextManager):
        def __exit__(self, *exc: object) -> None:
            return None

    monkeypatch.setattr(start_module, "_LOCK_STRIPES", [NoLock()])
    interview, raw = make_interview(session)
    fake_livekit.latency_seconds = 0.02
    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(lambda _: start_interview(raw), range(20)))
    finally:
        fake_livekit.latency_seconds = 0.0
    assert sum(not r.rejoined for r in results) == 1
    assert len(fake_livekit.calls_to("CreateDispatch")) == 1


def test_a_text_mode_interview_gets_no_voice_room(session, livekit_settings, fake_livekit) -> None:
    from interview_app.services.candidate_link import choose_text_mode

    interview, raw = make_interview(session)
    assert choose_text_mode(session, raw)
    with pytest.raises(StartError) as err:
        start_interview(raw)
    assert err.value.code == 409 and fake_livekit.calls == []
    assert _reload(session, interview).status == InterviewStatus.invited.value


def test_first_start_reads_invite_candidate_and_template_in_one_select(session, livekit_settings, fake_livekit, app_db) -> None:
    """The hot path of POST /api/interview/start (bench P2): one SELECT, then only the writes."""
    import sqlalchemy as sa

    _, raw = make_interview(session)
    statements: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        statements.append(" ".join(statement.split()))

    sa.event.listen(app_db, "before_cursor_execute", note)
    try:
        start_interview(raw)
    finally:
        sa.event.remove(app_db, "before_cursor_execute", note)
    selects = [s for s in statements if s.upper().startswith("SELECT")]
    assert len(selects) == 1, statements
    assert "JOIN candidate" in selects[0] and "JOIN interview_template" in selects[0]
    if app_db.dialect.name == "postgresql":
        assert selects[0].endswith("FOR UPDATE OF interview"), selects[0]
    writes = [s.split()[0].upper() for s in statements if not s.upper().startswith(("SELECT", "BEGIN"))]
    assert set(writes) == {"INSERT", "UPDATE"}, statements


def test_start_with_the_template_gone_is_410_and_writes_nothing(session, livekit_settings, fake_livekit, app_db) -> None:
    """The outer joins keep "this invite's details are missing" apart from "unknown link"."""
    import sqlalchemy as sa

    interview, raw = make_interview(session)
    sqlite = app_db.dialect.name == "sqlite"
    with app_db.connect() as conn:  # delete the template behind the foreign key's back
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF" if sqlite else "SET session_replication_role = replica")
        conn.execute(sa.text("DELETE FROM interview_template WHERE id = :id"), {"id": interview.template_id})
        conn.commit()
        conn.exec_driver_sql("PRAGMA foreign_keys=ON" if sqlite else "SET session_replication_role = DEFAULT")
        conn.commit()
    with pytest.raises(StartError) as err:
        start_interview(raw)
    assert (err.value.code, err.value.reason) == (410, "broken")
    assert fake_livekit.calls == []
    assert _reload(session, interview).status == InterviewStatus.invited.value
