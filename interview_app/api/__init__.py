"""The FastAPI app mounted into Reflex's backend (``rx.App(api_transformer=...)``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError

from interview_app.api import auth, body_limit, files, greenhouse, health, interview, livekit_webhooks, results
from interview_app.api.admin_session import AdminSessionMiddleware
from interview_app.api.errors import database_unavailable_handler
from interview_app.api.security_headers import SecurityHeadersMiddleware, security_headers
from interview_app.heap import freeze_startup_heap
from interview_app.settings import get_settings


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    # Runs only when this app is served on its own (bench P2, tests); mounted into Reflex, its
    # lifespan is Reflex's, which runs the same function as a lifespan task (interview_app.py).
    freeze_startup_heap()
    yield


def create_api() -> FastAPI:
    """Build the HTTP API: health, metrics, interview start, webhooks, Greenhouse."""
    api = FastAPI(title="AI Interview API", version="0.1.0", docs_url="/api/docs", openapi_url="/openapi.json", lifespan=_lifespan)
    api.include_router(health.router)
    api.include_router(interview.router)
    # Starlette types every handler as taking any Exception; this one only ever gets the RequestValidationError it is registered for.
    api.add_exception_handler(RequestValidationError, interview.validation_error_handler)  # type: ignore[arg-type]
    api.add_exception_handler(DBAPIError, database_unavailable_handler)  # a database restart is a 503, not a traceback
    api.include_router(livekit_webhooks.router)
    api.include_router(results.router)
    api.include_router(files.router)
    api.include_router(greenhouse.router)  # Greenhouse's Assessment Partner API (Basic auth; 404 while GREENHOUSE_API_KEY is unset)
    api.include_router(auth.router)  # admin sign-in/out: form posts that set the HttpOnly session cookie
    api.add_middleware(AdminSessionMiddleware)  # session token → its hash before Reflex stores headers; /_upload needs an admin
    api.add_middleware(body_limit.BodyLimitMiddleware, webhook_limit=get_settings().max_webhook_bytes)  # first check: sizes, uploads
    api.add_middleware(SecurityHeadersMiddleware, headers=security_headers(get_settings()))  # pages and API alike
    return api
