"""Admin accounts as other admins see them: list, invite a colleague, deactivate, reactivate."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from interview_app.models import AdminRole, AdminUser
from interview_app.services.auth import AccountError, create_admin, revoke_user_sessions


@dataclass(frozen=True)
class AdminRow:
    id: int
    email: str
    name: str
    role: str
    active: bool
    last_login: str


def list_admins(session: Session) -> list[AdminRow]:
    users = session.exec(select(AdminUser).order_by(AdminUser.email)).all()
    return [
        AdminRow(
            id=u.id,
            email=u.email,
            name=u.name,
            role=u.role,
            active=u.active,
            last_login=u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "never",
        )
        for u in users
        if u.id is not None  # saved rows
    ]


def add_admin(session: Session, email: str, password: str, role: str, name: str = "") -> AdminUser:
    """Create another admin or reviewer (caller commits). Raises AccountError with a sentence."""
    return create_admin(session, email, password, role=role or AdminRole.admin.value, name=name.strip()[:200])


def set_active(session: Session, user_id: int, active: bool, *, acting_user_id: int) -> AdminUser:
    """Deactivate (which ends every session of the account) or reactivate an admin (caller commits).

    Raises:
        AccountError: unknown account, or an admin deactivating themself.
    """
    user = session.get(AdminUser, user_id)
    if user is None:
        raise AccountError("That account no longer exists. Reload the page.")
    if not active and user.id == acting_user_id:
        raise AccountError("You cannot deactivate your own account. Ask another admin to do it.")
    user.active = active
    session.add(user)
    if not active:
        revoke_user_sessions(session, user_id)
    session.flush()
    return user
