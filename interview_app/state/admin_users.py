"""State of `/admin/users`: list admins, add an admin or reviewer, deactivate and reactivate."""

from __future__ import annotations

import reflex as rx

from interview_app.db import session_scope
from interview_app.services.admin_users import add_admin, list_admins, set_active
from interview_app.services.auth import AccountError
from interview_app.state.auth import ADMIN, AdminState, guarded, signed_in_admin


class AdminUsersState(AdminState):
    users: list[dict[str, str]] = []
    form_error: str = ""
    form_role: str = ADMIN

    def _reload(self) -> None:
        with session_scope() as session:
            self.users = [
                {
                    "id": str(u.id),
                    "email": u.email,
                    "name": u.name,
                    "role": u.role,
                    "active": "yes" if u.active else "",
                    "last_login": u.last_login,
                }
                for u in list_admins(session)
            ]

    @rx.event
    @guarded(ADMIN)
    def load(self) -> None:
        self._reload()

    @rx.event
    @guarded(ADMIN)
    def set_form_role(self, value: str) -> None:
        self.form_role = value

    @rx.event
    @guarded(ADMIN)
    def create(self, form_data: dict) -> None:
        email = str(form_data.get("email", ""))
        try:
            with session_scope() as session:
                add_admin(session, email, str(form_data.get("password", "")), self.form_role, str(form_data.get("name", "")))
        except AccountError as err:
            self.form_error = str(err)
            return
        self.form_error = ""
        self._reload()
        self._notify(f"Created {self.form_role} {email.strip().lower()}.")

    @rx.event
    @guarded(ADMIN)
    def set_user_active(self, user_id: str, active: bool) -> None:
        acting = signed_in_admin()
        try:
            with session_scope() as session:
                set_active(session, int(user_id), active, acting_user_id=acting.id)
        except (AccountError, ValueError) as err:
            self._notify(str(err) if isinstance(err, AccountError) else "Reload the page and try again.", "error")
            return
        self._reload()
        self._notify("Account reactivated." if active else "Account deactivated; its sessions have ended.")
