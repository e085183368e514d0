"""Admin accounts: password hashing (argon2 via argon2-cffi) and account creation."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, func, select

from interview_app.models import AdminRole, AdminUser

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
    from interview_app.services.interviews import as_aware

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
