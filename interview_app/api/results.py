"""``POST /webhooks/interview-ended``: the agent's signed InterviewResult.

Checks run cheapest first and before anything is parsed or written: size (413),
content type (415), signature over the exact body bytes (401), JSON (400),
schema (422). The accepted result goes to :func:`services.results.accept_result`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from livekit import api
from pydantic import ValidationError

from interview_app.contracts import InterviewResult
from interview_app.db import session_scope
from interview_app.services.results import ResultRejected, accept_result
from interview_app.settings import get_settings

router = APIRouter(tags=["webhooks"])
logger = logging.getLogger(__name__)


def _error(code: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=code)


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it exceeds ``limit`` bytes (never buffers more)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                return None
        except ValueError:
            return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def verify_signature(body: bytes, authorization: str, api_key: str, api_secret: str) -> bool:
    """True when ``authorization`` is a LiveKit webhook JWT (our keys, unexpired) for exactly ``body``."""
    token = authorization.removeprefix("Bearer ").strip()
    if not token:
        return False
    try:
        receiver = api.WebhookReceiver(api.TokenVerifier(api_key, api_secret))
        receiver.receive(body.decode("utf-8"), token)  # checks signature, expiry and body sha256
    except Exception:  # noqa: BLE001 - every verification failure is the same answer
        try:  # WebhookReceiver also parses LiveKit's event schema; a valid hash is what we need
            claims = api.TokenVerifier(api_key, api_secret).verify(token)
            expected = base64.b64decode(claims.sha256 or "")
            return bool(expected) and expected == hashlib.sha256(body).digest()
        except Exception:  # noqa: BLE001
            return False
    return True


@router.post(
    "/webhooks/interview-ended",
    summary="The interviewer agent reports an ended interview (signed InterviewResult)",
    responses={401: {}, 404: {}, 413: {}, 415: {}, 422: {}, 503: {}},
)
async def interview_ended(request: Request) -> JSONResponse:
    settings = get_settings()
    body = await read_capped(request, settings.max_webhook_bytes)
    if body is None:
        return _error(413, f"The result is larger than {settings.max_webhook_bytes} bytes (MAX_WEBHOOK_BYTES).")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/json", "application/webhook+json"):
        return _error(415, "Send the result as application/json.")
    if not settings.livekit_api_key or not settings.livekit_api_secret:
        return _error(503, "Results cannot be verified: LIVEKIT_API_KEY and LIVEKIT_API_SECRET are not set on the app.")
    if not verify_signature(body, request.headers.get("authorization", ""), settings.livekit_api_key, settings.livekit_api_secret):
        logger.warning("interview-ended webhook with a bad signature refused")
        return _error(401, "The signature of this result is missing, invalid or expired.")
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return _error(400, "The body is not valid JSON.")
    try:
        result = InterviewResult.model_validate(payload)
    except ValidationError as err:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "body" for e in err.errors()[:5])
        return _error(422, f"The result does not match the InterviewResult schema (check: {fields}).")
    try:
        with session_scope() as session:
            outcome = accept_result(session, result, source="webhook")
    except ResultRejected as err:
        return _error(err.code, err.message)
    return JSONResponse(
        {"status": outcome.status, "interview_id": outcome.interview_id, "interview_status": outcome.interview_status},
        status_code=200,
    )
