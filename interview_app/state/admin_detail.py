"""State of `/admin/interviews/[interview_id]`: candidate, template, status, timeline; revoke and new link;
the candidate's adjustment request (admins grant or decline it)."""

from __future__ import annotations

import uuid

import reflex as rx
from sqlmodel import Session

from interview_app.db import session_scope
from interview_app.models import Interview
from interview_app.services.accommodations import (
    EXTRA_TIME_CHOICES,
    KIND_WORDS,
    AccommodationError,
    accommodation_for,
    decide_accommodation,
)
from interview_app.services.email import EmailError
from interview_app.services.interview_list import interview_detail
from interview_app.services.invitations import InvitationError, email_link, reissue, revoke
from interview_app.services.scorecards import Reviewer
from interview_app.services.sign_in import AdminIdentity
from interview_app.settings import get_settings
from interview_app.state.auth import ADMIN, AdminState, guarded, signed_in_admin

#: The extra-time select's choices (value → label).
EXTRA_TIME_OPTIONS: dict[str, str] = {str(p): f"+{p} %" for p in EXTRA_TIME_CHOICES}
_STATUS_LABELS = {"requested": "Waiting for your answer", "granted": "Granted", "declined": "Declined"}
_POLICY_TEXT = {
    "wait": "The candidate cannot start until the request is granted or declined.",
    "proceed": "The candidate may start before the request is answered.",
}


def _adjustment(session: Session, interview_id: str) -> dict[str, str]:
    """The interview's adjustment request as the card shows it ({} when there is none)."""
    try:
        interview = session.get(Interview, uuid.UUID(interview_id))
    except (ValueError, TypeError):
        return {}
    if interview is None:
        return {}
    view = accommodation_for(session, interview)
    if not view.status:
        return {}
    return {
        "status": view.status,
        "status_label": _STATUS_LABELS.get(view.status, view.status),
        "kinds": ",".join(view.kinds),
        "kinds_text": "; ".join(KIND_WORDS[k][:1].upper() + KIND_WORDS[k][1:] for k in view.kinds if k in KIND_WORDS),
        "note": view.note,
        "extra_time_percent": str(view.extra_time_percent),
        "policy_text": _POLICY_TEXT.get(view.policy, ""),
        "decided_by": view.decided_by,
        "decided_at": view.decided_at,
    }


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
    #: The candidate's adjustment request ({} when none): status, status_label, kinds, kinds_text, note, …
    adjustment: dict[str, str] = {}
    #: The extra time an admin is about to grant (a key of EXTRA_TIME_OPTIONS).
    adjustment_extra_time: str = "50"
    adjustment_message: str = ""
    adjustment_error: str = ""

    @rx.var
    def has_adjustment(self) -> bool:
        return self.adjustment.get("status", "") != ""

    @rx.var
    def adjustment_open(self) -> bool:
        """Not answered yet: admins see the extra-time select and Grant / Decline."""
        return self.adjustment.get("status", "") == "requested"

    @rx.var
    def adjustment_asks_extra_time(self) -> bool:
        return "extra_time" in self.adjustment.get("kinds", "").split(",")

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
    @guarded()
    def toggle_messages(self):  # noqa: ANN201
        self.show_messages = not self.show_messages
        return None

    def _interview_id(self) -> str:
        return self.shown_id

    def _reload(self) -> None:
        with session_scope() as session:
            viewer = signed_in_admin()  # every caller is @guarded
            detail = interview_detail(session, self._interview_id(), viewer=Reviewer(viewer.id, viewer.email, viewer.role))
            adjustment = _adjustment(session, self._interview_id()) if detail is not None else {}
        self.loaded = True
        self.found = detail is not None
        self.adjustment = adjustment
        if detail is None:
            self.detail, self.events = {}, []
            return
        self.events = detail.events
        self.detail = {k: str(v) for k, v in detail.__dict__.items() if k != "events"}

    @rx.event
    @guarded()
    def load(self, path: str = ""):  # noqa: ANN201
        """``path`` is the browser's location when the page mounts (the router may still hold the previous page)."""
        path = path or self.router.url.path
        self.shown_id = path.rstrip("/").rsplit("/", 1)[-1][:64]
        self.new_link = self.action_message = ""
        self.adjustment_message = self.adjustment_error = ""
        self.adjustment_extra_time = "50"
        self.show_messages = False
        self.loaded = False
        self._reload()
        return None

    @rx.event
    @guarded(refused=lambda _state: None)  # silent: a session that ended turns the page back into the sign-in form
    def poll(self, _tick: str = ""):  # noqa: ANN201
        if not self.found:
            return None
        self._reload()
        return None

    @rx.event
    @guarded(ADMIN)
    def revoke(self) -> None:
        admin = signed_in_admin()
        try:
            with session_scope() as session:
                revoke(session, self._interview_id(), actor=admin.email)
        except InvitationError as err:
            self._notify(str(err), "error")
            return
        self._reload()
        self.new_link = ""
        self._notify("Invitation revoked; the link no longer works.")

    @rx.event
    @guarded(ADMIN)
    def reissue(self) -> None:
        """A new link (the old one dies), emailed to the candidate and shown here once."""
        admin = signed_in_admin()
        settings = get_settings()
        try:
            with session_scope() as session:
                issued = reissue(session, settings, self._interview_id(), actor=admin.email)
        except InvitationError as err:
            self._notify(str(err), "error")
            return
        self.new_link = issued.link
        try:
            with session_scope() as session:
                self.action_message = email_link(session, settings, issued, actor=admin.email) + " The old link no longer works."
        except EmailError as err:
            self.action_message = f"{err} The old link no longer works."
        self._reload()

    @rx.event
    @guarded(ADMIN)
    def set_adjustment_extra_time(self, value: str) -> None:
        """The extra-time select (+25 %, +50 %, +100 %); anything else is ignored."""
        if value in EXTRA_TIME_OPTIONS:
            self.adjustment_extra_time = value

    @rx.event
    @guarded(ADMIN)
    def grant_adjustment(self) -> None:
        """Grant the candidate's request (with the chosen extra time when they asked for it); emails them."""
        self._decide(signed_in_admin(), grant=True)

    @rx.event
    @guarded(ADMIN)
    def decline_adjustment(self) -> None:
        """Decline the candidate's request; emails them."""
        self._decide(signed_in_admin(), grant=False)

    def _decide(self, admin: AdminIdentity, *, grant: bool) -> None:
        """The signed-in admin's decision (the caller checked the session)."""
        asks_extra_time = "extra_time" in self.adjustment.get("kinds", "").split(",")
        percent = int(self.adjustment_extra_time) if grant and asks_extra_time and self.adjustment_extra_time in EXTRA_TIME_OPTIONS else 0
        try:
            with session_scope() as session:
                view = decide_accommodation(
                    session, self._interview_id(), grant=grant, extra_time_percent=percent, admin_email=admin.email, settings=get_settings()
                )
        except AccommodationError as err:
            self.adjustment_message, self.adjustment_error = "", err.message
            self._reload()
            return None
        self.adjustment_message, self.adjustment_error = view.message, ""
        self._reload()
        return None
