"""State of `/admin/webhooks`: endpoints (add, pause, rotate the secret, delete) and the delivery log.

Admins only, reads included: the page shows a secret after it is made, and endpoint URLs and
payload targets are integration settings, so reviewers get the refusal of every admin-only page.
A secret is kept in this state only until the admin dismisses it (or the page reloads); it is
never in the lists.
"""

from __future__ import annotations

from datetime import datetime

import reflex as rx

from interview_app.db import session_scope
from interview_app.services.webhooks import (
    EVENT_LABELS,
    EVENT_TYPES,
    SENDABLE_AGAIN,
    WebhookError,
    create_endpoint,
    delete_endpoint,
    delivery_log,
    list_endpoints,
    rotate_secret,
    set_active,
)
from interview_app.services.webhooks import send_again as send_delivery_again
from interview_app.state.auth import ADMIN, AdminState, guarded, signed_in_admin


def _when(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else ""


def _endpoint_id(value: str) -> int:
    """The endpoint id a page button sent; WebhookError (a sentence) when it is not one."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise WebhookError("That webhook endpoint no longer exists. Reload the page.")


class WebhooksState(AdminState):
    endpoints: list[dict[str, str]] = []
    deliveries: list[dict[str, str]] = []
    form_url: str = ""
    form_description: str = ""
    #: Event types ticked in the add form.
    form_types: list[str] = [EVENT_TYPES[0], EVENT_TYPES[1]]
    form_error: str = ""
    #: A secret just created or rotated, shown once ("" otherwise), and the URL of its endpoint.
    secret_shown: str = ""
    secret_for: str = ""

    @rx.var
    def event_choices(self) -> list[dict[str, str]]:
        """One checkbox per event type: its name, label and whether it is ticked."""
        return [{"type": t, "label": EVENT_LABELS[t], "checked": "yes" if t in self.form_types else ""} for t in EVENT_TYPES]

    def _reload(self) -> None:
        with session_scope() as session:
            self.endpoints = [
                {
                    "id": str(e.id),
                    "url": e.url,
                    "types": ", ".join(e.event_types),
                    "active": "yes" if e.active else "",
                    "description": e.description,
                    "created": _when(e.created_at),
                }
                for e in list_endpoints(session)
            ]
            self.deliveries = [
                {
                    "id": str(row.delivery.id),
                    "created": _when(row.delivery.created_at),
                    "event_type": row.delivery.event_type,
                    "endpoint_url": row.endpoint_url,
                    "status": row.delivery.status,
                    "attempts": str(row.delivery.attempts),
                    "last_status_code": "" if row.delivery.last_status_code is None else str(row.delivery.last_status_code),
                    "last_error": row.delivery.last_error,
                    "next_attempt": _when(row.delivery.next_attempt_at) if row.delivery.status == "pending" else "",
                    "can_send_again": "yes" if row.delivery.status in SENDABLE_AGAIN else "",
                }
                for row in delivery_log(session)
            ]

    @rx.event
    @guarded(ADMIN)
    def load(self) -> None:
        self._reload()

    @rx.event
    @guarded(ADMIN)
    def refresh(self) -> None:
        """Re-read the endpoints and the delivery log (the worker changes it)."""
        self._reload()

    @rx.event
    @guarded(ADMIN)
    def set_form_url(self, value: str) -> None:
        self.form_url = str(value)[:1000]

    @rx.event
    @guarded(ADMIN)
    def set_form_description(self, value: str) -> None:
        self.form_description = str(value)[:1000]

    @rx.event
    @guarded(ADMIN)
    def set_form_type(self, event_type: str, checked: bool) -> None:
        """Tick or untick an event type in the add form (unknown types are ignored)."""
        if event_type not in EVENT_TYPES:
            return
        chosen = {t for t in self.form_types if t != event_type} | ({event_type} if checked else set())
        self.form_types = [t for t in EVENT_TYPES if t in chosen]

    @rx.event
    @guarded(ADMIN)
    def add_endpoint(self) -> None:
        admin = signed_in_admin()
        try:
            with session_scope() as session:
                endpoint = create_endpoint(
                    session,
                    self.form_url,
                    self.form_types,
                    self.form_description,
                    actor=admin.email,
                )
                secret, url = endpoint.secret, endpoint.url
        except WebhookError as err:
            self.form_error = str(err)
            return
        self.form_error, self.form_url, self.form_description = "", "", ""
        self.secret_shown, self.secret_for = secret, url
        self._reload()
        self._notify("Endpoint added. Copy its secret now: it is shown only once.")

    @rx.event
    @guarded(ADMIN)
    def set_endpoint_active(self, endpoint_id: str, active: bool) -> None:
        admin = signed_in_admin()
        try:
            ep = _endpoint_id(endpoint_id)
            with session_scope() as session:
                set_active(session, ep, bool(active), actor=admin.email)
        except WebhookError as err:
            self._notify(str(err), "error")
            return
        self._reload()
        self._notify("Endpoint active: queued events go out." if active else "Endpoint paused: its events wait until it is active.")

    @rx.event
    @guarded(ADMIN)
    def rotate(self, endpoint_id: str) -> None:
        admin = signed_in_admin()
        try:
            ep = _endpoint_id(endpoint_id)
            with session_scope() as session:
                endpoint = rotate_secret(session, ep, actor=admin.email)
                secret, url = endpoint.secret, endpoint.url
        except WebhookError as err:
            self._notify(str(err), "error")
            return
        self.secret_shown, self.secret_for = secret, url
        self._reload()
        self._notify("New secret made. Deliveries from now on are signed with it: update the receiver.")

    @rx.event
    @guarded(ADMIN)
    def delete(self, endpoint_id: str) -> None:
        admin = signed_in_admin()
        try:
            ep = _endpoint_id(endpoint_id)
            with session_scope() as session:
                deleted = delete_endpoint(session, ep, actor=admin.email)
        except WebhookError as err:
            self._notify(str(err), "error")
            return
        self.secret_shown, self.secret_for = "", ""
        self._reload()
        self._notify(f"Endpoint deleted, with its {deleted} deliver{'y' if deleted == 1 else 'ies'}.")

    @rx.event
    @guarded(ADMIN)
    def send_again(self, delivery_id: str) -> None:
        admin = signed_in_admin()
        try:
            if not (isinstance(delivery_id, str) and delivery_id.isdigit()):
                raise WebhookError("That delivery no longer exists. Reload the page.")
            with session_scope() as session:
                send_delivery_again(session, int(delivery_id), actor=admin.email)
        except WebhookError as err:
            self._notify(str(err), "error")
            return
        self._reload()
        self._notify("Queued again: it goes out within a few seconds.")

    @rx.event
    @guarded(ADMIN)
    def dismiss_secret(self) -> None:
        self.secret_shown, self.secret_for = "", ""
