"""`/admin/users`: admin and reviewer accounts."""

from __future__ import annotations

import reflex as rx

from interview_app.components.admin import USERS, admin_page
from interview_app.state.admin_users import AdminUsersState
from interview_app.state.auth import AdminState

S = AdminUsersState


def _row(u: rx.Var) -> rx.Component:
    active = u["active"] != ""
    return rx.table.row(
        rx.table.cell(rx.text(u["email"], weight="medium"), rx.text(u["name"], size="1", color_scheme="gray")),
        rx.table.cell(rx.badge(u["role"], variant="soft")),
        rx.table.cell(rx.cond(active, rx.badge("active", color_scheme="green"), rx.badge("deactivated", color_scheme="gray"))),
        rx.table.cell(u["last_login"]),
        rx.table.cell(
            rx.cond(
                u["email"] == AdminState.admin_email,
                rx.text("you", size="1", color_scheme="gray"),
                rx.cond(
                    active,
                    rx.button("Deactivate", size="1", variant="soft", color_scheme="red", on_click=S.set_user_active(u["id"], False)),
                    rx.button("Reactivate", size="1", variant="soft", on_click=S.set_user_active(u["id"], True)),
                ),
            )
        ),
        data_admin_email=u["email"],
    )


def _content() -> rx.Component:
    return rx.vstack(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Account"),
                    rx.table.column_header_cell("Role"),
                    rx.table.column_header_cell("Status"),
                    rx.table.column_header_cell("Last sign-in"),
                    rx.table.column_header_cell(""),
                )
            ),
            rx.table.body(rx.foreach(S.users, _row)),
            variant="surface",
            width="100%",
            id="admin-table",
        ),
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading("Add an account", size="4"),
                    rx.text(
                        "Admins manage templates, candidates, invitations and accounts. Reviewers read interviews only. "
                        "Share the password with them privately.",
                        size="2",
                        color_scheme="gray",
                    ),
                    rx.hstack(
                        rx.input(name="email", type="email", placeholder="colleague@example.com", required=True, width="260px"),
                        rx.input(name="name", placeholder="Name (optional)", width="200px"),
                        rx.input(
                            name="password", type="password", placeholder="Initial password (10+ characters)", required=True, width="260px"
                        ),
                        rx.select(["admin", "reviewer"], value=S.form_role, on_change=S.set_form_role),
                        rx.button("Add", type="submit"),
                        spacing="2",
                        wrap="wrap",
                    ),
                    rx.cond(S.form_error != "", rx.callout(S.form_error, icon="triangle_alert", color_scheme="red", size="1")),
                    spacing="3",
                ),
                on_submit=S.create,
                reset_on_submit=False,
            ),
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


@rx.page(route=USERS, title="Admins · Admin", on_load=AdminState.check_session)
def users_page() -> rx.Component:
    return admin_page("Admin accounts", _content(), on_ready=S.load, admin_only=True)
