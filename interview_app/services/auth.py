"""Admin accounts, sessions and sign-in throttling.

Passwords are hashed with argon2 (argon2-cffi). A session cookie carries a random token; only its
SHA-256 is stored (``session_token_hash``), so a database leak signs nobody in.

Sign-in throttling follows OWASP's device cookies (ASVS V2.2): lock out untrusted clients, never
the account. After a successful sign-in the browser gets a signed device cookie for that admin
(``issue_device_cookie``, valid ``DEVICE_COOKIE_DAYS``). Every attempt is then one of two kinds;
the numbers come from ``LoginPolicy`` (defaults: LOGIN_MAX_FAILURES=5, LOGIN_LOCKOUT_MINUTES=15):

- **Known device** (a valid device cookie for the account of that email): refused only when this
  device itself had ``max_failures`` (5) failures for the account within ``lockout_minutes`` (15)
  since its last success. The account's and the address's counters do not apply, so nobody
  guessing elsewhere, or behind the same proxy, can lock a known admin out.
- **Untrusted** (no cookie, or a forged, expired or other account's cookie):

  - per (email, address) pair: ``max_failures`` (5) failures → the pair waits out the window;
  - per address across accounts: ``client_max_failures`` (20) failures → the address waits out
    the window. A success from the address does not reset this counter, so an attacker's own
    account cannot wipe the record of their spraying;
  - per account across addresses: from ``max_failures`` (5) failures within
    ``backoff_memory_hours`` (24) on, each further attempt waits ``backoff_first_seconds`` ×
    2^(failures − max_failures) after the last failure (1 s, 2 s, 4 s …), at most
    ``backoff_cap_seconds`` (5 minutes): a slow-down, not a lock — the right password after the
    wait signs in, and once the guessing stops nobody waits. The long memory keeps a guesser at
    many addresses at the cap (12 guesses an hour) instead of a fresh burst every window.

  An untrusted success of the account resets its account counter and the counter of the pair
  it came from; a known device's success resets only that device's counter, so the admin
  signing in at home hands a guesser elsewhere no fresh attempts.

A refusal says how long to wait and never whether the email exists: every counter is kept per
typed email, known or not, and an unknown email is checked against a dummy hash so that both
answers take the same time. A refused attempt checks no password and is not recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, col, func, select

from interview_app.models import AdminRole, AdminSession, AdminUser, LoginAttempt, utcnow
from interview_app.services.interviews import as_aware

if TYPE_CHECKING:
    from interview_app.settings import Settings

_hasher = PasswordHasher()
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """Bad input for an account; the message is for the person who typed it."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 320:
        raise AccountError(f"“{email}” is not an email address.")
    return email


def create_admin(session: Session, email: str, password: str, *, role: str = AdminRole.admin.value, name: str = "") -> AdminUser:
    """Create an admin account (caller commits).

    Raises:
        AccountError: bad email, short password, unknown role, or the email is taken.
    """
    email = normalize_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if role not in {r.value for r in AdminRole}:
        raise AccountError(f"Unknown role “{role}”: use admin or reviewer.")
    if session.exec(select(AdminUser).where(AdminUser.email == email)).first():
        raise AccountError(f"An account for {email} already exists.")
    user = AdminUser(email=email, name=name, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    return user


def admin_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(AdminUser)).one()


# --- admin sessions ---------------------------------------------------------

#: Name of the browser cookie that carries the raw admin session token.
ADMIN_SESSION_COOKIE = "admin_session"

_TOKEN_HASH = re.compile(r"[0-9a-f]{64}")
_MAX_RAW_TOKEN = 200


def session_token_hash(raw: str) -> str:
    """What is stored for a raw session token (SHA-256, 64 lowercase hex characters)."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


_token_hash = session_token_hash


def create_session(session: Session, user: AdminUser, *, ttl_minutes: int, client: str = "") -> str:
    """Start an admin session; returns the raw token for the cookie (only its hash is stored)."""
    raw = secrets.token_urlsafe(32)
    assert user.id is not None, "a session belongs to a saved admin account"
    session.add(
        AdminSession(
            token_hash=session_token_hash(raw),
            user_id=user.id,
            expires_at=utcnow() + timedelta(minutes=ttl_minutes),
            client=client[:200],
        )
    )
    session.flush()
    return raw


def _session_row(session: Session, token_hash: str) -> AdminSession | None:
    if not isinstance(token_hash, str) or not _TOKEN_HASH.fullmatch(token_hash):
        return None
    return session.exec(select(AdminSession).where(AdminSession.token_hash == token_hash)).first()


def user_for_session_hash(session: Session, token_hash: str) -> AdminUser | None:
    """The active admin behind a stored session hash, or None (malformed, unknown, expired, revoked, deactivated)."""
    row = _session_row(session, token_hash)
    if row is None or row.revoked_at is not None or as_aware(row.expires_at) <= utcnow():
        return None
    user = session.get(AdminUser, row.user_id)
    return user if user is not None and user.active else None


def user_for_session(session: Session, raw_token: str) -> AdminUser | None:
    """The active admin behind a raw session token, or None (unknown, expired, revoked, deactivated)."""
    if not raw_token or len(raw_token) > _MAX_RAW_TOKEN:
        return None
    return user_for_session_hash(session, session_token_hash(raw_token))


def revoke_session_hash(session: Session, token_hash: str) -> None:
    """End the session stored under ``token_hash`` (caller commits); unknown or malformed values are ignored."""
    row = _session_row(session, token_hash)
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)


def revoke_session(session: Session, raw_token: str) -> None:
    if raw_token and len(raw_token) <= _MAX_RAW_TOKEN:
        revoke_session_hash(session, session_token_hash(raw_token))


def revoke_user_sessions(session: Session, user_id: int) -> int:
    """End every open session of one admin (sign out everywhere, deactivation, password change); returns how many."""
    rows = session.exec(select(AdminSession).where(AdminSession.user_id == user_id, col(AdminSession.revoked_at).is_(None))).all()
    now = utcnow()
    for row in rows:
        row.revoked_at = now
        session.add(row)
    return len(rows)


# --- device cookies -------------------------------------------------------------

#: Name of the browser cookie that marks a browser an admin has signed in with before.
ADMIN_DEVICE_COOKIE = "admin_device"
DEVICE_COOKIE_DAYS = 90

# v1.<user id>.<device id: 32 hex>.<issued, epoch seconds>.<HMAC-SHA256, 64 hex>; ASCII digits only.
_DEVICE_COOKIE = re.compile(r"v1\.([1-9][0-9]{0,11})\.([0-9a-f]{32})\.([1-9][0-9]{0,11})\.([0-9a-f]{64})")
_MAX_DEVICE_COOKIE = 160
#: A cookie "issued" this far in the future is refused (clock differences between app servers).
_DEVICE_CLOCK_SKEW_SECONDS = 300


def _device_mac(secret: str, payload: str) -> str:
    # A key of its own, derived from SECRET_KEY, so that no other signature the app makes is a valid device cookie.
    key = hashlib.sha256(b"interview-app admin device cookie\x00" + secret.encode("utf-8")).digest()
    return hmac.new(key, payload.encode("ascii"), hashlib.sha256).hexdigest()


def issue_device_cookie(user: AdminUser, secret: str, *, now: datetime | None = None) -> str:
    """A new signed device cookie value for ``user`` (set it after a successful sign-in, max-age DEVICE_COOKIE_DAYS).

    Raises:
        ValueError: no secret (an unsigned cookie would let anyone claim a known device) or an unsaved user.
    """
    if not secret:
        raise ValueError("Device cookies need the app's SECRET_KEY.")
    if not user.id:
        raise ValueError("Device cookies are issued for saved admin accounts only.")
    issued = int((now or utcnow()).timestamp())
    payload = f"v1.{user.id}.{secrets.token_hex(16)}.{issued}"
    return f"{payload}.{_device_mac(secret, payload)}"


def device_from_cookie(value: str, secret: str, *, now: datetime | None = None) -> tuple[int, str] | None:
    """(user id, device id) of a valid device cookie; None when it is malformed, forged, expired or too long."""
    if not secret or not isinstance(value, str) or len(value) > _MAX_DEVICE_COOKIE:
        return None
    match = _DEVICE_COOKIE.fullmatch(value)
    if match is None:
        return None
    if not hmac.compare_digest(_device_mac(secret, value.rsplit(".", 1)[0]), match.group(4)):
        return None
    issued = int(match.group(3))
    now_s = (now or utcnow()).timestamp()
    if not now_s - DEVICE_COOKIE_DAYS * 86400 < issued <= now_s + _DEVICE_CLOCK_SKEW_SECONDS:
        return None
    return int(match.group(1)), match.group(2)


# --- sign-in with throttling ---------------------------------------------------


class LoginError(Exception):
    """A refused sign-in; the message is for the person at the login form.

    ``reason`` names the case for a caller that words it elsewhere: "missing", "wrong",
    "deactivated" or "wait"; ``wait_seconds`` is how long to wait (reason "wait").
    """

    def __init__(self, message: str, *, reason: str = "wrong", wait_seconds: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.wait_seconds = wait_seconds


@dataclass(frozen=True)
class LoginPolicy:
    """How long sessions last and how repeated failures slow or stop untrusted clients (module docstring)."""

    session_ttl_minutes: int = 480
    max_failures: int = 5
    lockout_minutes: int = 15
    #: An address waits after this many times ``max_failures`` untrusted failures across accounts:
    #: several recruiters can share one office address, and one guesser still cannot spray many accounts.
    client_factor: int = 4
    #: Signs device cookies (``settings.secret_key``); without it every attempt is untrusted.
    device_secret: str = field(default="", repr=False)
    backoff_first_seconds: float = 1.0
    backoff_cap_seconds: float = 300.0
    backoff_memory_hours: int = 24

    @property
    def client_max_failures(self) -> int:
        return self.max_failures * self.client_factor

    def backoff(self, failures: int) -> timedelta:
        """The wait after the last failure once an account has ``failures`` (≥ max_failures) untrusted failures."""
        doublings = min(max(0, failures - self.max_failures), 40)
        return timedelta(seconds=min(self.backoff_cap_seconds, self.backoff_first_seconds * 2**doublings))

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginPolicy:
        return cls(
            session_ttl_minutes=settings.admin_session_ttl_minutes,
            max_failures=settings.login_max_failures,
            lockout_minutes=settings.login_lockout_minutes,
            device_secret=settings.secret_key,
        )


# Verified against when the email is unknown, so that both answers take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + "x" * 16)
#: The sentence for each refusal reason (the sign-in page words ``?signin=<reason>`` with these too).
LOGIN_MESSAGES = {
    "missing": "Enter your email and password.",
    "wrong": "The email or password is wrong. Check both and try again.",
    "deactivated": "This account is deactivated. Ask an admin to reactivate it.",
}
_BAD_CREDENTIALS = LOGIN_MESSAGES["wrong"]


def _failures_after_success(attempts: list[tuple[datetime, str, bool]]) -> list[datetime]:
    """Sorted failure times after the last success among ``attempts`` (at, client, success)."""
    last_ok = max((at for at, _, ok in attempts if ok), default=None)
    return sorted(at for at, _, ok in attempts if not ok and (last_ok is None or at > last_ok))


def _account_backoff(session: Session, email: str, policy: LoginPolicy, now: datetime) -> timedelta | None:
    """The wait the account's untrusted failures since its last untrusted success impose (None below the threshold)."""
    untrusted = (
        col(LoginAttempt.email) == email,
        col(LoginAttempt.device) == "",
        col(LoginAttempt.at) > now - timedelta(hours=policy.backoff_memory_hours),
    )
    last_ok = session.exec(select(func.max(LoginAttempt.at)).where(*untrusted, col(LoginAttempt.success).is_(True))).one()
    failed = [*untrusted, col(LoginAttempt.success).is_(False)]
    if last_ok is not None:
        failed.append(col(LoginAttempt.at) > last_ok)
    count, last = session.exec(select(func.count(), func.max(LoginAttempt.at)).where(*failed)).one()
    if count < policy.max_failures or last is None:
        return None
    return as_aware(last) + policy.backoff(count) - now


def lockout_remaining(
    session: Session, email: str, client: str, policy: LoginPolicy, *, device: str = "", now: datetime | None = None
) -> timedelta | None:
    """How long this attempt must wait, or None when it may go ahead (rules in the module docstring).

    Args:
        device: the device id of a valid device cookie for the account of ``email`` ("" = untrusted).
    """
    now = now or utcnow()
    window = timedelta(minutes=policy.lockout_minutes)
    since = now - window
    rows = session.exec(
        select(LoginAttempt.at, LoginAttempt.client, LoginAttempt.device, LoginAttempt.success).where(
            LoginAttempt.email == email, LoginAttempt.at > since
        )
    ).all()
    # This device's attempts, or the untrusted ones (device ""): a known device's sign-in resets
    # no untrusted counter, and an untrusted failure never counts against a known device.
    attempts = [(as_aware(at), c, ok) for at, c, d, ok in rows if d == device]
    waits: list[timedelta] = []
    if device:
        own = _failures_after_success(attempts)
        if len(own) >= policy.max_failures:
            waits.append(own[-policy.max_failures] + window - now)
    else:
        pair = _failures_after_success([a for a in attempts if a[1] == client])
        if len(pair) >= policy.max_failures:
            waits.append(pair[-policy.max_failures] + window - now)
        account_wait = _account_backoff(session, email, policy, now)
        if account_wait is not None:
            waits.append(account_wait)
        if client:
            # Never reset by a success: the address's failures count until they leave the window.
            newest = session.exec(
                select(LoginAttempt.at)
                .where(
                    LoginAttempt.client == client, LoginAttempt.device == "", col(LoginAttempt.success).is_(False), LoginAttempt.at > since
                )
                .order_by(col(LoginAttempt.at).desc())
                .limit(policy.client_max_failures)
            ).all()
            if len(newest) >= policy.client_max_failures:
                waits.append(as_aware(newest[-1]) + window - now)
    wait = max(waits, default=timedelta(0))
    return wait if wait > timedelta(0) else None


def wait_message(wait: timedelta) -> str:
    """The refusal sentence for a sign-in that must wait ``wait``."""
    return f"Too many failed sign-ins. Wait {_wait_words(wait)} and try again, or ask another admin."


def _wait_words(wait: timedelta) -> str:
    seconds = max(1, math.ceil(wait.total_seconds()))
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def login(
    session: Session,
    email: str,
    password: str,
    *,
    client: str,
    policy: LoginPolicy,
    device: str = "",
    now: datetime | None = None,
) -> tuple[AdminUser, str]:
    """Check the credentials and start a session; returns the admin and the raw session token.

    The caller commits, also when LoginError is raised: the failed attempt is
    flushed into ``session`` and is what throttles the next guesses. After a
    success the caller revokes the session the browser held before
    (``revoke_session_hash``) and sets a fresh device cookie (``issue_device_cookie``).

    Args:
        client: the client's address as the server sees it.
        device: the raw device-cookie value the request carried ("" if none).
        now: the clock (tests).

    Raises:
        LoginError: wrong credentials, deactivated account, or an attempt that must wait.
    """
    now = now or utcnow()
    email = (email or "").strip().lower()[:320]
    client = (client or "")[:200]
    if not email or not password:
        raise LoginError(LOGIN_MESSAGES["missing"], reason="missing")
    user = session.exec(select(AdminUser).where(AdminUser.email == email)).first()
    known = device_from_cookie(device, policy.device_secret, now=now) if device else None
    device_id = known[1] if known is not None and user is not None and known[0] == user.id else ""
    wait = lockout_remaining(session, email, client, policy, device=device_id, now=now)
    if wait is not None:
        raise LoginError(
            wait_message(wait),
            reason="wait",
            wait_seconds=max(1, math.ceil(wait.total_seconds())),
        )
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    if not ok or user is None or not user.active:
        session.add(LoginAttempt(email=email, client=client, device=device_id, success=False, at=now))
        session.flush()
        if ok and user is not None and not user.active:
            raise LoginError(LOGIN_MESSAGES["deactivated"], reason="deactivated")
        raise LoginError(_BAD_CREDENTIALS)
    session.add(LoginAttempt(email=email, client=client, device=device_id, success=True, at=now))
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.add(user)
    raw = create_session(session, user, ttl_minutes=policy.session_ttl_minutes, client=client)
    return user, raw
