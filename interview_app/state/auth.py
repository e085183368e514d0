"""The base of every admin State: who is logged in, and the guard every admin handler calls.

A redirect alone is no protection (event handlers can be called directly over the
websocket), so each admin event handler starts with ``self.guard(...)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from interview_app.db import session_scope
from interview_app.services.auth import ADMIN_SESSION_COOKIE, user_for_session


@dataclass(frozen=True)
class AdminIdentity:
    id: int
    email: str
    role: str


class AdminState(rx.State):
    """Parent of all admin states; holds the session cookie."""

    session_token: str = rx.Cookie("", name=ADMIN_SESSION_COOKIE, path="/", same_site="strict", max_age=8 * 3600)

    def current_admin(self) -> AdminIdentity | None:
        """The logged-in admin, checked against the database on every call."""
        if not self.session_token:
            return None
        with session_scope() as session:
            user = user_for_session(session, self.session_token)
            return AdminIdentity(user.id, user.email, user.role) if user else None  # type: ignore[arg-type]

    def guard(self, *roles: str) -> AdminIdentity | None:
        """The admin if logged in with one of ``roles`` (any role when none given), else None."""
        admin = self.current_admin()
        if admin is None or (roles and admin.role not in roles):
            return None
        return admin
