"""The completion PATCH to Greenhouse's callback url (services/greenhouse.notify_due), against a real HTTP receiver.

Greenhouse's docs ("PATCH - Mark Test as Completed"): a PATCH with no parameters to the ``url``
from send_test, with the same Basic auth; Greenhouse then fetches test_status.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from interview_app.models import GreenhouseAssignment, Interview, InterviewEvent, InterviewStatus, utcnow
from interview_app.services import greenhouse
from interview_app.services.interviews import ABANDONED_REASON, transition
from interview_app.settings import Settings
from tests.factories import at_once
from tests.fakes.http_server import RecordingReceiver
from tests.greenhouse.conftest import DOC_AUTHORIZATION, Order

GREENHOUSE_ERROR = b'{"error": "try later"}'


class Greenhouse(RecordingReceiver):
    """An HTTP server on 127.0.0.1 standing in for Greenhouse's callback: records each request, answers the statuses it is given (then 200)."""

    def callback_url(self) -> str:
        """A test instance's ``url``, as Greenhouse sends it in send_test."""
        return f"{self.base}/integrations/testing_partners/take_home_tests/{uuid.uuid4().hex[:8]}"


@pytest.fixture
def receiver() -> Iterator[Greenhouse]:
    with Greenhouse() as r:
        yield r


@pytest.fixture(autouse=True)
def only_our_assignments(app_db: sa.Engine) -> Iterator[None]:
    """The notifier PATCHes every due assignment in the database: each test starts with none (the PostgreSQL database is shared)."""
    with app_db.begin() as conn:
        conn.execute(sa.delete(GreenhouseAssignment))
    yield
    with app_db.begin() as conn:
        conn.execute(sa.delete(GreenhouseAssignment))


def ordered(session: Session, order: Order, receiver: Greenhouse, *statuses: InterviewStatus, reason: str = "") -> tuple[uuid.UUID, str]:
    """A test Greenhouse ordered (through send_test) whose callback is ``receiver``, moved through ``statuses``."""
    url = receiver.callback_url()
    interview_id = order(url=url)
    session.expire_all()
    interview = session.get(Interview, interview_id)
    for status in statuses:
        transition(session, interview, status, reason=reason)
    session.commit()
    return interview_id, url


def assignment(session: Session, interview_id: uuid.UUID) -> GreenhouseAssignment:
    session.expire_all()
    return session.exec(select(GreenhouseAssignment).where(GreenhouseAssignment.interview_id == interview_id)).one()


def kinds(session: Session, interview_id: uuid.UUID) -> list[str]:
    session.expire_all()
    rows = session.exec(
        select(InterviewEvent.kind).where(InterviewEvent.interview_id == interview_id, InterviewEvent.kind.like("greenhouse_notif%"))
    )
    return sorted(rows)


def test_a_finished_interview_is_patched_once_with_the_api_key(
    greenhouse_env: Settings,
    app_db: sa.Engine,
    session: Session,
    order: Order,
    receiver: Greenhouse,
) -> None:
    interview_id, url = ordered(session, order, receiver, InterviewStatus.expired, reason="invite expired")
    assert greenhouse.notify_due(app_db) == [(interview_id, "notified")]
    [request] = receiver.requests
    assert request.method == "PATCH" and url.endswith(request.path)
    assert request.headers["authorization"] == DOC_AUTHORIZATION  # the same Basic auth Greenhouse uses with us
    assert request.body == b""  # "No parameters are necessary with this request."
    row = assignment(session, interview_id)
    assert row.notified_at is not None and row.notify_attempts == 1 and row.last_error == ""
    assert kinds(session, interview_id) == ["greenhouse_notified", "greenhouse_notify_attempt"]
    assert greenhouse.notify_due(app_db, now=utcnow() + timedelta(days=3)) == [] and len(receiver.requests) == 1


def test_an_unfinished_interview_is_not_patched(
    greenhouse_env: Settings, app_db: sa.Engine, session: Session, order: Order, receiver: Greenhouse
) -> None:
    ordered(session, order, receiver)
    ordered(session, order, receiver, InterviewStatus.in_progress, InterviewStatus.processing)
    assert greenhouse.notify_due(app_db) == [] and receiver.requests == []


def test_a_500_is_retried_after_the_delay(
    greenhouse_env: Settings, app_db: sa.Engine, session: Session, order: Order, receiver: Greenhouse
) -> None:
    interview_id, _ = ordered(session, order, receiver, InterviewStatus.cancelled, reason="revoked by an admin")
    receiver.answer(500, GREENHOUSE_ERROR)
    start = utcnow()
    assert greenhouse.notify_due(app_db, now=start) == [(interview_id, "retrying")]
    row = assignment(session, interview_id)
    assert row.notified_at is None and row.notify_attempts == 1 and row.last_error.startswith("HTTP 500")
    assert greenhouse.notify_due(app_db, now=start + timedelta(seconds=30)) == []  # not yet due
    assert greenhouse.notify_due(app_db, now=start + timedelta(seconds=greenhouse.RETRY_DELAYS_SECONDS[0])) == [(interview_id, "notified")]
    row = assignment(session, interview_id)
    assert row.notified_at is not None and row.notify_attempts == 2 and row.last_error == ""
    assert len(receiver.requests) == 2


def test_it_gives_up_after_the_last_attempt(
    greenhouse_env: Settings, app_db: sa.Engine, session: Session, order: Order, receiver: Greenhouse
) -> None:
    interview_id, _ = ordered(session, order, receiver, InterviewStatus.expired, reason="invite expired")
    receiver.answer_always(503, GREENHOUSE_ERROR)
    now = utcnow()
    outcomes = []
    for delay in (0, *greenhouse.RETRY_DELAYS_SECONDS):
        now += timedelta(seconds=delay)
        outcomes += [outcome for _, outcome in greenhouse.notify_due(app_db, now=now)]
    assert outcomes == ["retrying"] * (greenhouse.MAX_NOTIFY_ATTEMPTS - 1) + ["gave_up"]
    row = assignment(session, interview_id)
    assert row.notified_at is None and row.notify_attempts == greenhouse.MAX_NOTIFY_ATTEMPTS
    assert row.last_error.startswith("HTTP 503") and row.last_error.endswith(f"Gave up after {greenhouse.MAX_NOTIFY_ATTEMPTS} attempts.")
    assert greenhouse.notify_due(app_db, now=now + timedelta(days=30)) == []
    assert len(receiver.requests) == greenhouse.MAX_NOTIFY_ATTEMPTS


def test_a_redirect_is_not_followed(
    greenhouse_env: Settings, app_db: sa.Engine, session: Session, order: Order, receiver: Greenhouse
) -> None:
    interview_id, _ = ordered(session, order, receiver, InterviewStatus.expired, reason="invite expired")
    receiver.answer(302, Location=f"{receiver.base}/elsewhere")
    assert greenhouse.notify_due(app_db) == [(interview_id, "retrying")]
    assert [r.path for r in receiver.requests if r.path == "/elsewhere"] == []
    assert "redirects are not followed" in assignment(session, interview_id).last_error


def test_an_unreachable_callback_is_an_error_sentence(greenhouse_env: Settings, app_db: sa.Engine, session: Session, order: Order) -> None:
    closed = Greenhouse().start()
    closed.stop()  # nothing listens on its port any more
    interview_id, _ = ordered(session, order, closed, InterviewStatus.expired, reason="invite expired")
    assert greenhouse.notify_due(app_db) == [(interview_id, "retrying")]
    assert assignment(session, interview_id).last_error.startswith("Greenhouse could not be reached")


def test_a_failure_inferred_from_the_room_is_reported_after_the_grace(
    greenhouse_env: Settings,
    app_db: sa.Engine,
    session: Session,
    order: Order,
    receiver: Greenhouse,
) -> None:
    interview_id, _ = ordered(session, order, receiver, InterviewStatus.in_progress, InterviewStatus.failed, reason=ABANDONED_REASON)
    assert greenhouse.notify_due(app_db) == []  # a late result may still replace the failure
    later = utcnow() + greenhouse.INFERRED_FAILURE_GRACE + timedelta(seconds=1)
    assert greenhouse.notify_due(app_db, now=later) == [(interview_id, "notified")]


def test_nothing_is_sent_while_the_key_is_unset(
    settings_env, app_db: sa.Engine, session: Session, order: Order, receiver: Greenhouse
) -> None:
    interview_id, _ = ordered(session, order, receiver, InterviewStatus.expired, reason="invite expired")
    settings_env(GREENHOUSE_API_KEY="")
    assert greenhouse.notify_due(app_db) == [] and receiver.requests == []
    assert assignment(session, interview_id).notify_attempts == 0


def test_concurrent_workers_send_one_patch(
    greenhouse_env: Settings, app_db: sa.Engine, session: Session, order: Order, receiver: Greenhouse
) -> None:
    interview_id, _ = ordered(session, order, receiver, InterviewStatus.expired, reason="invite expired")
    results = at_once(4, lambda _: greenhouse.notify_due(app_db))
    assert sorted(r for r in results if r) == [[(interview_id, "notified")]]
    assert len(receiver.requests) == 1 and assignment(session, interview_id).notify_attempts == 1
