"""The base of every admin State: who is logged in, sign-in/out, and the guard every admin handler calls.

A redirect alone is no protection (event handlers can be called directly over the
websocket), so each admin event handler starts with ``self._guard(...)`` and does
nothing but :meth:`AdminState.refuse` when it answers None. Pages show their
content only while ``AdminState.signed_in`` and load their data through guarded
handlers, so a page opened without a session holds nothing but the sign-in form.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from interview_app.db import session_scope
from interview_app.models import AdminRole
from interview_app.services.auth import ADMIN_SESSION_COOKIE, LoginError, LoginPolicy, login, revoke_session, user_for_session
from interview_app.settings import Settings, get_settings

ADMIN = AdminRole.admin.value
REVIEWER = AdminRole.reviewer.value


def session_cookie_secure(settings: Settings) -> bool:
    """Send the admin session cookie over HTTPS only when the app is served over HTTPS (APP_URL)."""
    return settings.app_url.startswith("https://")


@dataclass(frozen=True)
class AdminIdentity:
    id: int
    email: str
    role: str


def guarded(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Make an admin event handler run only for a valid session with one of ``roles`` (any role if none).

    Put it under ``@rx.event``; a refused call changes nothing and answers with a toast.
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def guarded_async(self: AdminState, *args: Any, **kwargs: Any) -> Any:
                if self._guard(*roles) is None:
                    return self._refuse()
                return await fn(self, *args, **kwargs)

            return guarded_async

        @functools.wraps(fn)
        def guarded_sync(self: AdminState, *args: Any, **kwargs: Any) -> Any:
            if self._guard(*roles) is None:
                return self._refuse()
            return fn(self, *args, **kwargs)

        return guarded_sync

    return decorate


class AdminState(rx.State):
    """Parent of all admin states; holds the session cookie and the signed-in admin's name and role."""

    # The cookie lives as long as a session may (the database decides whether it is still valid).
    # The frontend writes it (rx.Cookie), so it cannot be HttpOnly; SameSite=Strict, Secure behind https.
    session_token: str = rx.Cookie(
        "",
        name=ADMIN_SESSION_COOKIE,
        path="/",
        same_site="strict",
        secure=session_cookie_secure(get_settings()),
        max_age=get_settings().admin_session_ttl_minutes * 60,
    )
    admin_email: str = ""
    admin_role: str = ""
    auth_checked: bool = False
    login_error: str = ""
    access_message: str = ""

    @rx.var
    def signed_in(self) -> bool:
        return self.admin_email != ""

    @rx.var
    def can_edit(self) -> bool:
        """Reviewers read interviews; only admins change templates, candidates, invitations and admins."""
        return self.admin_role == ADMIN

    def _current_admin(self) -> AdminIdentity | None:
        """The logged-in admin, checked against the database on every call."""
        if not self.session_token:
            return None
        with session_scope() as session:
            user = user_for_session(session, self.session_token)
            return AdminIdentity(user.id, user.email, user.role) if user else None  # type: ignore[arg-type]

    def _guard(self, *roles: str) -> AdminIdentity | None:
        """The admin if logged in with one of ``roles`` (any role when none given), else None.

        Also keeps the page's idea of who is signed in true: an expired or
        revoked session turns the page back into the sign-in form.
        """
        admin = self._current_admin()
        if admin is None:
            self.admin_email, self.admin_role = "", ""
            return None
        self.admin_email, self.admin_role = admin.email, admin.role
        if roles and admin.role not in roles:
            return None
        return admin

    def _refuse(self) -> EventSpec:
        """What a handler answers when :meth:`_guard` said no (nothing else happens)."""
        if not self.admin_email:
            self.access_message = "Your session has ended. Sign in again."
            return rx.toast.error("Your session has ended. Sign in again.")
        self.access_message = "Your role can read interviews but not change this."
        return rx.toast.error("Your role (reviewer) can read interviews but not change this. Ask an admin.")

    @rx.event
    def check_session(self) -> None:
        """on_load of every admin page: who is signed in (from the cookie, checked in the database)."""
        self._guard()
        self.auth_checked = True

    def _client(self) -> str:
        # The socket's peer address; behind a proxy every client shares it, which only makes throttling stricter.
        return self.router.session.client_ip or "unknown"

    @rx.event
    def sign_in(self, form_data: dict) -> None:
        email = str(form_data.get("email", ""))
        password = str(form_data.get("password", ""))
        with session_scope() as session:
            try:
                user, raw = login(session, email, password, client=self._client(), policy=LoginPolicy.from_settings(get_settings()))
                identity = (user.email, user.role)
            except LoginError as err:
                # Caught inside the scope so that the recorded failure is committed (it feeds the throttle).
                self.login_error = str(err)
                return
        self.session_token = raw
        self.admin_email, self.admin_role = identity
        self.login_error = ""
        self.access_message = ""
        self.auth_checked = True

    @rx.event
    def sign_out(self) -> EventSpec:
        if self.session_token:
            with session_scope() as session:
                revoke_session(session, self.session_token)
        self.reset()
        self.auth_checked = True
        return rx.redirect("/admin")
