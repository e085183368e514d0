"""Security headers on every HTTP response of the backend: pages, Reflex endpoints and the API.

A plain ASGI middleware on the FastAPI app that wraps Reflex (``api_transformer``), so it
sees the compiled pages, ``/_upload``, ``/ping`` and our routes alike; websocket traffic
(Reflex's ``/_event``) passes untouched.

The Content-Security-Policy is what the Reflex frontend and LiveKit need, measured in
Chromium (tests/reliability/test_r4_served.py, tests/e2e/test_candidate_flow.py,
tests/e2e/test_review.py): React Router's hydration data and Radix's styles are inline
('unsafe-inline' for scripts and styles — Reflex 0.10 has no nonce support), Reflex's
websocket and uploads are same-origin ('self' covers ws/wss of the page's own host), LiveKit
needs its server's ws(s) and http(s) origins, recordings play from the storage's presigned
URLs (media-src), the browser mic meter uses blob: workers.

'unsafe-eval' is left out of the candidate pages' policy and kept for the others: Reflex's
state.js runs a script an event handler *returns* with ``eval()`` — ``rx.call_script``,
``rx.call_function`` and everything built on ``run_script``, which includes ``rx.toast``
(the admin pages' confirmations, the review page's "scores saved"). No handler of the
candidate pages returns one, and a candidate page never navigates in-app to another page,
so its document's policy is its own; the landing page does navigate in-app to /admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interview_app import routes
from interview_app.settings import Settings

#: The candidate's pages (``/interview/<token>``): their policy has no 'unsafe-eval'.
CANDIDATE_PREFIX = routes.CANDIDATE.split("[", 1)[0]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _livekit_sources(url: str) -> list[str]:
    """The ws(s) and http(s) origins of a LiveKit URL (LiveKit Cloud also uses regional hosts)."""
    if not url:
        return []
    parts = urlsplit(url)
    secure = parts.scheme in ("wss", "https")
    host = parts.netloc
    sources = [f"{'wss' if secure else 'ws'}://{host}", f"{'https' if secure else 'http'}://{host}"]
    if parts.hostname and parts.hostname.endswith(".livekit.cloud"):
        sources += ["wss://*.livekit.cloud", "https://*.livekit.cloud"]
    return sources


def content_security_policy(settings: Settings, *, allow_eval: bool = True) -> str:
    """The policy of the pages; ``allow_eval`` for pages whose handlers return scripts (see the module docstring)."""
    livekit = _livekit_sources(settings.livekit_browser_url)
    storage: list[str] = []
    if settings.storage_backend == "s3":
        endpoint = settings.s3_public_endpoint_url or settings.s3_endpoint_url
        storage = [_origin(endpoint)] if endpoint else ["https://*.amazonaws.com"]
    directives = {
        "default-src": ["'self'"],
        # 'unsafe-eval' only where a handler returns rx.toast / rx.call_script (eval in state.js):
        # without it those fail silently (a CSP violation in the console).
        "script-src": ["'self'", "'unsafe-inline'", "'unsafe-eval'" if allow_eval else ""],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "media-src": ["'self'", "blob:", *storage],
        "connect-src": ["'self'", *livekit, *storage],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(dict.fromkeys(v for v in values if v))}" for name, values in directives.items())


@dataclass(frozen=True)
class PageHeaders:
    """The headers added to responses: ``candidate`` on the candidate's pages, ``default`` elsewhere."""

    default: list[tuple[bytes, bytes]]
    candidate: list[tuple[bytes, bytes]]

    def for_path(self, path: str) -> list[tuple[bytes, bytes]]:
        return self.candidate if path.startswith(CANDIDATE_PREFIX) else self.default


def _headers(settings: Settings, *, allow_eval: bool) -> list[tuple[bytes, bytes]]:
    headers = {
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
        "content-security-policy": content_security_policy(settings, allow_eval=allow_eval),
        "permissions-policy": "microphone=(self), camera=(self), geolocation=(), payment=()",
        "cross-origin-opener-policy": "same-origin",
    }
    if settings.app_url.startswith("https://"):
        headers["strict-transport-security"] = "max-age=31536000; includeSubDomains"
    return [(k.encode(), v.encode()) for k, v in headers.items()]


def security_headers(settings: Settings) -> PageHeaders:
    return PageHeaders(default=_headers(settings, allow_eval=True), candidate=_headers(settings, allow_eval=False))


class SecurityHeadersMiddleware:
    """Adds :func:`security_headers` to HTTP responses that do not set the header themselves."""

    def __init__(self, app: ASGIApp, headers: PageHeaders) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ours = self.headers.for_path(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [(k, v) for k, v in ours if k not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)
