"""`/admin/candidates`: add, edit, delete, CSV import, invite."""

from __future__ import annotations

import reflex as rx

from interview_app.components.admin import CANDIDATES, admin_page
from interview_app.state.admin_candidates import MAX_CSV_BYTES, CandidatesState
from interview_app.state.auth import AdminState

S = CandidatesState
UPLOAD_ID = "candidates-csv"


def _form_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.editing_id == 0, "Add a candidate", "Edit candidate")),
            rx.form(
                rx.vstack(
                    rx.text("Name", size="2", weight="medium"),
                    rx.input(name="name", default_value=S.form_name, required=True, width="100%", id="candidate-name"),
                    rx.text("Email", size="2", weight="medium"),
                    rx.input(name="email", type="email", default_value=S.form_email, required=True, width="100%", id="candidate-email"),
                    rx.text("External reference (optional, e.g. your ATS id)", size="2", weight="medium"),
                    rx.input(name="external_ref", default_value=S.form_ref, width="100%", id="candidate-ref"),
                    rx.cond(
                        S.form_error != "",
                        rx.callout(S.form_error, icon="triangle_alert", color_scheme="red", size="1", id="candidate-error"),
                    ),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Save", type="submit", id="candidate-save"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=S.save,
                reset_on_submit=False,
            ),
            max_width="480px",
        ),
        open=S.form_open,
        on_open_change=S.set_form_open,
    )


def _invite_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Invite ", S.invite_candidate_name),
            rx.cond(
                S.invite_link == "",
                rx.vstack(
                    rx.text("Interview template", size="2", weight="medium"),
                    rx.select.root(
                        rx.select.trigger(placeholder="Choose a template", width="100%", id="invite-template"),
                        rx.select.content(rx.foreach(S.template_options, lambda t: rx.select.item(t["title"], value=t["id"]))),
                        value=S.invite_template_id,
                        on_change=S.set_invite_template,
                    ),
                    rx.cond(S.invite_error != "", rx.callout(S.invite_error, icon="triangle_alert", color_scheme="red", size="1")),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                        rx.button("Create invitation", on_click=S.create_invite, id="invite-create"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                rx.vstack(
                    rx.callout(
                        "This link is shown only once: copy it or email it now. Only a hash of it is stored.",
                        icon="key-round",
                        size="1",
                    ),
                    rx.hstack(
                        rx.code(S.invite_link, id="invite-link", size="2", style={"word_break": "break-all"}),
                        rx.icon_button(
                            rx.icon("copy", size=14),
                            on_click=[rx.set_clipboard(S.invite_link), rx.toast("Link copied.")],
                            variant="soft",
                            id="invite-copy",
                        ),
                        align="center",
                        width="100%",
                    ),
                    rx.cond(S.invite_email_result != "", rx.text(S.invite_email_result, size="2", id="invite-email-result")),
                    rx.hstack(
                        rx.button(rx.icon("mail", size=14), "Send by email", on_click=S.email_invite, variant="soft", id="invite-email"),
                        rx.dialog.close(rx.button("Done", id="invite-done")),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
            ),
            max_width="560px",
        ),
        open=S.invite_open,
        on_open_change=S.set_invite_open,
    )


def _import_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Import from CSV", size="3"),
            rx.text(
                "A header line naming the columns name,email and optionally external_ref; one candidate per line.",
                size="2",
                color_scheme="gray",
            ),
            rx.hstack(
                rx.upload(
                    rx.hstack(rx.icon("upload", size=16), rx.text("Choose or drop a .csv file", size="2"), align="center"),
                    id=UPLOAD_ID,
                    accept={"text/csv": [".csv"], "text/plain": [".csv", ".txt"]},
                    max_files=1,
                    max_size=MAX_CSV_BYTES,  # refused in the browser: larger bodies get a 413 from the server (api/body_limit.py)
                    on_drop_rejected=rx.toast.error("Choose one .csv file of at most 2 MB; split larger files into parts."),
                    border=f"1px dashed {rx.color('gray', 7)}",
                    padding="0.6em 1em",
                    border_radius="8px",
                    cursor="pointer",
                ),
                rx.foreach(rx.selected_files(UPLOAD_ID), lambda f: rx.badge(f, variant="outline")),
                rx.button("Import", on_click=S.import_file(rx.upload_files(upload_id=UPLOAD_ID)), id="csv-import"),
                align="center",
                spacing="3",
                wrap="wrap",
            ),
            rx.cond(S.import_summary != "", rx.text(S.import_summary, weight="medium", size="2", id="import-summary")),
            rx.cond(
                S.import_errors.length() > 0,
                rx.table.root(
                    rx.table.header(rx.table.row(rx.table.column_header_cell("Line"), rx.table.column_header_cell("Why it was skipped"))),
                    rx.table.body(
                        rx.foreach(S.import_errors, lambda e: rx.table.row(rx.table.cell(e["line"]), rx.table.cell(e["reason"])))
                    ),
                    size="1",
                    width="100%",
                    id="import-errors",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _row(c: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(c["name"], weight="medium")),
        rx.table.cell(c["email"]),
        rx.table.cell(rx.text(c["ref"], color_scheme="gray")),
        rx.table.cell(c["interviews"]),
        rx.table.cell(
            rx.hstack(
                rx.button("Invite", size="1", on_click=S.open_invite(c["id"]), class_name="invite-button"),
                rx.button("Edit", size="1", variant="soft", on_click=S.open_edit(c["id"])),
                rx.alert_dialog.root(
                    rx.alert_dialog.trigger(rx.button("Delete", size="1", variant="soft", color_scheme="red")),
                    rx.alert_dialog.content(
                        rx.alert_dialog.title("Delete ", c["name"], "?"),
                        rx.alert_dialog.description("Candidates with interviews are kept as the record and cannot be deleted."),
                        rx.hstack(
                            rx.alert_dialog.cancel(rx.button("Keep", variant="soft", color_scheme="gray")),
                            rx.alert_dialog.action(rx.button("Delete", color_scheme="red", on_click=S.delete(c["id"]))),
                            justify="end",
                            spacing="3",
                        ),
                    ),
                ),
                spacing="2",
            )
        ),
        data_candidate_email=c["email"],
    )


def _content() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.form(
                rx.hstack(
                    rx.input(name="search", placeholder="Search name or email", value=S.search, on_change=S.set_search, width="240px"),
                    rx.button("Search", type="submit", variant="soft"),
                ),
                on_submit=S.apply_search,
                reset_on_submit=False,
                width="auto",
            ),
            rx.spacer(),
            rx.button(rx.icon("plus", size=14), "Add candidate", on_click=S.open_new, id="add-candidate"),
            width="100%",
            wrap="wrap",
            gap="12px",
        ),
        rx.cond(
            S.candidates.length() > 0,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Name"),
                        rx.table.column_header_cell("Email"),
                        rx.table.column_header_cell("Reference"),
                        rx.table.column_header_cell("Interviews"),
                        rx.table.column_header_cell(""),
                    )
                ),
                rx.table.body(rx.foreach(S.candidates, _row)),
                variant="surface",
                width="100%",
                id="candidate-table",
            ),
            rx.card(rx.text("No candidates yet. Add one, or import a CSV file below.", color_scheme="gray")),
        ),
        _import_card(),
        _form_dialog(),
        _invite_dialog(),
        spacing="4",
        width="100%",
    )


@rx.page(route=CANDIDATES, title="Candidates · Admin", on_load=AdminState.check_session)
def candidates_page() -> rx.Component:
    return admin_page("Candidates", _content(), on_ready=S.load, admin_only=True)
