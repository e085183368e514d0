"""State of `/admin/interviews/[interview_id]`: candidate, template, status, timeline; revoke and new link."""

from __future__ import annotations

import reflex as rx

from interview_app.db import session_scope
from interview_app.services.email import EmailError
from interview_app.services.interview_list import interview_detail
from interview_app.services.invitations import InvitationError, email_link, reissue, revoke
from interview_app.settings import get_settings
from interview_app.state.auth import ADMIN, AdminState

#: ``InterviewEvent.kind`` of one text-interview chat message, as the detail service names it.
MESSAGE_KIND = "text message"


class InterviewDetailState(AdminState):
    found: bool = False
    loaded: bool = False
    detail: dict[str, str] = {}
    events: list[dict[str, str]] = []
    new_link: str = ""
    action_message: str = ""
    shown_id: str = ""
    show_messages: bool = False

    @rx.var
    def can_revoke(self) -> bool:
        return self.detail.get("status", "") in ("invited", "in_progress", "processing")

    @rx.var
    def can_reissue(self) -> bool:
        return self.detail.get("status", "") == "invited"

    @rx.var
    def message_count(self) -> int:
        """Chat messages of a text interview: each is an event, and the transcript shows them all."""
        return sum(1 for e in self.events if e.get("kind") == MESSAGE_KIND)

    @rx.var
    def messages_label(self) -> str:
        """``1 chat message`` / ``3 chat messages``."""
        n = self.message_count
        return f"{n} chat message" if n == 1 else f"{n} chat messages"

    @rx.var
    def messages_hidden_note(self) -> str:
        verb = "is" if self.message_count == 1 else "are"
        return f"{self.messages_label} of the text interview {verb} hidden here; the transcript below shows the conversation."

    @rx.var
    def timeline(self) -> list[dict[str, str]]:
        """The events shown: chat messages only on request, so status changes stay easy to find."""
        if self.show_messages:
            return self.events
        return [e for e in self.events if e.get("kind") != MESSAGE_KIND]

    @rx.event
    def toggle_messages(self):  # noqa: ANN201
        if self._guard() is None:
            return self._refuse()
        self.show_messages = not self.show_messages
        return None

    def _interview_id(self) -> str:
        return self.shown_id

    def _reload(self) -> None:
        with session_scope() as session:
            detail = interview_detail(session, self._interview_id())
        self.loaded = True
        self.found = detail is not None
        if detail is None:
            self.detail, self.events = {}, []
            return
        self.events = detail.events
        self.detail = {k: str(v) for k, v in detail.__dict__.items() if k != "events"}

    @rx.event
    def load(self, path: str = ""):  # noqa: ANN201
        """``path`` is the browser's location when the page mounts (the router may still hold the previous page)."""
        if self._guard() is None:
            return self._refuse()
        path = path or self.router.url.path
        self.shown_id = path.rstrip("/").rsplit("/", 1)[-1][:64]
        self.new_link = self.action_message = ""
        self.show_messages = False
        self.loaded = False
        self._reload()
        return None

    @rx.event
    def poll(self, _tick: str = ""):  # noqa: ANN201
        if self._guard() is None or not self.found:
            return None
        self._reload()
        return None

    @rx.event
    def revoke(self):  # noqa: ANN201
        admin = self._guard(ADMIN)
        if admin is None:
            return self._refuse()
        try:
            with session_scope() as session:
                revoke(session, self._interview_id(), actor=admin.email)
        except InvitationError as err:
            return rx.toast.error(str(err))
        self._reload()
        self.new_link = ""
        return rx.toast.success("Invitation revoked; the link no longer works.")

    @rx.event
    def reissue(self):  # noqa: ANN201
        """A new link (the old one dies), emailed to the candidate and shown here once."""
        admin = self._guard(ADMIN)
        if admin is None:
            return self._refuse()
        settings = get_settings()
        try:
            with session_scope() as session:
                issued = reissue(session, settings, self._interview_id(), actor=admin.email)
        except InvitationError as err:
            return rx.toast.error(str(err))
        self.new_link = issued.link
        try:
            with session_scope() as session:
                self.action_message = email_link(session, settings, issued, actor=admin.email) + " The old link no longer works."
        except EmailError as err:
            self.action_message = f"{err} The old link no longer works."
        self._reload()
        return None
