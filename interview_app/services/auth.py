"""Admin accounts: password hashing (argon2 via argon2-cffi) and account creation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, func, select

from interview_app.models import AdminRole, AdminUser
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


def _token_hash(raw: str) -> str:
    import hashlib

    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def create_session(session: Session, user: AdminUser, *, ttl_minutes: int, client: str = "") -> str:
    """Start an admin session; returns the raw token for the cookie (only its hash is stored)."""
    import secrets
    from datetime import timedelta

    from interview_app.models import AdminSession, utcnow

    raw = secrets.token_urlsafe(32)
    session.add(
        AdminSession(
            token_hash=_token_hash(raw), user_id=user.id, expires_at=utcnow() + timedelta(minutes=ttl_minutes), client=client[:200]
        )
    )
    session.flush()
    return raw


def user_for_session(session: Session, raw_token: str) -> AdminUser | None:
    """The active admin behind a session token, or None (unknown, expired, revoked, deactivated)."""
    from interview_app.models import AdminSession, utcnow

    if not raw_token or len(raw_token) > 200:
        return None
    row = session.exec(select(AdminSession).where(AdminSession.token_hash == _token_hash(raw_token))).first()
    if row is None or row.revoked_at is not None or as_aware(row.expires_at) <= utcnow():
        return None
    user = session.get(AdminUser, row.user_id)
    return user if user is not None and user.active else None


def revoke_session(session: Session, raw_token: str) -> None:
    from interview_app.models import AdminSession, utcnow

    row = session.exec(select(AdminSession).where(AdminSession.token_hash == _token_hash(raw_token))).first()
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)


def revoke_user_sessions(session: Session, user_id: int) -> int:
    """End every open session of one admin (deactivation, password change); returns how many."""
    from interview_app.models import AdminSession, utcnow

    rows = session.exec(select(AdminSession).where(AdminSession.user_id == user_id, AdminSession.revoked_at.is_(None))).all()  # type: ignore[union-attr]
    now = utcnow()
    for row in rows:
        row.revoked_at = now
        session.add(row)
    return len(rows)


# --- sign-in with throttling ---------------------------------------------------


class LoginError(Exception):
    """A refused sign-in; the message is for the person at the login form."""


@dataclass(frozen=True)
class LoginPolicy:
    """How long sessions last and when repeated failures lock an account or a client out."""

    session_ttl_minutes: int = 480
    max_failures: int = 5
    lockout_minutes: int = 15
    #: A client address is locked after this many times ``max_failures`` failures across accounts:
    #: several recruiters can share one office address, and one guesser still cannot spray many accounts.
    client_factor: int = 4

    @property
    def client_max_failures(self) -> int:
        return self.max_failures * self.client_factor

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginPolicy:
        return cls(settings.admin_session_ttl_minutes, settings.login_max_failures, settings.login_lockout_minutes)


# Verified against when the email is unknown, so that both answers take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + "x" * 16)
_BAD_CREDENTIALS = "The email or password is wrong. Check both and try again."


def _recent_failures(session: Session, column: Any, value: str, since: datetime) -> list[datetime]:
    """Times of failed sign-ins for ``column == value`` since ``since`` and since the last success."""
    from interview_app.models import LoginAttempt

    last_ok = session.exec(
        select(func.max(LoginAttempt.at)).where(column == value, LoginAttempt.success.is_(True), LoginAttempt.at >= since)  # type: ignore[union-attr]
    ).one()
    floor = max(since, as_aware(last_ok)) if last_ok is not None else since
    rows = session.exec(
        select(LoginAttempt.at).where(column == value, LoginAttempt.success.is_(False), LoginAttempt.at > floor)  # type: ignore[union-attr]
    ).all()
    return [as_aware(at) for at in rows]


def lockout_remaining(session: Session, email: str, client: str, policy: LoginPolicy, *, now: datetime | None = None) -> timedelta | None:
    """How long the account or the client is still locked out, or None when sign-in is allowed."""
    from interview_app.models import LoginAttempt, utcnow

    now = now or utcnow()
    window = timedelta(minutes=policy.lockout_minutes)
    since = now - window
    remaining: list[timedelta] = []
    checks = [(LoginAttempt.email, email, policy.max_failures)]
    if client:
        checks.append((LoginAttempt.client, client, policy.client_max_failures))
    for column, value, limit in checks:
        failures = sorted(_recent_failures(session, column, value, since))
        if len(failures) >= limit:
            # Locked until the window has passed over the failure that reached the limit.
            remaining.append(failures[-limit] + window - now)
    return max(remaining) if remaining else None


def login(session: Session, email: str, password: str, *, client: str, policy: LoginPolicy) -> tuple[AdminUser, str]:
    """Check the credentials and start a session; returns the admin and the raw session token.

    The caller commits, also when LoginError is raised: the failed attempt is
    flushed into ``session`` and is what throttles the next guesses.

    Raises:
        LoginError: wrong credentials, deactivated account, or too many recent failures.
    """
    from interview_app.models import LoginAttempt, utcnow

    email = (email or "").strip().lower()[:320]
    client = (client or "")[:200]
    if not email or not password:
        raise LoginError("Enter your email and password.")
    locked = lockout_remaining(session, email, client, policy)
    if locked is not None:
        minutes = max(1, int(locked.total_seconds() // 60) + 1)
        raise LoginError(
            f"Too many failed sign-ins. Wait {minutes} minute{'s' if minutes != 1 else ''} and try again, or ask another admin."
        )
    user = session.exec(select(AdminUser).where(AdminUser.email == email)).first()
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    if not ok or user is None or not user.active:
        session.add(LoginAttempt(email=email, client=client, success=False))
        session.flush()
        if ok and user is not None and not user.active:
            raise LoginError("This account is deactivated. Ask an admin to reactivate it.")
        raise LoginError(_BAD_CREDENTIALS)
    session.add(LoginAttempt(email=email, client=client, success=True))
    user.last_login_at = utcnow()
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.add(user)
    raw = create_session(session, user, ttl_minutes=policy.session_ttl_minutes, client=client)
    return user, raw
