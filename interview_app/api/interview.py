"""``POST /api/interview/start``: the candidate's browser (or any client) starts or rejoins a voice interview."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from interview_app.services.start import StartError, start_interview

router = APIRouter(prefix="/api/interview", tags=["interview"])


class StartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    invite_token: str = Field(
        min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_\-]+$", description="The token from the invite link (/interview/<token>)."
    )


class StartResponse(BaseModel):
    room_name: str
    token: str = Field(description="LiveKit access token for this room only; expires at expires_at (≤ 15 minutes).")
    server_url: str
    expires_at: str


class ErrorResponse(BaseModel):
    error: str
    detail: str


@router.post(
    "/start",
    response_model=StartResponse,
    responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}, 410: {"model": ErrorResponse}, 503: {"model": ErrorResponse}},
)
def start(body: StartRequest) -> StartResponse | JSONResponse:
    """Start the interview behind an invite link, or rejoin it; returns what a LiveKit client needs.

    A plain ``def``: FastAPI runs it in a worker thread, so the row lock it holds while
    talking to LiveKit never blocks the event loop.
    """
    try:
        started = start_interview(body.invite_token)
    except StartError as err:
        return JSONResponse({"error": err.reason, "detail": err.message}, status_code=err.code)
    return StartResponse(**started.response())


async def validation_error_handler(request: Request, exc: RequestValidationError) -> Response:
    """FastAPI's 422, but ASCII-escaped: a body with a lone surrogate must not turn the 422 into a 500."""
    body = json.dumps({"detail": jsonable_encoder(exc.errors())}, ensure_ascii=True)
    return Response(body, status_code=422, media_type="application/json")
