"""Request body limits on every HTTP request of the backend, applied before the body is read.

A plain ASGI middleware on the FastAPI app that wraps Reflex (``api_transformer``), so it sees
our routes, the compiled pages and Reflex's ``/_upload`` alike; websocket traffic (Reflex's
``/_event``) passes untouched.

- A ``Content-Length`` over the path's limit is answered 413 at once: the app is not called and
  not one byte of the body is read.
- A body without one (chunked) is counted as it passes through ``receive``. The chunk that
  crosses the limit is not handed on: the app is told the client has gone (``http.disconnect``)
  and gets no more of the body. If no response has started we answer 413 and drop whatever the
  app still sends; if the app had already started its own response, it finishes it.
- ``POST /_upload`` must carry a ``reflex-client-token``, name one of the app's upload handlers
  in ``reflex-event-handler`` and be multipart/form-data, else 400 before the body is read.
  Reflex itself has no size limit (it spools the whole body to disk, then the handler may
  refuse the file), answers 500 with a traceback in the log for a handler that takes no
  files, and runs the handler with no files for a body that is not multipart.

Our answers carry ``Connection: close``, so the server closes the connection rather than reading
and discarding the rest of a body nobody will use.
"""

from __future__ import annotations

import json
from collections.abc import Collection

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Reflex's upload endpoint (``reflex_base.constants.Endpoint.UPLOAD``; our ``backend_path`` is "").
UPLOAD_PATH = "/_upload"
#: ``/_upload``: the admin CSV import, whose handler refuses files over 2 MB (``MAX_CSV_BYTES``
#: in ``state/admin_candidates.py``), plus room for the multipart framing around the file.
UPLOAD_BODY_LIMIT = 2_621_440  # 2.5 MiB
#: Everything else: the JSON API, pages, LiveKit's webhook. The agent's result webhook may need
#: more: ``/webhooks/*`` gets ``MAX_WEBHOOK_BYTES`` when that is larger (see ``webhook_limit``).
DEFAULT_BODY_LIMIT = 1_048_576  # 1 MiB
WEBHOOK_PREFIX = "/webhooks/"


def app_upload_handlers() -> frozenset[str]:
    """The ``reflex-event-handler`` values of the app's upload handlers, as the frontend sends them.

    The frontend posts the compiled event's name, ``<state's full name>.<handler>``, in that
    header (``uploadFiles`` in reflex_base's ``.templates/web/utils/helpers/upload.js``).
    """
    # Imported on first use: the API served alone (ApiServer, bench) need not load Reflex's states (+0.8 s).
    from interview_app.state.admin_candidates import CandidatesState

    return frozenset({f"{CandidatesState.get_full_name()}.import_file"})


async def _refuse(send: Send, status: int, sentence: str) -> None:
    body = json.dumps({"detail": sentence}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _too_large(path: str, limit: int) -> str:
    if path == UPLOAD_PATH:
        return f"The upload is larger than {limit:,} bytes; split the file into parts of at most 2 MB and upload each."
    return f"The request body is larger than {limit:,} bytes, the most this address accepts; send a smaller one."


class BodyLimitMiddleware:
    """Refuses request bodies over the path's limit, and uploads not meant for the app's upload handlers.

    Args:
        webhook_limit: the routes' own limit for ``/webhooks/*`` (``MAX_WEBHOOK_BYTES``); the
            middleware allows up to the larger of it and :data:`DEFAULT_BODY_LIMIT` there.
        upload_handlers: the allowed ``reflex-event-handler`` values; by default
            :func:`app_upload_handlers`, looked up on the first upload.
    """

    def __init__(self, app: ASGIApp, webhook_limit: int = DEFAULT_BODY_LIMIT, upload_handlers: Collection[str] | None = None) -> None:
        self.app = app
        self.webhook_limit = max(webhook_limit, DEFAULT_BODY_LIMIT)
        self._upload_handlers = frozenset(upload_handlers) if upload_handlers is not None else None

    def limit_for(self, path: str) -> int:
        if path == UPLOAD_PATH:
            return UPLOAD_BODY_LIMIT
        if path.startswith(WEBHOOK_PREFIX):
            return self.webhook_limit
        return DEFAULT_BODY_LIMIT

    def upload_handlers(self) -> frozenset[str]:
        if self._upload_handlers is None:
            self._upload_handlers = app_upload_handlers()
        return self._upload_handlers

    def refusal(self, scope: Scope, limit: int) -> tuple[int, str] | None:
        """What to answer from the request line and headers alone, or None to let it through."""
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None and not declared.isdigit():
            return 400, "The Content-Length header is not a number of bytes."
        if declared is not None and int(declared) > limit:
            return 413, _too_large(scope["path"], limit)
        if scope["method"] != "POST" or scope["path"] != UPLOAD_PATH:
            return None
        if not headers.get("reflex-client-token"):
            return 400, "The upload has no reflex-client-token header; upload the file from the app's page."
        if headers.get("reflex-event-handler") not in self.upload_handlers():
            return 400, "The reflex-event-handler header does not name an upload of this app; upload the file from the app's page."
        if headers.get("content-type", "").split(";")[0].strip().lower() != "multipart/form-data":
            return 400, "An upload must be sent as multipart/form-data; upload the file from the app's page."
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        refusal = self.refusal(scope, limit)
        if refusal is not None:
            await _refuse(send, *refusal)
            return

        received = 0
        started = False  # a response has begun (the app's or our 413)
        refused = False  # we answered 413: what the app sends from now on is dropped
        cut_off = False  # the app has been told the client is gone

        async def receive_within_limit() -> Message:
            nonlocal received, started, refused, cut_off
            if cut_off:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    cut_off = True
                    if not started:
                        started = refused = True  # set before awaiting: the app may send meanwhile
                        await _refuse(send, 413, _too_large(scope["path"], limit))
                    return {"type": "http.disconnect"}
            return message

        async def send_unless_refused(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive_within_limit, send_unless_refused)
        except ClientDisconnect:
            if not cut_off:  # a disconnect we told the app about is ours, not an error
                raise
