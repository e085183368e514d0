"""Answers for failures of what the API depends on, instead of a bare 500."""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError

logger = logging.getLogger(__name__)


async def database_unavailable_handler(request: Request, exc: Exception) -> JSONResponse:
    """The database went away (restart, failover, network): 503 with a sentence, so clients retry.

    Only connection-level errors land here (``OperationalError``, or a ``DBAPIError`` whose
    connection was invalidated); other database errors stay 500s, they are bugs.
    """
    if isinstance(exc, DBAPIError) and not isinstance(exc, OperationalError) and not exc.connection_invalidated:
        logger.exception("database error on %s", request.url.path)
        return JSONResponse({"error": "internal", "detail": "Something went wrong on our side. Please try again."}, status_code=500)
    logger.warning("database unavailable on %s: %s", request.url.path, exc.__class__.__name__)
    return JSONResponse(
        {"error": "database_unavailable", "detail": "The service is briefly unavailable. Please try again in a few seconds."},
        status_code=503,
        headers={"Retry-After": "5"},
    )
