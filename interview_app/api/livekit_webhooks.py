"""``POST /webhooks/livekit``: LiveKit's own webhooks (room_finished, participant_left, egress_ended, ...).

Verified with livekit-api's ``WebhookReceiver(TokenVerifier(key, secret))``: the
``Authorization`` JWT must be signed with our API secret and carry the sha256 of
the exact body. Anything else is a 401 and nothing is written.
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from interview_app.api.results import read_capped
from interview_app.db import session_scope
from interview_app.services.livekit import WebhookRejected, verify_webhook
from interview_app.services.livekit_events import apply_livekit_event
from interview_app.settings import get_settings

router = APIRouter(tags=["webhooks"])


def _apply(event, delivery_id: str) -> str:  # noqa: ANN001
    with session_scope() as session:
        return apply_livekit_event(session, event, delivery_id=delivery_id)


@router.post(
    "/webhooks/livekit",
    summary="LiveKit server webhooks",
    responses={
        401: {"description": "Unsigned, forged or tampered"},
        413: {"description": "Body too large"},
        503: {"description": "LiveKit not configured"},
    },
)
async def livekit_webhook(request: Request) -> JSONResponse:
    settings = get_settings()
    if not settings.livekit_configured:
        return JSONResponse(
            {"error": "livekit_not_configured", "detail": "LIVEKIT_API_KEY/SECRET are not set, so webhooks cannot be verified."},
            status_code=503,
        )
    raw = await read_capped(request, settings.max_webhook_bytes)  # a chunked body is not buffered past the limit
    if raw is None:
        return JSONResponse({"error": "too_large", "detail": "The webhook body is too large."}, status_code=413)
    try:
        body = raw.decode("utf-8")
        event = verify_webhook(settings, body, request.headers.get("authorization", ""))
    except (UnicodeDecodeError, WebhookRejected):
        return JSONResponse(
            {"error": "unauthorized", "detail": "The webhook signature does not match this server's LiveKit API key."}, status_code=401
        )
    delivery_id = event.id or "sha256:" + hashlib.sha256(raw).hexdigest()
    outcome = await run_in_threadpool(_apply, event, delivery_id)
    return JSONResponse({"status": "ok", "outcome": outcome})
