"""The base of every admin State: who is signed in, and the guard every admin handler calls.

A redirect alone is no protection (event handlers can be called directly over the
websocket), so each admin event handler is ``@guarded(...)``: it runs only for a valid session
with the role it names and otherwise does nothing but refuse (:meth:`AdminState._refuse`);
the handler learns who it runs for from :func:`signed_in_admin`. Pages show their
content only while ``AdminState.signed_in`` and load their data through guarded
handlers, so a page opened without a session holds nothing but the sign-in form.

Authority comes from the connection, never from the tab's state: the guard reads the
session from the Cookie header of the websocket the event arrived on (where
``AdminSessionMiddleware`` has replaced the HttpOnly ``admin_session`` cookie by its hash) and
checks it in the database on every event. Nothing secret is stored in the state, so a pickled
state (``.states``, Redis) holds no usable token, and a client that reconnects with a tab's
Reflex token but without the cookie is refused. :class:`AdminAuthorityMiddleware` empties
the admin states before a (re)connecting tab is hydrated unless the connection carries the
session they were loaded under. Signing in and out are HTTP form posts (``api/auth.py``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import reflex as rx
from reflex.event import EventSpec
from reflex.middleware import Middleware

from interview_app.models import AdminRole
from interview_app.services.sign_in import (
    AdminIdentity,
    admin_for_session_hash,
    remembered_email,
    safe_next,
    session_hash_from_cookie_header,
    sign_in_message,
)
from interview_app.state.notice import NoticeState

if TYPE_CHECKING:
    from reflex.app import App
    from reflex.event import Event
    from reflex.state import BaseState, StateUpdate

ADMIN = AdminRole.admin.value
REVIEWER = AdminRole.reviewer.value


#: The admin a @guarded handler runs for (set by the decorator for the handler's duration).
_SIGNED_IN: ContextVar[AdminIdentity | None] = ContextVar("signed_in_admin", default=None)


def signed_in_admin() -> AdminIdentity:
    """The admin the running @guarded handler was allowed for (who to record as the actor).

    Raises:
        RuntimeError: called outside a @guarded handler (a programming error, never a refusal).
    """
    admin = _SIGNED_IN.get()
    if admin is None:
        raise RuntimeError("signed_in_admin() is only available inside a @guarded event handler")
    return admin


def refuse_quietly(_state: Any) -> None:
    """A ``refused=`` for handlers the page calls by itself (polls, player events, typing): no notice."""
    return None


def guarded(*roles: str, refused: Callable[[Any], Any] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Make an admin event handler run only for a valid session with one of ``roles`` (any role if none).

    Put it under ``@rx.event``. A refused call changes nothing and answers ``refused(self)`` — by
    default :meth:`AdminState._refuse` (a notice); pages that show the refusal in the page pass
    their own. Inside the handler :func:`signed_in_admin` tells who it runs for. Background
    handlers check with ``self._guard`` inside ``async with self`` instead (state may only change there).
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        def refusal(self: AdminState) -> Any:
            return refused(self) if refused is not None else self._refuse()

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def guarded_async(self: AdminState, *args: Any, **kwargs: Any) -> Any:
                admin = self._guard(*roles)
                if admin is None:
                    return refusal(self)
                token = _SIGNED_IN.set(admin)
                try:
                    return await fn(self, *args, **kwargs)
                finally:
                    _SIGNED_IN.reset(token)

            return guarded_async

        @functools.wraps(fn)
        def guarded_sync(self: AdminState, *args: Any, **kwargs: Any) -> Any:
            admin = self._guard(*roles)
            if admin is None:
                return refusal(self)
            token = _SIGNED_IN.set(admin)
            try:
                return fn(self, *args, **kwargs)
            finally:
                _SIGNED_IN.reset(token)

        return guarded_sync

    return decorate


class AdminState(NoticeState):
    """Parent of all admin states: the signed-in admin's name and role, the sign-in page's messages and
    (from :class:`NoticeState`) the notices every admin page shows as toasts."""

    admin_email: str = ""
    admin_role: str = ""
    auth_checked: bool = False
    login_error: str = ""
    access_message: str = ""
    #: The email of this browser's last refused sign-in, to fill the form again.
    login_email: str = ""
    #: Hash of the session the admin states' data was loaded under ("" when none); not a credential.
    _loaded_for: str = ""

    @rx.var
    def signed_in(self) -> bool:
        return self.admin_email != ""

    @rx.var
    def can_edit(self) -> bool:
        """Reviewers read interviews; only admins change templates, candidates, invitations and admins."""
        return self.admin_role == ADMIN

    @rx.var
    def sign_in_next(self) -> str:
        """The admin page to come back to after signing in (the form's hidden ``next``)."""
        return safe_next(self.router.url.path)

    def _connection_session(self) -> str:
        """The session hash on the websocket this event came over ("" when it carries no session cookie)."""
        return session_hash_from_cookie_header(self.router.headers.cookie)

    def _current_admin(self) -> AdminIdentity | None:
        """The signed-in admin of this connection, checked against the database on every call."""
        return admin_for_session_hash(self._connection_session())

    def _guard(self, *roles: str) -> AdminIdentity | None:
        """The admin if signed in with one of ``roles`` (any role when none given), else None.

        Also keeps the page's idea of who is signed in true: an expired or
        revoked session turns the page back into the sign-in form.
        """
        admin = self._current_admin()
        if admin is None:
            self.admin_email, self.admin_role = "", ""
            return None
        self.admin_email, self.admin_role = admin.email, admin.role
        self._loaded_for = self._connection_session()
        if roles and admin.role not in roles:
            return None
        return admin

    def _refuse(self) -> None:
        """What a handler does when :meth:`_guard` said no (nothing else happens): a sentence on the page and a notice."""
        if not self.admin_email:
            self.access_message = "Your session has ended. Sign in again."
            self._notify("Your session has ended. Sign in again.", "error")
            return
        self.access_message = "Your role can read interviews but not change this."
        self._notify("Your role (reviewer) can read interviews but not change this. Ask an admin.", "error")

    @rx.event
    def check_session(self) -> EventSpec | None:
        """on_load of every admin page: who is signed in (the connection's cookie, checked in the database).

        After a sign-in form post the page arrives with ``?signin=<reason>`` (and ``wait``): the
        sentence for it is shown and the address cleaned, so a reload does not repeat it.
        """
        self._guard()
        self.auth_checked = True
        self.login_email = remembered_email(self.router.headers.cookie)
        params = self.router.url.query_parameters
        reason = str(params.get("signin", ""))
        if not reason:
            return None
        kind, text = sign_in_message(reason, str(params.get("wait", "")))
        self.login_error, self.access_message = (text, "") if kind == "error" else ("", text)
        return rx.redirect(safe_next(self.router.url.path), replace=True)


def _admin_state_classes() -> list[type[rx.State]]:
    out: list[type[rx.State]] = []
    todo: list[type[rx.State]] = [AdminState]
    while todo:
        cls = todo.pop()
        out.append(cls)
        todo.extend(cls.get_substates())  # type: ignore[arg-type]
    return out


@dataclass
class AdminAuthorityMiddleware(Middleware):
    """Before a tab is hydrated, empty its admin states unless this connection holds their session.

    Hydration sends the whole state to whoever connects with the tab's Reflex token; without
    this, someone holding a closed admin tab's token (it is in the websocket URL and in logs)
    would receive the lists that tab had loaded.
    """

    async def preprocess(self, app: App, state: BaseState, event: Event) -> StateUpdate | None:
        from reflex_base.event.processor.base_state_processor import _hydrate_event_names

        if event.name not in _hydrate_event_names():
            return None
        admin = await state.get_state(AdminState)
        loaded_for = admin._loaded_for
        if not loaded_for:
            return None
        current = session_hash_from_cookie_header(state.router.headers.cookie)
        from starlette.concurrency import run_in_threadpool

        if current == loaded_for and await run_in_threadpool(admin_for_session_hash, current) is not None:
            return None
        for cls in _admin_state_classes():
            await state.get_state(cls)  # load every admin substate so that reset() reaches it
        admin.reset()
        admin._loaded_for = ""
        return None
