"""The admin session cookie at the edge: the raw token never goes past this middleware.

The browser holds the admin session in an HttpOnly cookie (``admin_session``) that only the
sign-in route sets (``interview_app/api/auth.py``). Reflex copies the websocket handshake's
headers — cookies included — into every tab's state, and its disk and Redis state managers
persist that state (``.states/*.pkl``, Redis keys). So before any request reaches Reflex or a
route, :class:`AdminSessionMiddleware` rewrites the Cookie header: ``admin_session=<raw>``
becomes ``admin_session_sha256=<sha256 of raw>`` — the value the database stores, which is
useless as a cookie (the middleware drops any ``admin_session_sha256`` a client sends
itself, and no preimage of it is known). Admin event handlers look the session up by that
hash, from the headers of the connection the event arrived on (``AdminState._guard``), so a
client that reconnects with a tab's Reflex token but without the cookie has no authority.

The device cookie (``admin_device``, see ``services/auth.py``) is only needed by the sign-in
route and is dropped from every other request.

``POST /_upload`` runs an event handler over HTTP with the tab's *stored* router data (Reflex
puts no request headers on upload events), so the upload request itself must carry a valid
admin session with the admin role, else 401/403 before its body is read.
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from interview_app import routes
from interview_app.services.sign_in import admin_for_session_hash, rewrite_cookie_header, session_hash_from_cookie_header

#: The only route that reads the device cookie.
SIGN_IN_PATH = routes.SIGN_IN


class AdminSessionMiddleware:
    """Rewrites the admin cookies on every HTTP and websocket request; guards ``POST /_upload``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = [(k, v) for k, v in scope.get("headers", []) if k != b"cookie"]
        cookie = "; ".join(v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"cookie")
        rewritten = rewrite_cookie_header(cookie, keep_device=scope.get("path") == SIGN_IN_PATH) if cookie else ""
        if rewritten:
            headers.append((b"cookie", rewritten.encode("latin-1")))
        scope = {**scope, "headers": headers}
        if scope["type"] == "http" and scope.get("path") == "/_upload" and scope.get("method") == "POST":
            from interview_app.models import AdminRole

            token_hash = session_hash_from_cookie_header(rewritten)
            admin = await run_in_threadpool(admin_for_session_hash, token_hash)
            if admin is None:
                await _refuse(send, 401, "Sign in as an admin to upload files.")
                return
            if admin.role != AdminRole.admin.value:
                await _refuse(send, 403, "Your role (reviewer) cannot upload files. Ask an admin.")
                return
        await self.app(scope, receive, send)


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
