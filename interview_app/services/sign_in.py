"""What the sign-in route, the cookie middleware and the admin pages share (framework-free).

- The session cookie seen by the app: ``AdminSessionMiddleware`` (``api/admin_session.py``)
  rewrites ``admin_session=<raw token>`` into ``admin_session_sha256=<hash>`` with
  :func:`rewrite_cookie_header` before Reflex or a route sees the request, so the raw token is
  never stored in a tab's state; the guard reads it back with :func:`session_hash_from_cookie_header`.
- Where to go after signing in (:func:`safe_next`: an admin page of this app, never elsewhere).
- Who is signed in behind a session hash (:func:`admin_for_session_hash`: the event guard and the
  upload check ask it the same way).
- The sentences of the sign-in page: the route answers a refusal with ``?signin=<reason>&wait=<s>``
  (:func:`sign_in_reason`), the page words it (:func:`sign_in_message`); nothing typed is echoed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import unquote

from interview_app.db import session_scope
from interview_app.services.auth import (
    ADMIN_DEVICE_COOKIE,
    ADMIN_SESSION_COOKIE,
    LOGIN_MESSAGES,
    LoginError,
    session_token_hash,
    user_for_session_hash,
    wait_message,
)

#: The cookie name under which the session's hash reaches Reflex and the routes.
SESSION_HASH_COOKIE = f"{ADMIN_SESSION_COOKIE}_sha256"
#: After a refused sign-in, the email typed (URL-quoted, HttpOnly, 10 minutes) so the form keeps it.
SIGN_IN_EMAIL_COOKIE = "admin_sign_in_email"
SIGN_IN_EMAIL_SECONDS = 600
_MAX_COOKIE_HEADER = 8192
_EMAIL_LIKE = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,200}@[^@\s\x00-\x1f\x7f]{1,200}$")
_NEXT = re.compile(r"^/admin(?:/(?!\.\.?(?:/|$))[A-Za-z0-9._~-]+)*/?$")


def parse_cookie_header(header: str) -> dict[str, str]:
    """``name=value`` pairs of a Cookie header (the first of a name wins, as browsers send the most specific first)."""
    out: dict[str, str] = {}
    for part in (header or "")[:_MAX_COOKIE_HEADER].split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name and name not in out:
            out[name] = value.strip().strip('"')
    return out


def session_hash_from_cookie_header(header: str) -> str:
    """The session hash AdminSessionMiddleware put on the request, or ""."""
    return parse_cookie_header(header).get(SESSION_HASH_COOKIE, "")


@dataclass(frozen=True)
class AdminIdentity:
    id: int
    email: str
    role: str


def admin_for_session_hash(token_hash: str) -> AdminIdentity | None:
    """The active admin behind a session hash (checked in the database), or None."""
    if not token_hash:
        return None
    with session_scope() as session:
        user = user_for_session_hash(session, token_hash)
        return AdminIdentity(user.id, user.email, str(user.role)) if user is not None and user.id is not None else None


def rewrite_cookie_header(header: str, *, keep_device: bool = False) -> str:
    """The Cookie header as the app may see it: the session token replaced by its hash, hashes a
    client sent itself and (unless ``keep_device``) the device cookie dropped."""
    kept: list[str] = []
    raw_session = ""
    for part in (header or "")[:_MAX_COOKIE_HEADER].split(";"):
        name, _, value = part.strip().partition("=")
        if name == ADMIN_SESSION_COOKIE:
            raw_session = raw_session or value.strip().strip('"')
        elif not name or name == SESSION_HASH_COOKIE or (name == ADMIN_DEVICE_COOKIE and not keep_device):
            continue
        else:
            kept.append(part.strip())
    if raw_session:
        kept.append(f"{SESSION_HASH_COOKIE}={session_token_hash(raw_session)}")
    return "; ".join(kept)


def remembered_email(header: str) -> str:
    """The email of the last refused sign-in in this browser (for the form), "" when none or not an email."""
    value = unquote(parse_cookie_header(header).get(SIGN_IN_EMAIL_COOKIE, ""))[:320]
    return value if _EMAIL_LIKE.match(value) else ""


def safe_next(value: str) -> str:
    """Where to go after signing in: the admin page ``value`` names (query and fragment dropped), else ``/admin``."""
    path = (value or "").split("?", 1)[0].split("#", 1)[0]
    return path if len(path) <= 200 and _NEXT.match(path) else "/admin"


def sign_in_reason(err: LoginError) -> tuple[str, int | None]:
    """The reason code (and seconds to wait) the sign-in route puts in the address for a refusal."""
    wait = err.wait_seconds if err.reason == "wait" else None
    return err.reason, (max(1, int(wait)) if wait else None)


def sign_in_message(reason: str, wait: str = "") -> tuple[str, str]:
    """("error" | "info", sentence) for ``?signin=<reason>&wait=<seconds>``; unknown reasons get a neutral sentence."""
    if reason == "wait":
        seconds = int(wait) if wait.isdigit() and len(wait) <= 6 else 60
        return "error", wait_message(timedelta(seconds=max(1, seconds)))
    if reason in LOGIN_MESSAGES:
        return "error", LOGIN_MESSAGES[reason]
    messages = {
        "invalid": ("error", "The sign-in form did not arrive complete. Try again."),
        "signed-out": ("info", "You are signed out."),
        "signed-out-everywhere": ("info", "You are signed out on every device: every session of this account has ended."),
    }
    return messages.get(reason, ("error", "Sign in to continue."))
