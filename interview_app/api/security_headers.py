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

No page's policy has 'unsafe-eval'. Reflex's state.js runs a script an event handler *returns*
with ``eval()`` — ``rx.call_script``, ``rx.call_function`` and everything built on ``run_script``,
``rx.toast`` included — so no handler returns one: the admin pages' notices are state
(``state/notice.py``, shown by ``components/notice.py``) and the review player seeks through a
prop. Events written into a page (``on_click=rx.toast(...)``) are compiled functions, not eval.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interview_app.settings import Settings


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


def content_security_policy(settings: Settings) -> str:
    """The policy of every page (see the module docstring for why each source is there)."""
    livekit = _livekit_sources(settings.livekit_browser_url)
    storage: list[str] = []
    if settings.storage_backend == "s3":
        endpoint = settings.s3_public_endpoint_url or settings.s3_endpoint_url
        storage = [_origin(endpoint)] if endpoint else ["https://*.amazonaws.com"]
    directives = {
        "default-src": ["'self'"],
        # No 'unsafe-eval': a handler that returned rx.toast / rx.call_script (eval in state.js) would
        # fail silently (a CSP violation in the console); tests/e2e/test_admin.py watches for one.
        "script-src": ["'self'", "'unsafe-inline'"],
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


def security_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    """The headers added to every HTTP response (pages, Reflex endpoints, API)."""
    headers = {
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
        "content-security-policy": content_security_policy(settings),
        "permissions-policy": "microphone=(self), camera=(self), geolocation=(), payment=()",
        "cross-origin-opener-policy": "same-origin",
    }
    if settings.app_url.startswith("https://"):
        headers["strict-transport-security"] = "max-age=31536000; includeSubDomains"
    return [(k.encode(), v.encode()) for k, v in headers.items()]


class SecurityHeadersMiddleware:
    """Adds :func:`security_headers` to HTTP responses that do not set the header themselves."""

    def __init__(self, app: ASGIApp, headers: list[tuple[bytes, bytes]]) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ours = self.headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [(k, v) for k, v in ours if k not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)
