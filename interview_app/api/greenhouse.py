"""Greenhouse's Assessment Partner API, the endpoints Greenhouse calls (docs/greenhouse.md).

``GET /api/greenhouse/list_tests``, ``POST /api/greenhouse/send_test``,
``GET /api/greenhouse/test_status?partner_interview_id=…``, ``POST /api/greenhouse/response_error``.

Checks run cheapest first: integration off (``GREENHOUSE_API_KEY`` unset: 404 on every path),
HTTP Basic auth with the key as the user name (401 with ``WWW-Authenticate``), body size (413),
JSON (400), then the service (``services/greenhouse.py``), which answers 404/422/503 with a
sentence. Bodies are parsed whatever their Content-Type: Greenhouse's examples send none. The
work runs in a worker thread (database, mail server); answers are ``Cache-Control: no-store``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from interview_app.api.results import read_capped
from interview_app.db import session_scope
from interview_app.services import greenhouse
from interview_app.settings import get_settings

PREFIX = "/api/greenhouse"
router = APIRouter(prefix=PREFIX, tags=["greenhouse"])

#: Greenhouse's requests are a few hundred bytes; the app-wide limit (1 MiB) is far more than needed.
MAX_BODY_BYTES = 65_536
_NO_STORE = {"Cache-Control": "no-store"}


class PartnerTest(BaseModel):
    partner_test_id: str = Field(description="The interview template's id.")
    partner_test_name: str = Field(description="The template's title.")


class SendTestResponse(BaseModel):
    partner_interview_id: str = Field(description="The interview's UUID; Greenhouse passes it to test_status.")


class TestStatusResponse(BaseModel):
    partner_status: str = Field(
        description="complete once the interview has ended for good; else invited, in_progress, scoring or awaiting_result."
    )
    partner_profile_url: str | None = Field(description="The interview's admin page.")
    partner_score: int | None = Field(description="The AI evaluation's weighted rubric score, 0-100 (advisory).")
    metadata: dict[str, str | int] | None = Field(
        description="Outcome, times, AI recommendation (advisory), human decision and scorecard count."
    )


class ResponseErrorResponse(BaseModel):
    status: int = 200


class ErrorResponse(BaseModel):
    detail: str


_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorResponse} for code in (401, 404)}


def _error(code: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=code, headers={**_NO_STORE, **headers})


def _refusal(request: Request) -> JSONResponse | None:
    """404 while the integration is off, 401 without the right key; None when the request may proceed."""
    settings = get_settings()
    if not settings.greenhouse_enabled:
        return _error(404, "The Greenhouse integration is not switched on here (GREENHOUSE_API_KEY is not set).")
    if not greenhouse.authorized(request.headers.get("authorization"), settings.greenhouse_api_key):
        return _error(
            401,
            "Unsuccessful authentication: send HTTP Basic auth with the API key as the user name and an empty password.",
            **{"WWW-Authenticate": 'Basic realm="greenhouse", charset="UTF-8"'},
        )
    return None


async def _json_body(request: Request) -> tuple[object, JSONResponse | None]:
    body = await read_capped(request, MAX_BODY_BYTES)
    if body is None:
        return None, _error(413, f"The body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        return json.loads(body), None
    except (UnicodeDecodeError, ValueError):
        return None, _error(400, "The body is not valid JSON.")


def _in_transaction(work: Callable[..., Any], *args: Any) -> Any:
    """Run ``work(session, *args)`` in one transaction: committed on success, rolled back on any error."""
    with session_scope() as session:
        return work(session, *args)


async def _serve(work: Callable[..., Any], *args: Any) -> Any | JSONResponse:
    try:
        return await run_in_threadpool(_in_transaction, work, *args)
    except greenhouse.GreenhouseError as err:
        return _error(err.code, err.message)


@router.get(
    "/list_tests",
    summary="Greenhouse: the tests on offer (active interview templates)",
    response_model=list[PartnerTest],
    responses=_ERRORS,
)
async def list_tests(request: Request) -> JSONResponse:
    if (refusal := _refusal(request)) is not None:
        return refusal
    tests = await _serve(greenhouse.list_tests)
    return tests if isinstance(tests, JSONResponse) else JSONResponse(tests, headers=_NO_STORE)


@router.post(
    "/send_test",
    summary="Greenhouse: invite a candidate to a test (idempotent per Greenhouse url)",
    response_model=SendTestResponse,
    responses={
        **_ERRORS,
        400: {"model": ErrorResponse},
        413: {"model": ErrorResponse},
        422: {"model": ErrorResponse},
        503: {"model": ErrorResponse},
    },
)
async def send_test(request: Request) -> JSONResponse:
    if (refusal := _refusal(request)) is not None:
        return refusal
    payload, error = await _json_body(request)
    if error is not None:
        return error
    sent = await _serve(lambda session, data: greenhouse.send_test(session, get_settings(), data), payload)
    if isinstance(sent, JSONResponse):
        return sent
    return JSONResponse({"partner_interview_id": sent.partner_interview_id}, headers=_NO_STORE)


@router.get(
    "/test_status",
    summary="Greenhouse: the status and result of one test instance",
    response_model=TestStatusResponse,
    responses={**_ERRORS, 400: {"model": ErrorResponse}},
)
async def test_status(request: Request) -> JSONResponse:
    if (refusal := _refusal(request)) is not None:
        return refusal
    partner_interview_id = request.query_params.get("partner_interview_id", "").strip()
    if not partner_interview_id:
        return _error(400, "Give the test instance as ?partner_interview_id=<the id send_test returned>.")
    status = await _serve(lambda session, key: greenhouse.test_status(session, get_settings(), key), partner_interview_id)
    return status if isinstance(status, JSONResponse) else JSONResponse(status, headers=_NO_STORE)


@router.post(
    "/response_error",
    summary="Greenhouse: a response of ours it could not use (logged and kept in the audit trail)",
    response_model=ResponseErrorResponse,
    responses={**_ERRORS, 400: {"model": ErrorResponse}, 413: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
)
async def response_error(request: Request) -> JSONResponse:
    if (refusal := _refusal(request)) is not None:
        return refusal
    payload, error = await _json_body(request)
    if error is not None:
        return error
    recorded = await _serve(greenhouse.record_response_error, payload)
    return recorded if isinstance(recorded, JSONResponse) else JSONResponse({"status": 200}, headers=_NO_STORE)
