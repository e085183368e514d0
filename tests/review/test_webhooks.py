"""Signed outbound webhooks (services/webhooks.py) on SQLite and PostgreSQL, against a real HTTP receiver.

Endpoint validation, events queued in the transaction that causes them (a result accepted, an
evaluation finished), signing and its verification, delivery with retries and backoff, the
exactly-once claim across threads, the stale lease, send again, and retention.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from interview_app.contracts import InterviewResult
from interview_app.contracts import TranscriptSegment as SegmentContract
from interview_app.models import Evaluation, InterviewEvent, WebhookDelivery, WebhookEndpoint, utcnow
from interview_app.services import webhooks
from interview_app.services.evaluation import run_pending
from interview_app.services.interviews import as_aware, transition
from interview_app.services.results import accept_result
from interview_app.services.retention import apply_retention, delete_candidate_data
from interview_app.services.webhooks import (
    EVALUATION_READY,
    INTERVIEW_COMPLETED,
    MAX_ATTEMPTS,
    RETRY_DELAYS_SECONDS,
    WebhookError,
    claim_next,
    create_endpoint,
    delete_endpoint,
    deliver_due,
    enqueue,
    rotate_secret,
    send_again,
    set_active,
    sign,
    verify_signature,
)
from interview_app.settings import get_settings
from tests.factories import accept_concurrently, at_once, interview_result, make_interview
from tests.fakes.http_server import RecordingReceiver
from tests.review.conftest import ChatCompletionsServer
from tests.review.helpers import finished_interview

# --------------------------------------------------------------------------- a real receiver


HOOK_PATH = "/hooks/interviews"


@pytest.fixture
def receiver() -> Iterator[RecordingReceiver]:
    """An HTTP server on 127.0.0.1 that records every POST and answers with the statuses it is given (then 200)."""
    with RecordingReceiver(HOOK_PATH) as r:
        yield r


def _clear(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.delete(WebhookDelivery))
        conn.execute(sa.delete(WebhookEndpoint))
        # The PostgreSQL database is shared by the run: park evaluation jobs other tests left behind.
        conn.execute(sa.update(Evaluation).where(Evaluation.status.in_(["pending", "running"])).values(status="failed"))


@pytest.fixture(autouse=True)
def clean_webhooks(app_db: sa.Engine) -> Iterator[None]:
    """Each test starts without endpoints or deliveries, and leaves none for the tests after it."""
    _clear(app_db)
    yield
    _clear(app_db)


def endpoint(session: Session, url: str, *types: str, **kwargs: object) -> WebhookEndpoint:
    ep = create_endpoint(session, url, list(types) or [INTERVIEW_COMPLETED, EVALUATION_READY], "test", actor="boss@example.com", **kwargs)
    session.commit()
    return ep


def deliveries(session: Session) -> list[WebhookDelivery]:
    session.expire_all()
    return list(session.exec(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def a_result(interview_id: uuid.UUID, outcome: str = "completed") -> InterviewResult:
    words = "I designed the idempotent retry logic so a charge is never taken twice when a worker restarts"
    segments = [
        SegmentContract(seq=0, speaker="agent", text="Tell me about a system you built.", start_ms=0, end_ms=900),
        SegmentContract(seq=1, speaker="candidate", text=words, start_ms=1000, end_ms=5000),
    ]
    return interview_result(interview_id, segments, outcome=outcome)


# --------------------------------------------------------------------------- endpoints


@pytest.mark.parametrize(
    ("url", "sentence"),
    [
        ("", "Enter the URL the events should be posted to"),
        ("ftp://ats.example.com/hooks", "The URL must start with https://"),
        ("ats.example.com/hooks", "The URL must start with https://"),
        ("https:///hooks", "The URL has no host name"),
        ("https://user:pw@ats.example.com/hooks", "Put no user name or password in the URL"),
        ("https://ats.example.com/hooks#x", "Remove the #fragment"),
        ("https://ats.example.com:99999/hooks", "That is not a valid URL"),
        ("https://ats.example.com/a b", "spaces or control characters"),
        ("https://ats.example.com/" + "a" * 500, "longer than 500 characters"),
    ],
)
def test_a_bad_url_is_refused_with_a_sentence(session: Session, url: str, sentence: str) -> None:
    with pytest.raises(WebhookError) as err:
        create_endpoint(session, url, [INTERVIEW_COMPLETED])
    assert sentence in str(err.value)
    assert str(err.value).endswith(".")
    session.rollback()
    assert session.exec(select(WebhookEndpoint)).all() == []


def test_event_types_must_be_known_and_at_least_one(session: Session) -> None:
    with pytest.raises(WebhookError, match="Choose at least one event type"):
        create_endpoint(session, "https://ats.example.com/hooks", [])
    with pytest.raises(WebhookError, match="Unknown event type “interview.deleted”"):
        create_endpoint(session, "https://ats.example.com/hooks", [INTERVIEW_COMPLETED, "interview.deleted"])
    with pytest.raises(WebhookError, match="description is longer than 200"):
        create_endpoint(session, "https://ats.example.com/hooks", [INTERVIEW_COMPLETED], "d" * 201)
    ep = create_endpoint(session, " https://ats.example.com/hooks ", ["decision.made", EVALUATION_READY, EVALUATION_READY])
    assert ep.url == "https://ats.example.com/hooks"
    assert ep.event_types == [EVALUATION_READY, "decision.made"]  # known order, once each
    session.rollback()


def test_production_takes_only_https(session: Session) -> None:
    production = dataclasses.replace(get_settings(), app_env="production")
    with pytest.raises(WebhookError, match="In production the URL must use https://"):
        create_endpoint(session, "http://ats.example.com/hooks", [INTERVIEW_COMPLETED], settings=production)
    assert create_endpoint(session, "https://ats.example.com/hooks", [INTERVIEW_COMPLETED], settings=production).id
    assert create_endpoint(session, "http://127.0.0.1:9/hooks", [INTERVIEW_COMPLETED]).id  # development: http is fine
    session.rollback()


def test_secrets_are_random_urlsafe_and_rotate(session: Session) -> None:
    a = endpoint(session, "https://a.example.com/h")
    b = endpoint(session, "https://b.example.com/h")
    assert len(a.secret) >= 43 and a.secret != b.secret
    assert set(a.secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    old = a.secret
    rotate_secret(session, a.id, actor="boss@example.com")
    session.commit()
    session.expire_all()
    assert session.get(WebhookEndpoint, a.id).secret not in ("", old)
    kinds = [e.kind for e in session.exec(select(InterviewEvent).where(InterviewEvent.actor == "boss@example.com"))]
    assert {"webhook_endpoint_created", "webhook_secret_rotated"} <= set(kinds)
    details = json.dumps([e.detail for e in session.exec(select(InterviewEvent).where(InterviewEvent.actor == "boss@example.com"))])
    assert old not in details and a.secret not in details  # the audit trail never holds a secret


# --------------------------------------------------------------------------- events


def test_an_accepted_result_queues_interview_completed_in_its_transaction(session: Session) -> None:
    wanted = endpoint(session, "https://ats.example.com/completed", INTERVIEW_COMPLETED)
    endpoint(session, "https://ats.example.com/evaluations", EVALUATION_READY)  # not subscribed
    paused = endpoint(session, "https://ats.example.com/paused", INTERVIEW_COMPLETED)
    set_active(session, paused.id, False)
    session.commit()
    interview, _ = make_interview(session)
    transition(session, interview, "in_progress")
    session.commit()

    assert accept_result(session, a_result(interview.id), source="webhook").status == "accepted"
    rows = deliveries(session)
    assert [(r.endpoint_id, r.event_type, r.status, r.attempts) for r in rows] == [(wanted.id, INTERVIEW_COMPLETED, "pending", 0)]
    payload = rows[0].payload
    assert set(payload) == {"id", "type", "created_at", "data"}
    assert payload["id"] == rows[0].event_id and uuid.UUID(payload["id"])
    assert payload["type"] == INTERVIEW_COMPLETED and datetime.fromisoformat(payload["created_at"])
    data = payload["data"]
    session.refresh(interview)
    assert data["interview_id"] == str(interview.id) and data["status"] == "processing"
    assert data["candidate"]["email"].endswith("@example.com") and data["candidate"]["name"].startswith("Casey")
    assert set(data["candidate"]) == {"name", "email", "external_ref"}
    assert data["template"]["id"] == interview.template_id and data["template"]["title"].startswith("Engineer")
    assert data["mode"] == "voice" and data["language"] == "en" and data["end_reason"] == "all questions covered"
    assert data["started_at"] and data["ended_at"]
    assert data["review_url"] == f"{get_settings().app_url}/admin/interviews/{interview.id}"

    # A second delivery of the same result changes nothing, so queues nothing.
    assert accept_result(session, a_result(interview.id), source="webhook").status == "duplicate"
    assert len(deliveries(session)) == 1


def test_a_failed_result_or_a_rolled_back_change_queues_nothing(session: Session) -> None:
    endpoint(session, "https://ats.example.com/completed", INTERVIEW_COMPLETED)
    interview, _ = make_interview(session)
    transition(session, interview, "in_progress")
    session.commit()
    accept_result(session, a_result(interview.id, outcome="failed"), source="webhook")
    assert deliveries(session) == []

    enqueue(session, INTERVIEW_COMPLETED, {"interview_id": str(interview.id)})
    session.rollback()  # the change that caused the event did not commit: no event either
    assert deliveries(session) == []


def test_concurrent_result_deliveries_queue_the_event_once(session: Session, app_db: sa.Engine) -> None:
    endpoint(session, "https://ats.example.com/completed", INTERVIEW_COMPLETED)
    interview, _ = make_interview(session)
    transition(session, interview, "in_progress")
    session.commit()
    result = a_result(interview.id)
    outcomes, errors = accept_concurrently(app_db, result, 4)
    assert not errors, errors  # the losers' unique-constraint errors surface at their commit, where they are handled
    assert outcomes.count("accepted") == 1
    assert [r.payload["data"]["interview_id"] for r in deliveries(session)] == [str(interview.id)]


def test_enqueue_is_once_per_event_and_endpoint(session: Session) -> None:
    a = endpoint(session, "https://a.example.com/h", INTERVIEW_COMPLETED)
    b = endpoint(session, "https://b.example.com/h", INTERVIEW_COMPLETED, EVALUATION_READY)
    event_id = str(uuid.uuid4())
    enqueue(session, INTERVIEW_COMPLETED, {"interview_id": "x"}, event_id=event_id)
    session.commit()
    enqueue(session, INTERVIEW_COMPLETED, {"interview_id": "x"}, event_id=event_id)  # the same event again
    session.commit()
    rows = deliveries(session)
    assert sorted(r.endpoint_id for r in rows) == sorted([a.id, b.id])
    assert {r.event_id for r in rows} == {event_id}
    with pytest.raises(ValueError, match="unknown webhook event type"):
        enqueue(session, "interview.deleted", {})


def test_a_finished_evaluation_queues_evaluation_ready(
    session: Session, app_db: sa.Engine, llm_server: ChatCompletionsServer, settings_env
) -> None:
    from tests.review.test_evaluation import good_answer

    settings_env(LLM_PROVIDER="openai", OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=llm_server.base_url, LLM_MODEL="judge-1")
    ep = endpoint(session, "https://ats.example.com/evaluations", EVALUATION_READY)
    endpoint(session, "https://ats.example.com/completed", INTERVIEW_COMPLETED)
    interview, ev = finished_interview(session)
    llm_server.answer(good_answer())
    assert run_pending(app_db) == [(ev.id, "done")]

    [row] = deliveries(session)
    assert row.endpoint_id == ep.id and row.event_type == EVALUATION_READY
    data = row.payload["data"]
    assert data["interview_id"] == str(interview.id) and data["evaluation_id"] == ev.id and data["status"] == "done"
    assert data["overall_score"] == pytest.approx((2 * 0.75 + 2 * 1.0) / 4)
    assert data["recommendation"] == "yes"
    assert data["criteria"] == [
        {"name": "Technical depth", "score": 4, "insufficient_evidence": False},
        {"name": "Problem solving", "score": 5, "insufficient_evidence": False},
        {"name": "Communication", "score": None, "insufficient_evidence": False},
    ]
    assert data["review_url"].endswith(f"/admin/interviews/{interview.id}")


def test_an_insufficient_evaluation_queues_evaluation_ready_and_needs_llm_does_not(
    session: Session, app_db: sa.Engine, settings_env
) -> None:
    settings_env(LLM_PROVIDER="scripted")
    endpoint(session, "https://ats.example.com/evaluations", EVALUATION_READY)
    thin, thin_ev = finished_interview(session, segments=[("agent", "Tell me about it."), ("candidate", "Um, yes.")])
    enough, enough_ev = finished_interview(session)
    results = dict(run_pending(app_db))
    assert results == {thin_ev.id: "insufficient", enough_ev.id: "needs_llm"}
    [row] = deliveries(session)
    data = row.payload["data"]
    assert data["interview_id"] == str(thin.id) and data["status"] == "insufficient"
    assert data["overall_score"] is None and data["recommendation"] is None
    assert data["criteria"] and all(c["insufficient_evidence"] and c["score"] is None for c in data["criteria"])


# --------------------------------------------------------------------------- signing


def test_verify_signature_accepts_sign_and_refuses_tampering_wrong_secrets_and_old_timestamps() -> None:
    secret, body = "s3cr3t-" + "x" * 40, b'{"id":"1","type":"interview.completed","data":{}}'
    now = 1_800_000_000
    header = sign(secret, body, timestamp=now)
    assert header.startswith(f"t={now},v1=") and len(header.split("v1=")[1]) == 64
    assert verify_signature(secret, header, body, now=now)
    assert verify_signature(secret, header, body, now=now + 299)
    assert verify_signature(secret, header, body.decode(), now=now - 299)  # str bodies are taken as UTF-8
    assert not verify_signature(secret, header, body + b" ", now=now)  # tampered body
    assert not verify_signature(secret, header, body.replace(b"1", b"2"), now=now)
    assert not verify_signature("another-secret", header, body, now=now)  # wrong secret
    assert not verify_signature(secret, header, body, now=now + 301)  # outside the replay window
    assert not verify_signature(secret, header, body, now=now - 301)  # from the future
    assert verify_signature(secret, header, body, now=now + 800, tolerance_seconds=900)
    assert not verify_signature(secret, header, body, now=now + 1000, tolerance_seconds=900)
    for broken in ("", "v1=abc", f"t={now}", f"t=abc,v1={'0' * 64}", f"t={now},t={now},v1={'0' * 64}", "garbage"):
        assert not verify_signature(secret, broken, body, now=now), broken
    other = sign("old-secret", body, timestamp=now).split(",")[1]
    assert verify_signature(secret, f"{header},{other}", body, now=now)  # any matching v1 is enough
    assert verify_signature(secret, sign(secret, body), body)  # the real clock


# --------------------------------------------------------------------------- delivery


def test_a_delivery_reaches_the_receiver_signed(session: Session, app_db: sa.Engine, receiver: RecordingReceiver) -> None:
    ep = endpoint(session, receiver.url, INTERVIEW_COMPLETED)
    [queued] = enqueue(session, INTERVIEW_COMPLETED, {"interview_id": "abc", "text": "Ünïcode ✓"})
    session.commit()

    assert deliver_due(app_db) == [(queued.id, "delivered")]
    [got] = receiver.requests
    assert got.path == "/hooks/interviews"
    assert got.headers["content-type"] == "application/json"
    assert got.headers["user-agent"] == "ai-interview-webhooks/1"
    assert got.headers["interview-event"] == INTERVIEW_COMPLETED
    assert got.headers["interview-delivery"] == queued.event_id
    assert verify_signature(ep.secret, got.headers["interview-signature"], got.body)
    assert not verify_signature("wrong", got.headers["interview-signature"], got.body)
    assert json.loads(got.body) == queued.payload and json.loads(got.body)["data"]["text"] == "Ünïcode ✓"
    [row] = deliveries(session)
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == ("delivered", 1, 200, "")
    assert row.delivered_at is not None
    assert deliver_due(app_db) == []  # nothing left


def test_a_500_is_retried_with_backoff_then_delivered(session: Session, app_db: sa.Engine, receiver: RecordingReceiver) -> None:
    ep = endpoint(session, receiver.url, INTERVIEW_COMPLETED)
    [queued] = enqueue(session, INTERVIEW_COMPLETED, {"interview_id": "abc"})
    session.commit()
    receiver.answer(500, b"upstream " + b"x" * 5000)
    start = utcnow()

    assert deliver_due(app_db, now=start) == [(queued.id, "pending")]
    [row] = deliveries(session)
    assert (row.status, row.attempts, row.last_status_code) == ("pending", 1, 500)
    assert row.last_error.startswith("HTTP 500: upstream xxx") and len(row.last_error) <= 200 + len("HTTP 500: ")
    assert abs((as_aware(row.next_attempt_at) - start).total_seconds() - 30) < 1
    assert deliver_due(app_db, now=start + timedelta(seconds=29)) == []  # not yet due

    later = start + timedelta(seconds=31)
    assert deliver_due(app_db, now=later) == [(queued.id, "delivered")]
    first, second = receiver.requests
    assert first.headers["interview-delivery"] == second.headers["interview-delivery"] == queued.event_id  # same event id
    assert verify_signature(ep.secret, second.headers["interview-signature"], second.body, now=later.timestamp())
    [row] = deliveries(session)
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == ("delivered", 2, 200, "")


def test_the_last_attempt_fails_for_good_after_the_whole_backoff(session: Session, app_db: sa.Engine, receiver: RecordingReceiver) -> None:
    endpoint(session, receiver.url, INTERVIEW_COMPLETED)
    [queued] = enqueue(session, INTERVIEW_COMPLETED, {"interview_id": "abc"})
    session.commit()
    now = utcnow()
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        receiver.answer(503, b"busy")
        status = "failed" if attempt == MAX_ATTEMPTS else "pending"
        assert deliver_due(app_db, now=now) == [(queued.id, status)], attempt
        [row] = deliveries(session)
        assert row.attempts == attempt and row.last_status_code == 503
        if status == "pending":
            wait = (as_aware(row.next_attempt_at) - now).total_seconds()
            waits.append(round(wait))
            now = now + timedelta(seconds=wait)
    assert waits == [30, 120, 600, 3600, 6 * 3600, 12 * 3600] == list(RETRY_DELAYS_SECONDS)
    assert MAX_ATTEMPTS == 7 and len(receiver.requests) == 7
    assert row.status == "failed" and "Gave up after 7 attempts" in row.last_error
    assert deliver_due(app_db, now=now + timedelta(days=2)) == []  # failed stays failed


def test_redirects_are_not_followed_and_network_errors_are_retried(
    session: Session, app_db: sa.Engine, receiver: RecordingReceiver
) -> None:
    endpoint(session, receiver.url, INTERVIEW_COMPLETED)
    receiver.answer(302, b"", Location="http://169.254.169.254/latest/meta-data/")
    [redirected] = enqueue(session, INTERVIEW_COMPLETED, {"interview_id": "a"})
    session.commit()
    assert deliver_due(app_db) == [(redirected.id, "pending")]
    assert len(receiver.requests) == 1  # the Location was not fetched
    [row] = deliveries(session)
    assert row.last_status_code == 302 and "redirects are not followed" in row.last_error

    closed = RecordingReceiver(HOOK_PATH).start()
    closed_url = closed.url
    closed.stop()  # nothing listens on that port any more
    endpoint(session, closed_url, EVALUATION_READY)
    [unreachable] = enqueue(session, EVALUATION_READY, {"interview_id": "b"})
    session.commit()
    assert deliver_due(app_db) == [(unreachable.id, "pending")]
    row = next(r for r in deliveries(session) if r.id == unreachable.id)
    assert row.last_status_code is None and row.last_error.startswith("The endpoint could not be reached (ConnectError")
    assert row.attempts == 1


def test_paused_endpoints_hold_their_deliveries_and_deleting_one_deletes_them(
    session: Session, app_db: sa.Engine, receiver: RecordingReceiver
) -> None:
    ep = endpoint(session, receiver.url, INTERVIEW_COMPLETED)
    enqueue(session, INTERVIEW_COMPLETED, {"interview_id": "a"})
    set_active(session, ep.id, False)
    session.commit()
    assert enqueue(session, INTERVIEW_COMPLETED, {"interview_id": "b"}) == []  # a paused endpoint gets no new events
    session.commit()
    assert deliver_due(app_db) == [] and receiver.requests == []
    set_active(session, ep.id, True)
    session.commit()
    assert [s for _, s in deliver_due(app_db)] == ["delivered"]
    assert delete_endpoint(session, ep.id, actor="boss@example.com") == 1
    session.commit()
    assert deliveries(session) == [] and session.get(WebhookEndpoint, ep.id) is None
    with pytest.raises(WebhookError, match="no longer exists"):
        delete_endpoint(session, ep.id)


def test_two_concurrent_workers_deliver_each_event_exactly_once(session: Session, app_db: sa.Engine) -> None:
    with RecordingReceiver(HOOK_PATH, delay=0.02) as slow:
        endpoint(session, slow.url, INTERVIEW_COMPLETED)
        queued = [enqueue(session, INTERVIEW_COMPLETED, {"interview_id": str(i)})[0] for i in range(16)]
        session.commit()
        results = at_once(2, lambda _: deliver_due(app_db))
        ids_a, ids_b = ({d for d, _ in r} for r in results)
        assert not ids_a & ids_b, "a delivery was claimed by both workers"
        assert ids_a | ids_b == {q.id for q in queued}
        assert all(s == "delivered" for r in results for _, s in r)
        assert results[0] and results[1], "one worker did all the work: the test did not run them side by side"
        sent = [r.headers["interview-delivery"] for r in slow.requests]
        assert sorted(sent) == sorted(q.event_id for q in queued)  # each event once


def test_a_delivery_left_delivering_by_a_crash_is_claimed_again_after_the_lease(
    session: Session, app_db: sa.Engine, receiver: RecordingReceiver
) -> None:
    endpoint(session, receiver.url, INTERVIEW_COMPLETED)
    [queued] = enqueue(session, INTERVIEW_COMPLETED, {"interview_id": "a"})
    session.commit()
    crashed = claim_next(app_db)  # ... and the process dies before posting
    assert crashed is not None and crashed.id == queued.id and crashed.attempts == 1
    assert claim_next(app_db) is None  # the lease holds it
    assert deliver_due(app_db, now=utcnow() + timedelta(seconds=59)) == []
    assert deliver_due(app_db, now=utcnow() + timedelta(seconds=61)) == [(queued.id, "delivered")]
    [row] = deliveries(session)
    assert row.status == "delivered" and row.attempts == 2
    # The crashed attempt, finishing late, does not overwrite what the new claim recorded.
    assert webhooks._record(app_db, crashed, 500, "HTTP 500", now=utcnow()) == "delivered"
    [row] = deliveries(session)
    assert row.status == "delivered" and row.last_status_code == 200


def test_send_again_queues_a_failed_or_delivered_delivery_and_audits_it(
    session: Session, app_db: sa.Engine, receiver: RecordingReceiver
) -> None:
    endpoint(session, receiver.url, INTERVIEW_COMPLETED)
    interview, _ = make_interview(session)
    [queued] = enqueue(session, INTERVIEW_COMPLETED, {"interview_id": str(interview.id)})
    session.commit()
    with pytest.raises(WebhookError, match="still queued or being sent"):
        send_again(session, queued.id)
    assert [s for _, s in deliver_due(app_db)] == ["delivered"]

    send_again(session, queued.id, actor="boss@example.com")
    session.commit()
    [row] = deliveries(session)
    assert (row.status, row.attempts, row.delivered_at) == ("pending", 0, None)
    assert [s for _, s in deliver_due(app_db)] == ["delivered"]
    assert [r.headers["interview-delivery"] for r in receiver.requests] == [queued.event_id] * 2
    # this interview's only: the PostgreSQL database is shared with the admin tests, which resend too
    [event] = session.exec(
        select(InterviewEvent).where(InterviewEvent.kind == "webhook_resent", InterviewEvent.interview_id == interview.id)
    ).all()
    assert event.actor == "boss@example.com" and event.interview_id == interview.id
    assert event.detail["delivery_id"] == queued.id and event.detail["previous_status"] == "delivered"

    with pytest.raises(WebhookError, match="no longer exists"):
        send_again(session, 10**9)


# --------------------------------------------------------------------------- retention


def test_deleting_a_candidate_deletes_the_deliveries_about_them(session: Session) -> None:
    endpoint(session, "https://ats.example.com/h", INTERVIEW_COMPLETED)
    mine, _ = make_interview(session)
    other, _ = make_interview(session)
    enqueue(session, INTERVIEW_COMPLETED, {"interview_id": str(mine.id)})
    enqueue(session, INTERVIEW_COMPLETED, {"interview_id": str(other.id)})
    session.commit()
    report = delete_candidate_data(session, mine.candidate_id, actor="boss@example.com")
    assert report.rows["webhook_deliveries"] == 1
    assert [r.payload["data"]["interview_id"] for r in deliveries(session)] == [str(other.id)]


def test_retention_drops_deliveries_older_than_the_window(session: Session, settings_env) -> None:
    settings = settings_env(RETENTION_DAYS="30")
    endpoint(session, "https://ats.example.com/h", INTERVIEW_COMPLETED)
    [old] = enqueue(session, INTERVIEW_COMPLETED, {"interview_id": "old"}, now=utcnow() - timedelta(days=31))
    [new] = enqueue(session, INTERVIEW_COMPLETED, {"interview_id": "new"})
    session.commit()
    new_id = new.id
    assert old.id != new_id
    assert apply_retention(session, settings=settings, dry_run=True).webhook_deliveries == 1
    assert len(deliveries(session)) == 2
    assert apply_retention(session, settings=settings).webhook_deliveries == 1
    assert [r.id for r in deliveries(session)] == [new_id]
