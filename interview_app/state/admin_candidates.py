"""State of `/admin/candidates`: add, edit, delete, CSV import, and inviting a candidate (link shown once)."""

from __future__ import annotations

import reflex as rx

from interview_app.db import session_scope
from interview_app.services.candidates import (
    CandidateError,
    create_candidate,
    delete_candidate,
    import_csv,
    list_candidates,
    update_candidate,
)
from interview_app.services.email import EmailError
from interview_app.services.invitations import InvitationError, IssuedLink, email_link, invite
from interview_app.services.templates import list_templates
from interview_app.settings import get_settings
from interview_app.state.auth import ADMIN, AdminState, guarded, signed_in_admin

MAX_CSV_BYTES = 2_000_000


class CandidatesState(AdminState):
    candidates: list[dict[str, str]] = []
    search: str = ""
    # add / edit dialog
    form_open: bool = False
    editing_id: int = 0
    form_name: str = ""
    form_email: str = ""
    form_ref: str = ""
    form_error: str = ""
    # CSV import
    import_summary: str = ""
    import_errors: list[dict[str, str]] = []
    # invitation dialog
    invite_open: bool = False
    invite_candidate_id: int = 0
    invite_candidate_name: str = ""
    invite_template_id: str = ""
    template_options: list[dict[str, str]] = []
    invite_error: str = ""
    invite_link: str = ""
    invite_email_result: str = ""
    _issued: IssuedLink | None = None  # backend only: the one copy of the fresh link for “send by email”

    def _reload(self) -> None:
        with session_scope() as session:
            rows = list_candidates(session, self.search)
            self.candidates = [
                {
                    "id": str(c.id),
                    "name": c.name,
                    "email": c.email,
                    "ref": c.external_ref,
                    "interviews": str(n),
                    "created": c.created_at.strftime("%Y-%m-%d"),
                }
                for c, n in rows
            ]
            self.template_options = [{"id": str(t.id), "title": t.title} for t in list_templates(session, include_archived=False)]

    @rx.event
    @guarded(ADMIN)
    def load(self):  # noqa: ANN201
        self._reload()
        return None

    @rx.event
    @guarded(ADMIN)
    def set_search(self, value: str) -> None:
        self.search = value[:200]

    @rx.event
    @guarded(ADMIN)
    def apply_search(self, form_data: dict):  # noqa: ANN201
        self.search = str(form_data.get("search", ""))[:200]
        return self.load()  # type: ignore[operator]  # chains the handler (an event spec)

    # --- add / edit ---------------------------------------------------------

    @rx.event
    @guarded(ADMIN)
    def open_new(self):  # noqa: ANN201
        self.editing_id, self.form_name, self.form_email, self.form_ref, self.form_error = 0, "", "", "", ""
        self.form_open = True
        return None

    @rx.event
    @guarded(ADMIN)
    def open_edit(self, candidate_id: str):  # noqa: ANN201
        row = next((c for c in self.candidates if c["id"] == candidate_id), None)
        if row is None:
            return None
        self.editing_id, self.form_name, self.form_email, self.form_ref, self.form_error = (
            int(row["id"]),
            row["name"],
            row["email"],
            row["ref"],
            "",
        )
        self.form_open = True
        return None

    @rx.event
    @guarded(ADMIN)
    def set_form_open(self, value: bool) -> None:
        self.form_open = value

    @rx.event
    @guarded(ADMIN)
    def save(self, form_data: dict) -> None:
        name, email, ref = (str(form_data.get(k, "")) for k in ("name", "email", "external_ref"))
        self.form_name, self.form_email, self.form_ref = name, email, ref
        try:
            with session_scope() as session:
                if self.editing_id:
                    update_candidate(session, self.editing_id, name, email, ref)
                else:
                    create_candidate(session, name, email, ref)
        except CandidateError as err:
            self.form_error = str(err)
            return
        self.form_open = False
        self._reload()
        self._notify(f"Saved {name.strip()}.")

    @rx.event
    @guarded(ADMIN)
    def delete(self, candidate_id: str) -> None:
        try:
            with session_scope() as session:
                delete_candidate(session, int(candidate_id))
        except (CandidateError, ValueError) as err:
            self._notify(str(err) if isinstance(err, CandidateError) else "Reload the page and try again.", "error")
            return
        self._reload()
        self._notify("Candidate deleted.")

    # --- CSV import -----------------------------------------------------------

    @rx.event
    @guarded(ADMIN)
    async def import_file(self, files: list[rx.UploadFile]):  # noqa: ANN201
        if not files:
            self.import_summary = "Choose a CSV file first."
            return None
        data = await files[0].read(MAX_CSV_BYTES + 1)
        if len(data) > MAX_CSV_BYTES:
            self.import_summary, self.import_errors = "The file is larger than 2 MB; split it and upload the parts.", []
            return None
        with session_scope() as session:
            report = import_csv(session, data)
        self.import_summary = f"Imported {report.imported} candidate{'s' if report.imported != 1 else ''}" + (
            f"; {len(report.errors)} row{'s' if len(report.errors) != 1 else ''} skipped (below)." if report.errors else "."
        )
        self.import_errors = [{"line": str(line), "reason": reason} for line, reason in report.errors]
        self._reload()
        return rx.clear_selected_files("candidates-csv")

    # --- invitations --------------------------------------------------------------

    @rx.event
    @guarded(ADMIN)
    def open_invite(self, candidate_id: str):  # noqa: ANN201
        row = next((c for c in self.candidates if c["id"] == candidate_id), None)
        if row is None:
            return None
        self.invite_candidate_id, self.invite_candidate_name = int(row["id"]), row["name"]
        self.invite_template_id = self.template_options[0]["id"] if self.template_options else ""
        self.invite_error = self.invite_link = self.invite_email_result = ""
        self._issued = None
        self.invite_open = True
        return None

    @rx.event
    @guarded(ADMIN)
    def set_invite_open(self, value: bool) -> None:
        self.invite_open = value
        if not value:  # the link is shown once: closing the dialog forgets it
            self.invite_link, self._issued = "", None

    @rx.event
    @guarded(ADMIN)
    def set_invite_template(self, value: str) -> None:
        self.invite_template_id = value

    @rx.event
    @guarded(ADMIN)
    def create_invite(self):  # noqa: ANN201
        admin = signed_in_admin()
        if not self.invite_template_id.isdigit():
            self.invite_error = "Choose an interview template (create one under Templates first)."
            return None
        try:
            with session_scope() as session:
                issued = invite(session, get_settings(), self.invite_candidate_id, int(self.invite_template_id), actor=admin.email)
        except InvitationError as err:
            self.invite_error = str(err)
            return None
        self._issued = issued
        self.invite_link, self.invite_error = issued.link, ""
        self._reload()
        return None

    @rx.event
    @guarded(ADMIN)
    def email_invite(self):  # noqa: ANN201
        admin = signed_in_admin()
        if self._issued is None:
            self.invite_email_result = "The link is no longer here; use “New link” on the interview page to send a fresh one."
            return None
        try:
            with session_scope() as session:
                self.invite_email_result = email_link(session, get_settings(), self._issued, actor=admin.email)
        except EmailError as err:
            self.invite_email_result = str(err)
        return None
