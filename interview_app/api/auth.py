"""Admin sign-in and sign-out over plain HTTP form posts, so the session cookie can be HttpOnly.

``POST /auth/sign-in`` (``email``, ``password``, ``next``) checks the credentials with the
throttled :func:`interview_app.services.auth.login`, revokes the session the browser held
before, sets ``admin_session`` (HttpOnly, SameSite=Strict, Secure behind https) and the device
cookie, and answers 303 to ``next`` — a full page load, so the page's websocket reconnects
carrying the new cookie. A refusal answers 303 to ``next?signin=<reason>[&wait=<seconds>]``;
the page turns the reason into its sentence (:func:`sign_in_message`); no typed text is
echoed. ``POST /auth/sign-out`` (``scope=this|everywhere``) revokes this session or every
session of its admin and clears the cookie.

Both refuse a cross-site post (``Sec-Fetch-Site`` / ``Origin``, see :func:`_same_origin`; the
cookie is SameSite=Strict as well). The raw session token only ever appears in the ``Set-Cookie`` of the
sign-in answer: requests reach these routes through ``AdminSessionMiddleware``, which has
already replaced it by its hash.
"""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from interview_app import routes
from interview_app.api.admin_session import SIGN_IN_PATH
from interview_app.services.auth import (
    ADMIN_DEVICE_COOKIE,
    ADMIN_SESSION_COOKIE,
    DEVICE_COOKIE_DAYS,
    LoginError,
    LoginPolicy,
    issue_device_cookie,
    login,
    revoke_session_hash,
    revoke_user_sessions,
    user_for_session_hash,
)
from interview_app.services.sign_in import (
    SIGN_IN_EMAIL_COOKIE,
    SIGN_IN_EMAIL_SECONDS,
    safe_next,
    session_hash_from_cookie_header,
    sign_in_reason,
)
from interview_app.settings import Settings, get_settings

router = APIRouter(tags=["admin sessions"], include_in_schema=False)

_MAX_FORM_BYTES = 16 * 1024
_NO_STORE = {"Cache-Control": "no-store"}


def session_cookie_secure(settings: Settings) -> bool:
    """Send the admin cookies over HTTPS only when the app is served over HTTPS (APP_URL)."""
    return settings.app_url.startswith("https://")


def client_address(request: Request) -> str:
    """The client's address; behind ``REFLEX_TRUSTED_PROXY_HOPS`` proxies, the one they report (as Reflex does)."""
    from reflex.config import get_config

    address = request.client.host if request.client else "unknown"
    hops = get_config().trusted_proxy_hops
    if hops:
        forwarded = [ip.strip() for ip in request.headers.get("x-forwarded-for", "").split(",") if ip.strip()]
        if len(forwarded) >= hops:
            address = forwarded[-hops]
    return address[:200]


def _same_origin(request: Request, settings: Settings) -> bool:
    """Not a cross-site form post (login CSRF, forced sign-out).

    Browsers say where a request comes from in ``Sec-Fetch-Site`` (it must be ``same-origin``);
    where they do not send it, ``Origin`` must be the app's URL or the host the post was sent
    to. The app's ``Referrer-Policy: no-referrer`` makes Chromium send ``Origin: null`` even for
    its own form posts, so ``null`` counts only with ``Sec-Fetch-Site: same-origin``. A request
    with neither header is not from a browser, and a non-browser client holds no victim's cookies.
    """
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    origin = request.headers.get("origin")
    if origin is None:
        return True
    netloc = urlsplit(origin).netloc
    return bool(netloc) and (netloc == request.headers.get("host", "") or netloc == urlsplit(settings.app_url).netloc)


async def _form(request: Request) -> dict[str, str] | None:
    if request.headers.get("content-type", "").split(";", 1)[0].strip() != "application/x-www-form-urlencoded":
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM_BYTES:
            return None
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return None
    return {k: v[0] for k, v in fields.items() if v}


def _refused(reason: str) -> Response:
    return PlainTextResponse(reason, status_code=403, headers=_NO_STORE)


def _back(next_path: str, reason: str, wait_seconds: int | None = None) -> RedirectResponse:
    query = {"signin": reason, **({"wait": str(wait_seconds)} if wait_seconds else {})}
    return RedirectResponse(f"{next_path}?{urlencode(query)}", status_code=303, headers=_NO_STORE)


def _sign_in(email: str, password: str, client: str, device: str, previous_hash: str) -> tuple[str, str]:
    """Check the credentials and start a session; returns (raw session token, device cookie value)."""
    from interview_app.db import session_scope

    settings = get_settings()
    policy = LoginPolicy.from_settings(settings)
    with session_scope() as session:
        try:
            user, raw = login(session, email, password, client=client, policy=policy, device=device)
        except LoginError:
            session.commit()  # the failed attempt feeds the throttle
            raise
        if previous_hash:
            revoke_session_hash(session, previous_hash)  # a new sign-in ends the session this browser held
        return raw, issue_device_cookie(user, settings.secret_key)


@router.post(SIGN_IN_PATH)
async def sign_in(request: Request) -> Response:
    settings = get_settings()
    if not _same_origin(request, settings):
        return _refused("Sign in from the app's own sign-in page.")
    form = await _form(request)
    if form is None:
        return _back("/admin", "invalid")
    next_path = safe_next(form.get("next", ""))
    cookies = request.cookies
    try:
        raw, device_cookie = await run_in_threadpool(
            _sign_in,
            form.get("email", "")[:400],
            form.get("password", "")[:1024],
            client_address(request),
            cookies.get(ADMIN_DEVICE_COOKIE, "")[:400],
            session_hash_from_cookie_header(request.headers.get("cookie", "")),
        )
    except LoginError as err:
        reason, wait = sign_in_reason(err)
        refused = _back(next_path, reason, wait)
        email = form.get("email", "").strip()[:320]
        if email:  # the form keeps what was typed (read back from the websocket's cookies, never from the address)
            refused.set_cookie(
                SIGN_IN_EMAIL_COOKIE,
                quote(email, safe=""),
                max_age=SIGN_IN_EMAIL_SECONDS,
                path="/",
                httponly=True,
                samesite="strict",
                secure=session_cookie_secure(settings),
            )
        return refused
    response = RedirectResponse(next_path, status_code=303, headers=_NO_STORE)
    secure = session_cookie_secure(settings)
    response.delete_cookie(SIGN_IN_EMAIL_COOKIE, path="/", httponly=True, samesite="strict", secure=secure)
    response.set_cookie(
        ADMIN_SESSION_COOKIE,
        raw,
        max_age=settings.admin_session_ttl_minutes * 60,
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure,
    )
    response.set_cookie(
        ADMIN_DEVICE_COOKIE,
        device_cookie,
        max_age=DEVICE_COOKIE_DAYS * 86400,
        path=SIGN_IN_PATH,
        httponly=True,
        samesite="strict",
        secure=secure,
    )
    return response


def _sign_out(token_hash: str, everywhere: bool) -> None:
    from interview_app.db import session_scope

    with session_scope() as session:
        user = user_for_session_hash(session, token_hash) if everywhere else None
        if user is not None and user.id is not None:
            revoke_user_sessions(session, user.id)
        revoke_session_hash(session, token_hash)


@router.post(routes.SIGN_OUT)
async def sign_out(request: Request) -> Response:
    settings = get_settings()
    if not _same_origin(request, settings):
        return _refused("Sign out from the app's own pages.")
    form = await _form(request) or {}
    everywhere = form.get("scope") == "everywhere"
    token_hash = session_hash_from_cookie_header(request.headers.get("cookie", ""))
    if token_hash:
        await run_in_threadpool(_sign_out, token_hash, everywhere)
    response = _back("/admin", "signed-out-everywhere" if everywhere else "signed-out")
    response.delete_cookie(ADMIN_SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=session_cookie_secure(settings))
    return response
