"""Greenhouse's documented example payloads, a test client with the integration on, captured invitation mails.

Every example below is copied from Greenhouse's Assessment API documentation; each constant names
the section it comes from.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from interview_app.api import create_api
from interview_app.models import InterviewTemplate
from interview_app.settings import Settings
from tests.conftest import Mail
from tests.factories import make_template

# Assessment API docs, "Send Test" → Request: the key behind the documented Authorization header
# ("Basic MGQwMzFkODIyN2VhZmE2MWRjMzc1YTZjMmUwNjdlMjQ6" is base64 of "<key>:", a blank password).
DOC_API_KEY = "0d031d8227eafa61dc375a6c2e067e24"
DOC_AUTHORIZATION = "Basic MGQwMzFkODIyN2VhZmE2MWRjMzc1YTZjMmUwNjdlMjQ6"

# Assessment API docs, "List Tests" → Response.
LIST_TESTS_RESPONSE_EXAMPLE: list[dict[str, Any]] = [
    {"partner_test_id": "12345", "partner_test_name": "My First Test"},
    {"partner_test_id": "54321", "partner_test_name": "My Second Test"},
]

# Assessment API docs, "Send Test" → Request.
SEND_TEST_REQUEST_EXAMPLE: dict[str, Any] = {
    "partner_test_id": "12345",
    "candidate": {
        "first_name": "Harry",
        "last_name": "Potter",
        "resume_url": "https://hogwarts.com/resume",
        "phone_number": "123-456-7890",
        "email": "hpotter@hogwarts.edu",
        "greenhouse_profile_url": "https://app.greenhouse.io/people/17681532?application_id=26234709",
    },
    "url": "https://app.greenhouse.io/integrations/testing_partners/take_home_tests/12345",
}

# Assessment API docs, "Send Test" → Response.
SEND_TEST_RESPONSE_EXAMPLE: dict[str, Any] = {"partner_interview_id": "98765"}

# Assessment API docs, "Test Status" → Response.
TEST_STATUS_RESPONSE_EXAMPLE: dict[str, Any] = {
    "partner_status": "complete",
    "partner_profile_url": "http://example.com/tests/12345",
    "partner_score": 81,
    "metadata": {
        "Started At": "10:15 AM 26 March 2014",
        "Completed At": "10:15 AM 26 March 2014",
        "Notes": "This candidate did extremely well!",
    },
}

# Assessment API docs, "Response Error" → Request and Response.
RESPONSE_ERROR_REQUEST_EXAMPLE: dict[str, Any] = {
    "api_call": "test_status",
    "errors": ["partner_status is 'complete' but partner_profile url is missing"],
    "partner_test_id": "12345",
    "partner_test_name": "Personality Test",
    "partner_interview_id": "299506",
    "candidate_email": "hpotter@hogwarts.edu",
}
RESPONSE_ERROR_RESPONSE_EXAMPLE: dict[str, Any] = {"status": 200}

APP_URL = "https://interviews.example.com"
#: The ``order`` fixture: send_test as Greenhouse sends it (keyword arguments change the payload); returns the interview id.
Order = Callable[..., uuid.UUID]


@pytest.fixture
def greenhouse_env(settings_env, app_db: sa.Engine) -> Settings:
    """The app on the test database with the Greenhouse integration on (the documented key)."""
    return settings_env(GREENHOUSE_API_KEY=DOC_API_KEY, APP_URL=APP_URL)


@pytest.fixture
def client(greenhouse_env: Settings) -> TestClient:
    return TestClient(create_api())


@pytest.fixture
def invitation_mails(mails: list[Mail], monkeypatch: pytest.MonkeyPatch) -> list[Mail]:
    """The tests' ``mails`` fixture, extended to the invitation emails (services/invitations.py)."""
    from interview_app.services import invitations

    def capture(settings: object, to: str, subject: str, body: str) -> str:
        mails.append(Mail(to, subject, body))
        return f"Email sent to {to}."

    monkeypatch.setattr(invitations, "send_email", capture)
    return mails


@pytest.fixture
def template(session: Session) -> InterviewTemplate:
    t = make_template(session)
    session.commit()
    return t


def send_test_payload(template: InterviewTemplate, **changes: Any) -> dict[str, Any]:
    """The documented send_test request for ``template``, with an email and a callback url of its own (the PostgreSQL database is shared)."""
    tag = uuid.uuid4().hex[:10]
    candidate = {**SEND_TEST_REQUEST_EXAMPLE["candidate"], "email": f"hpotter.{tag}@hogwarts.edu"} | changes.pop("candidate", {})
    return {
        **SEND_TEST_REQUEST_EXAMPLE,
        "partner_test_id": str(template.id),
        "candidate": candidate,
        "url": f"{SEND_TEST_REQUEST_EXAMPLE['url']}{tag}",
    } | changes


@pytest.fixture
def order(client: TestClient, invitation_mails: list[Mail], template: InterviewTemplate) -> Iterator[Order]:
    """Order a test through ``POST send_test`` as Greenhouse does; returns the interview id."""

    def place(**changes: Any) -> uuid.UUID:
        response = client.post(
            "/api/greenhouse/send_test", json=send_test_payload(template, **changes), headers={"Authorization": DOC_AUTHORIZATION}
        )
        assert response.status_code == 200, response.text
        return uuid.UUID(response.json()["partner_interview_id"])

    yield place
