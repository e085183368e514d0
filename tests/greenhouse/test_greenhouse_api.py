"""Greenhouse's Assessment Partner API as Greenhouse calls it, on SQLite and PostgreSQL.

The requests are Greenhouse's documented examples (conftest.py); the answers are checked against
the documented response shapes, and the rows, emails and audit events behind them against what a
recruiter would see.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from interview_app.models import (
    AdminUser,
    Candidate,
    Evaluation,
    GreenhouseAssignment,
    Interview,
    InterviewEvent,
    InterviewStatus,
    InterviewTemplate,
    Scorecard,
)
from interview_app.services import greenhouse
from interview_app.services.email import EmailError
from interview_app.services.interviews import ABANDONED_REASON, find_by_token, transition
from interview_app.settings import Settings, get_settings
from tests.conftest import Mail
from tests.factories import at_once, make_interview, make_template
from tests.greenhouse.conftest import (
    APP_URL,
    DOC_API_KEY,
    DOC_AUTHORIZATION,
    LIST_TESTS_RESPONSE_EXAMPLE,
    RESPONSE_ERROR_REQUEST_EXAMPLE,
    RESPONSE_ERROR_RESPONSE_EXAMPLE,
    SEND_TEST_REQUEST_EXAMPLE,
    SEND_TEST_RESPONSE_EXAMPLE,
    TEST_STATUS_RESPONSE_EXAMPLE,
    Order,
    send_test_payload,
)

AUTH = {"Authorization": DOC_AUTHORIZATION}
PATHS = [
    ("GET", "/api/greenhouse/list_tests"),
    ("POST", "/api/greenhouse/send_test"),
    ("GET", "/api/greenhouse/test_status?partner_interview_id=98765"),
    ("POST", "/api/greenhouse/response_error"),
]


def basic(username: str, password: str = "") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def status_of(client: TestClient, interview_id: uuid.UUID | str) -> dict[str, Any]:
    response = client.get("/api/greenhouse/test_status", params={"partner_interview_id": str(interview_id)}, headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()


def assert_test_status_shape(body: dict[str, Any]) -> None:
    """The documented Test Status response: up to four keys of the documented types, metadata flat and primitive."""
    assert set(body) <= set(TEST_STATUS_RESPONSE_EXAMPLE) and "partner_status" in body
    assert isinstance(body["partner_status"], str)
    if body["partner_status"] == "complete":  # "Required only if status is complete"
        assert isinstance(body["partner_profile_url"], str) and body["partner_profile_url"].startswith("http")
    assert body["partner_score"] is None or isinstance(body["partner_score"], int | float)
    metadata = body["metadata"]
    assert metadata is None or all(isinstance(k, str) and isinstance(v, str | int | float | bool) for k, v in metadata.items())


def count(session: Session, model: type, *where: Any) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


# --- authentication and switching off -----------------------------------------------------


@pytest.mark.parametrize(("method", "path"), PATHS)
def test_without_a_key_set_every_endpoint_is_not_found(settings_env, app_db: sa.Engine, method: str, path: str) -> None:
    from interview_app.api import create_api

    settings_env(GREENHOUSE_API_KEY="")
    response = TestClient(create_api()).request(method, path, headers=AUTH, json={})
    assert response.status_code == 404
    assert "GREENHOUSE_API_KEY" in response.json()["detail"]


@pytest.mark.parametrize(("method", "path"), PATHS)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic("not-the-key-" + "x" * 20),
        {"Authorization": f"Bearer {DOC_API_KEY}"},
        {"Authorization": "Basic %%%not-base64%%%"},
        {"Authorization": "Basic " + base64.b64encode(DOC_API_KEY[:-1].encode() + b":").decode()},
    ],
    ids=["missing", "wrong-key", "bearer", "garbage", "key-prefix"],
)
def test_a_missing_or_wrong_key_is_refused_with_401(
    client: TestClient, session: Session, template: InterviewTemplate, method: str, path: str, headers: dict
) -> None:
    before = count(session, GreenhouseAssignment)
    response = client.request(method, path, headers=headers, json=send_test_payload(template))
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    assert "API key as the user name" in response.json()["detail"]
    assert count(session, GreenhouseAssignment) == before


def test_the_documented_authorization_header_is_accepted(client: TestClient) -> None:
    assert client.get("/api/greenhouse/list_tests", headers=AUTH).status_code == 200
    # Greenhouse sends a blank password; the user name alone is the credential.
    assert client.get("/api/greenhouse/list_tests", headers=basic(DOC_API_KEY, "anything")).status_code == 200


# --- list_tests ---------------------------------------------------------------------------


def test_list_tests_offers_the_active_templates_in_the_documented_shape(client: TestClient, session: Session) -> None:
    active = make_template(session, title="Backend Engineer (Greenhouse)")
    archived = make_template(session, title="Old role", archived=True)
    session.commit()
    response = client.get("/api/greenhouse/list_tests", headers=AUTH)
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    tests = response.json()
    assert isinstance(tests, list)  # a bare JSON list, as documented
    assert all(set(t) == set(LIST_TESTS_RESPONSE_EXAMPLE[0]) and all(isinstance(v, str) for v in t.values()) for t in tests)
    ids = [t["partner_test_id"] for t in tests]
    assert {"partner_test_id": str(active.id), "partner_test_name": "Backend Engineer (Greenhouse)"} in tests
    assert str(archived.id) not in ids


# --- send_test ----------------------------------------------------------------------------


def test_send_test_invites_emails_and_records_the_candidate(
    client: TestClient, session: Session, template: InterviewTemplate, invitation_mails: list[Mail]
) -> None:
    payload = send_test_payload(template)
    response = client.post("/api/greenhouse/send_test", json=payload, headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == set(SEND_TEST_RESPONSE_EXAMPLE) and isinstance(body["partner_interview_id"], str)

    interview = session.get(Interview, uuid.UUID(body["partner_interview_id"]))
    assert interview is not None and interview.status == "invited" and interview.template_id == template.id
    candidate = session.get(Candidate, interview.candidate_id)
    assert candidate.name == "Harry Potter" and candidate.email == payload["candidate"]["email"]
    assert candidate.external_ref == SEND_TEST_REQUEST_EXAMPLE["candidate"]["greenhouse_profile_url"]
    assignment = session.exec(select(GreenhouseAssignment).where(GreenhouseAssignment.interview_id == interview.id)).one()
    assert (assignment.partner_test_id, assignment.callback_url) == (str(template.id), payload["url"])
    assert assignment.notified_at is None and assignment.notify_attempts == 0

    [mail] = invitation_mails
    assert mail.to == candidate.email and template.title in mail.subject and "Hello Harry Potter" in mail.body
    link = next(line for line in mail.body.splitlines() if "/interview/" in line)
    assert find_by_token(session, link.rsplit("/", 1)[1]).id == interview.id  # the emailed link opens this interview

    events = {e.kind: e for e in session.exec(select(InterviewEvent).where(InterviewEvent.interview_id == interview.id))}
    assert {"invited", "greenhouse_test_sent", "invite_emailed"} <= set(events)
    assert all(events[k].actor == "greenhouse" for k in ("invited", "greenhouse_test_sent", "invite_emailed"))
    assert events["greenhouse_test_sent"].detail == {"partner_test_id": str(template.id), "callback_url": payload["url"]}


def test_send_test_reuses_a_known_candidate_and_sends_each_test(
    client: TestClient, session: Session, template: InterviewTemplate, invitation_mails: list[Mail]
) -> None:
    first = send_test_payload(template)
    second = send_test_payload(make_template(session), candidate={"email": first["candidate"]["email"].upper()})
    session.commit()
    ids = [client.post("/api/greenhouse/send_test", json=p, headers=AUTH).json()["partner_interview_id"] for p in (first, second)]
    assert ids[0] != ids[1]
    interviews = [session.get(Interview, uuid.UUID(i)) for i in ids]
    assert interviews[0].candidate_id == interviews[1].candidate_id
    assert count(session, Candidate, Candidate.email == first["candidate"]["email"]) == 1
    assert len(invitation_mails) == 2


def test_send_test_again_for_the_same_url_returns_the_first_interview(
    client: TestClient, session: Session, template: InterviewTemplate, invitation_mails: list[Mail]
) -> None:
    payload = send_test_payload(template)
    answers = [client.post("/api/greenhouse/send_test", json=payload, headers=AUTH) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert len({a.json()["partner_interview_id"] for a in answers}) == 1
    assert count(session, GreenhouseAssignment, GreenhouseAssignment.callback_url == payload["url"]) == 1
    assert count(session, Candidate, Candidate.email == payload["candidate"]["email"]) == 1
    assert len(invitation_mails) == 1


def test_concurrent_send_tests_for_one_url_make_one_interview(
    greenhouse_env: Settings, app_db: sa.Engine, session: Session, template: InterviewTemplate, invitation_mails: list[Mail]
) -> None:
    payload = send_test_payload(template)
    errors: list[BaseException] = []

    def send(_: int) -> str | None:
        with Session(app_db, expire_on_commit=False) as s:
            try:
                sent = greenhouse.send_test(s, get_settings(), payload).partner_interview_id
                s.commit()
                return sent
            except BaseException as err:  # noqa: BLE001
                errors.append(err)
                return None

    ids = [i for i in at_once(4, send) if i is not None]
    assert errors == [] and len(ids) == 4 and len(set(ids)) == 1
    assert count(session, GreenhouseAssignment, GreenhouseAssignment.callback_url == payload["url"]) == 1
    assert count(session, Candidate, Candidate.email == payload["candidate"]["email"]) == 1
    assert len(invitation_mails) == 1


BAD_SEND_TESTS = [
    ("not-json", b'{"partner_test_id": "1", "candidate": ', 400, "not valid JSON"),
    ("not-an-object", [1, 2], 422, "JSON object"),
    ("unknown-test", {"partner_test_id": "999999999"}, 404, "no test with partner_test_id"),
    ("test-id-not-a-number", {"partner_test_id": "abc"}, 404, "no test with partner_test_id"),
    ("no-test-id", {"partner_test_id": None}, 422, "partner_test_id is missing"),
    ("no-candidate", {"candidate": None}, 422, "candidate is missing"),
    ("no-email", {"candidate": {"email": None}}, 422, "candidate.email is missing"),
    ("bad-email", {"candidate": {"email": "harry at hogwarts"}}, 422, "is not an email address"),
    ("no-name", {"candidate": {"first_name": "", "last_name": None}}, 422, "first_name and candidate.last_name are missing"),
    ("long-name", {"candidate": {"first_name": "H" * 250}}, 422, "longer than 200 characters"),
    ("name-not-text", {"candidate": {"first_name": {"x": 1}}}, 422, "candidate.first_name must be a string"),
    ("no-url", {"url": None}, 422, "url is missing"),
    ("url-not-http", {"url": "ftp://app.greenhouse.io/x"}, 422, "http(s) URL"),
    ("url-with-password", {"url": "https://user:pw@app.greenhouse.io/x"}, 422, "user name or password"),
]


@pytest.mark.parametrize(("case", "change", "code", "sentence"), BAD_SEND_TESTS, ids=[c[0] for c in BAD_SEND_TESTS])
def test_bad_send_test_is_refused_with_a_sentence_and_writes_nothing(
    client: TestClient,
    session: Session,
    template: InterviewTemplate,
    invitation_mails: list[Mail],
    case: str,
    change: Any,
    code: int,
    sentence: str,
) -> None:
    payload = send_test_payload(template)
    if isinstance(change, dict):
        candidate = change.get("candidate")
        body = json.dumps(
            payload | change | ({"candidate": payload["candidate"] | candidate} if isinstance(candidate, dict) else {})
        ).encode()
    else:
        body = change if isinstance(change, bytes) else json.dumps(change).encode()
    before = (count(session, Interview), count(session, GreenhouseAssignment))
    response = client.post("/api/greenhouse/send_test", content=body, headers=AUTH)
    assert response.status_code == code, response.text
    assert sentence in response.json()["detail"] and "Traceback" not in response.text
    assert count(session, Candidate, Candidate.email == payload["candidate"]["email"]) == 0
    assert count(session, GreenhouseAssignment, GreenhouseAssignment.callback_url == payload["url"]) == 0
    if session.get_bind().dialect.name == "sqlite":  # the PostgreSQL database is shared: totals only on SQLite
        assert (count(session, Interview), count(session, GreenhouseAssignment)) == before
    assert invitation_mails == []


def test_an_archived_test_is_refused(client: TestClient, session: Session, invitation_mails: list[Mail]) -> None:
    archived = make_template(session, title="Retired role", archived=True)
    session.commit()
    payload = send_test_payload(archived)
    response = client.post("/api/greenhouse/send_test", json=payload, headers=AUTH)
    assert response.status_code == 404 and "no longer offered" in response.json()["detail"]
    assert count(session, Candidate, Candidate.email == payload["candidate"]["email"]) == 0 and invitation_mails == []


def test_a_refused_email_rolls_everything_back(
    client: TestClient, session: Session, template: InterviewTemplate, monkeypatch: pytest.MonkeyPatch
) -> None:
    from interview_app.services import invitations

    def refuse(*args: object) -> str:
        raise EmailError("The mail server smtp.example.com:587 refused or did not answer (ConnectionRefusedError).")

    monkeypatch.setattr(invitations, "send_email", refuse)
    payload = send_test_payload(template)
    response = client.post("/api/greenhouse/send_test", json=payload, headers=AUTH)
    assert response.status_code == 503
    assert "nothing was saved" in response.json()["detail"] and "smtp.example.com" in response.json()["detail"]
    # The candidate, the interview and the assignment had been written in this transaction: all gone.
    assert count(session, Candidate, Candidate.email == payload["candidate"]["email"]) == 0
    assert count(session, GreenhouseAssignment, GreenhouseAssignment.callback_url == payload["url"]) == 0


def test_an_oversized_send_test_is_refused(client: TestClient, template: InterviewTemplate) -> None:
    payload = send_test_payload(template, padding="x" * 70_000)
    response = client.post("/api/greenhouse/send_test", json=payload, headers=AUTH)
    assert response.status_code == 413


# --- test_status --------------------------------------------------------------------------


def _move(session: Session, interview_id: uuid.UUID, *statuses: InterviewStatus, reason: str = "") -> Interview:
    session.expire_all()
    interview = session.get(Interview, interview_id)
    for status in statuses:
        transition(session, interview, status, reason=reason)
    session.commit()
    return interview


def test_test_status_follows_the_interview_until_it_is_complete(client: TestClient, session: Session, order: Order) -> None:
    interview_id = order()
    profile = f"{APP_URL}/admin/interviews/{interview_id}"
    seen = []
    for move in ([], [InterviewStatus.in_progress], [InterviewStatus.processing]):
        _move(session, interview_id, *move)
        body = status_of(client, interview_id)
        assert_test_status_shape(body)
        assert (body["partner_profile_url"], body["partner_score"], body["metadata"]) == (profile, None, None)
        seen.append(body["partner_status"])
    assert seen == ["invited", "in_progress", "scoring"]  # never "complete" before the end: Greenhouse keeps polling


def _scores() -> list[dict[str, Any]]:
    # Two equally weighted criteria on 1..5 scored 5 and 3: (1.0 + 0.5) / 2 = 75 %.
    return [
        {"criterion": "Depth", "score": 5, "scale_min": 1, "scale_max": 5, "weight": 1.0, "rationale": "", "evidence": []},
        {"criterion": "Clarity", "score": 3, "scale_min": 1, "scale_max": 5, "weight": 1.0, "rationale": "", "evidence": []},
    ]


def test_a_completed_interview_reports_score_recommendation_decision_and_scorecards(
    client: TestClient, session: Session, order: Order
) -> None:
    interview_id = order()
    interview = _move(session, interview_id, InterviewStatus.in_progress, InterviewStatus.processing)
    session.add(Evaluation(interview_id=interview_id, status="done", scores=_scores(), recommendation="yes", summary="Solid.", model="m"))
    reviewer = AdminUser(email=f"rev.{uuid.uuid4().hex[:8]}@example.com", password_hash="x", role="reviewer")
    session.add(reviewer)
    session.flush()
    session.add(Scorecard(interview_id=interview_id, reviewer_id=reviewer.id, reviewer_email=reviewer.email, recommendation="advance"))
    interview.decision, interview.decision_by = "advance", reviewer.email
    session.add(interview)
    transition(session, interview, InterviewStatus.completed, reason="evaluation finished")
    session.commit()

    body = status_of(client, interview_id)
    assert_test_status_shape(body)
    assert body["partner_status"] == "complete" and body["partner_score"] == 75
    assert body["partner_profile_url"] == f"{APP_URL}/admin/interviews/{interview_id}"
    metadata = body["metadata"]
    assert metadata["Outcome"] == "Completed"
    assert metadata["AI Recommendation (advisory)"] == "Yes" and "advisory" in metadata["Notes"]
    assert metadata["Decision"] == "Advance" and metadata["Human Scorecards"] == 1
    assert metadata["Started At"].endswith("UTC") and metadata["Ended At"].endswith("UTC")


def test_a_completed_interview_without_a_score_says_why(client: TestClient, session: Session, order: Order) -> None:
    interview_id = order()
    interview = _move(session, interview_id, InterviewStatus.in_progress, InterviewStatus.processing)
    session.add(Evaluation(interview_id=interview_id, status="needs_llm"))
    transition(session, interview, InterviewStatus.completed, reason="evaluation finished")
    session.commit()
    body = status_of(client, interview_id)
    assert_test_status_shape(body)
    assert body["partner_status"] == "complete" and body["partner_score"] is None
    assert body["metadata"]["AI Evaluation"] == "Not scored: no AI model is configured"
    assert "Decision" not in body["metadata"] and body["metadata"]["Human Scorecards"] == 0


@pytest.mark.parametrize(
    ("statuses", "reason", "outcome"),
    [
        ([InterviewStatus.expired], "invite expired", "Not taken: the invitation expired before the candidate started"),
        ([InterviewStatus.cancelled], "revoked by an admin", "Cancelled: the invitation was withdrawn (revoked by an admin)"),
        ([InterviewStatus.in_progress, InterviewStatus.failed], "plan metadata missing", "Not completed: plan metadata missing"),
    ],
    ids=["expired", "cancelled", "failed"],
)
def test_an_interview_that_ended_without_a_result_is_complete_without_a_score(
    client: TestClient,
    session: Session,
    order: Order,
    statuses: list[InterviewStatus],
    reason: str,
    outcome: str,
) -> None:
    interview_id = order()
    _move(session, interview_id, *statuses, reason=reason)
    body = status_of(client, interview_id)
    assert_test_status_shape(body)
    assert (body["partner_status"], body["partner_score"], body["metadata"]["Outcome"]) == ("complete", None, outcome)


def test_a_failure_inferred_from_the_room_waits_for_a_late_result(greenhouse_env: Settings, session: Session, order: Order) -> None:
    interview_id = order()
    interview = _move(session, interview_id, InterviewStatus.in_progress, InterviewStatus.failed, reason=ABANDONED_REASON)
    ask = lambda now: greenhouse.test_status(session, greenhouse_env, str(interview_id), now=now)["partner_status"]  # noqa: E731
    assert ask(interview.updated_at + timedelta(minutes=1)) == "awaiting_result"
    assert ask(interview.updated_at + greenhouse.INFERRED_FAILURE_GRACE) == "complete"


@pytest.mark.parametrize("key", [str(uuid.uuid4()), "98765", "not-a-uuid", "x" * 500])
def test_test_status_of_an_unknown_id_is_not_found(client: TestClient, key: str) -> None:
    response = client.get("/api/greenhouse/test_status", params={"partner_interview_id": key}, headers=AUTH)
    assert response.status_code == 404 and "no test instance" in response.json()["detail"]


def test_test_status_never_shows_an_interview_greenhouse_did_not_order(client: TestClient, session: Session) -> None:
    interview, _ = make_interview(session)
    response = client.get("/api/greenhouse/test_status", params={"partner_interview_id": str(interview.id)}, headers=AUTH)
    assert response.status_code == 404


def test_test_status_without_the_parameter_says_what_to_send(client: TestClient) -> None:
    response = client.get("/api/greenhouse/test_status", headers=AUTH)
    assert response.status_code == 400 and "partner_interview_id" in response.json()["detail"]


# --- response_error -----------------------------------------------------------------------


def test_response_error_is_kept_in_the_interviews_audit_trail(client: TestClient, session: Session, order: Order) -> None:
    interview_id = order()
    report = {**RESPONSE_ERROR_REQUEST_EXAMPLE, "partner_interview_id": str(interview_id)}
    response = client.post("/api/greenhouse/response_error", json=report, headers=AUTH)
    assert response.status_code == 200 and response.json() == RESPONSE_ERROR_RESPONSE_EXAMPLE
    [event] = session.exec(
        select(InterviewEvent).where(InterviewEvent.interview_id == interview_id, InterviewEvent.kind == "greenhouse_response_error")
    ).all()
    assert event.actor == "greenhouse"
    assert event.detail["api_call"] == "test_status" and event.detail["errors"] == RESPONSE_ERROR_REQUEST_EXAMPLE["errors"]
    assert "candidate_email" not in event.detail and "hpotter@hogwarts.edu" not in json.dumps(event.detail)


def test_response_error_about_no_known_test_is_still_accepted(client: TestClient, session: Session) -> None:
    marker = f"unknown-{uuid.uuid4().hex}"
    response = client.post(
        "/api/greenhouse/response_error", json={**RESPONSE_ERROR_REQUEST_EXAMPLE, "partner_interview_id": marker}, headers=AUTH
    )
    assert response.status_code == 200 and response.json() == RESPONSE_ERROR_RESPONSE_EXAMPLE
    events = [
        e
        for e in session.exec(select(InterviewEvent).where(InterviewEvent.kind == "greenhouse_response_error"))
        if e.detail.get("partner_interview_id") == marker
    ]
    assert len(events) == 1 and events[0].interview_id is None


@pytest.mark.parametrize(
    ("body", "code"), [(b"[oops", 400), (b"[]", 422), (b'{"errors": ["x"]}', 422), (b'{"api_call": "list_tests", "errors": "x"}', 422)]
)
def test_a_malformed_response_error_is_refused(client: TestClient, body: bytes, code: int) -> None:
    response = client.post("/api/greenhouse/response_error", content=body, headers=AUTH)
    assert response.status_code == code and response.json()["detail"]


def test_the_routes_sit_behind_the_apps_middlewares(client: TestClient) -> None:
    response = client.get("/api/greenhouse/list_tests", headers=AUTH)
    assert response.headers["x-content-type-options"] == "nosniff"  # security headers, as on every answer
    too_big = client.post("/api/greenhouse/send_test", content=b"{}", headers={**AUTH, "Content-Length": str(2 * 1024 * 1024)})
    assert too_big.status_code == 413  # the app-wide body limit answers before the route reads anything
