"""Building blocks of the admin pages: the guarded page frame (with its notices), sign-in form, navigation, status badges."""

from __future__ import annotations

import reflex as rx
from reflex.event import EventSpec

from interview_app import routes
from interview_app.components.layout import brand
from interview_app.components.notice import notice_toaster
from interview_app.state.auth import AdminState

TEMPLATES = "/admin/templates"
CANDIDATES = "/admin/candidates"
OVERVIEW = "/admin/overview"
USERS = "/admin/users"
WEBHOOKS = routes.ADMIN_WEBHOOKS
DETAIL = "/admin/interviews/[interview_id]"

STATUS_COLORS = {
    "invited": "blue",
    "in_progress": "amber",
    "processing": "violet",
    "completed": "green",
    "expired": "gray",
    "failed": "red",
    "cancelled": "gray",
}


def status_badge(status: rx.Var, **props) -> rx.Component:  # noqa: ANN003
    return rx.badge(
        rx.match(status, ("in_progress", "in progress"), status),
        color_scheme=rx.match(status, *STATUS_COLORS.items(), "gray"),
        variant="soft",
        size="2",
        **props,
    )


def _nav_link(label: str, href: str, admin_only: bool = False) -> rx.Component:
    link = rx.link(label, href=href, size="2", weight="medium", color_scheme="gray", high_contrast=True)
    return rx.cond(AdminState.can_edit, link, rx.fragment()) if admin_only else link


def _header_actions() -> rx.Component:
    """The one navigation every admin page shares; it wraps onto a second line on narrow screens."""
    return rx.cond(
        AdminState.signed_in,
        rx.flex(
            rx.flex(
                _nav_link("Interviews", routes.ADMIN),
                _nav_link("Overview", OVERVIEW),
                _nav_link("Calibration", routes.ADMIN_CALIBRATION),
                _nav_link("Templates", TEMPLATES, admin_only=True),
                _nav_link("Candidates", CANDIDATES, admin_only=True),
                _nav_link("Admins", USERS, admin_only=True),
                _nav_link("Webhooks", WEBHOOKS, admin_only=True),
                gap="6px 16px",
                wrap="wrap",
                align="center",
                id="admin-nav",
            ),
            rx.hstack(
                rx.text(
                    AdminState.admin_email,
                    size="1",
                    color_scheme="gray",
                    id="signed-in-as",
                    display=rx.breakpoints(initial="none", md="block"),
                ),
                rx.badge(AdminState.admin_role, variant="outline", size="1"),
                _sign_out_menu(),
                spacing="3",
                align="center",
            ),
            spacing="4",
            align="center",
            wrap="wrap",
            row_gap="8px",
        ),
        rx.fragment(),
    )


def _sign_out_form(scope: str, form_id: str) -> rx.Component:
    """A hidden HTTP form post to the sign-out route; a button elsewhere submits it (``form=form_id``)."""
    return rx.el.form(
        rx.el.input(type="hidden", name="scope", value=scope), action=routes.SIGN_OUT, method="post", on_submit=None, id=form_id
    )


def _sign_out_menu() -> rx.Component:
    """Sign out of this browser, or of every browser this admin is signed in on (HTTP form posts)."""
    forms = rx.fragment(_sign_out_form("this", "sign-out-form"), _sign_out_form("everywhere", "sign-out-everywhere-form"))
    return rx.hstack(
        forms,
        rx.button("Sign out", type="submit", form="sign-out-form", variant="soft", size="1", id="sign-out"),
        rx.button(
            "Sign out everywhere",
            type="submit",
            form="sign-out-everywhere-form",
            variant="ghost",
            color_scheme="gray",
            size="1",
            id="sign-out-everywhere",
            title="End this account's sessions on every device",
        ),
        spacing="2",
        align="center",
    )


def login_form() -> rx.Component:
    """A plain HTML form post to ``/auth/sign-in``: the answer sets the HttpOnly session cookie and reloads the page."""
    return rx.center(
        rx.card(
            rx.el.form(
                rx.vstack(
                    rx.heading("Sign in", size="5"),
                    rx.text("Recruiters and reviewers sign in with the account an admin created for them.", size="2", color_scheme="gray"),
                    rx.cond(
                        AdminState.access_message != "",
                        rx.callout(
                            AdminState.access_message, icon="info", color_scheme="amber", size="1", width="100%", id="access-message"
                        ),
                    ),
                    rx.text("Email", size="2", weight="medium"),
                    rx.input(
                        name="email",
                        type="email",
                        placeholder="you@example.com",
                        default_value=AdminState.login_email,
                        key=AdminState.login_email,  # remount with the remembered email once the state arrives
                        required=True,
                        max_length=320,
                        width="100%",
                        id="login-email",
                        auto_complete="username",
                    ),
                    rx.text("Password", size="2", weight="medium"),
                    rx.input(
                        name="password",
                        type="password",
                        required=True,
                        max_length=1024,
                        width="100%",
                        id="login-password",
                        auto_complete="current-password",
                    ),
                    rx.el.input(type="hidden", name="next", value=AdminState.sign_in_next),
                    rx.cond(
                        AdminState.login_error != "",
                        rx.callout(
                            AdminState.login_error, icon="triangle_alert", color_scheme="red", size="1", width="100%", id="login-error"
                        ),
                    ),
                    rx.button("Sign in", type="submit", width="100%", id="login-submit"),
                    spacing="3",
                    width="100%",
                ),
                action=routes.SIGN_IN,
                method="post",
                on_submit=None,
            ),
            size="4",
            width="100%",
            max_width="420px",
        ),
        padding_top="6vh",
    )


def admin_page(
    title: str, content: rx.Component, *, on_ready: rx.EventHandler | EventSpec | None = None, admin_only: bool = False
) -> rx.Component:
    """The frame of every admin page: sign-in form until a session is valid, then ``content``.

    ``on_ready`` (the page's guarded load handler) runs when the content mounts, that is
    right after the session check or right after signing in.
    """
    body = rx.box(content, on_mount=on_ready) if on_ready is not None else content
    if admin_only:
        body = rx.cond(
            AdminState.can_edit,
            body,
            rx.callout(
                "This page is for admins. Your role (reviewer) can read interviews: open the interview list.",
                icon="lock",
                color_scheme="amber",
                id="forbidden",
            ),
        )
    return rx.box(
        rx.flex(
            rx.link(
                rx.hstack(brand(), rx.badge("Admin", variant="soft"), align="center", spacing="2"),
                href=routes.ADMIN,
                underline="none",
                color="inherit",
            ),
            rx.spacer(),
            _header_actions(),
            padding=rx.breakpoints(initial="10px 16px", sm="12px 32px"),
            align="center",
            wrap="wrap",
            gap="8px 16px",
            border_bottom=f"1px solid {rx.color('gray', 5)}",
            background=rx.color("gray", 1),
            width="100%",
            position="sticky",
            top="0",
            z_index="10",
        ),
        rx.box(
            # Signed out, the sign-in form is the page: a heading naming the hidden page would mislead.
            rx.cond(AdminState.signed_in, rx.heading(title, size=rx.breakpoints(initial="6", sm="7"), margin_bottom="20px")),
            rx.cond(
                AdminState.auth_checked,
                rx.cond(AdminState.signed_in, body, login_form()),
                rx.center(rx.spinner(size="3"), padding="32px"),
            ),
            padding=rx.breakpoints(initial="20px 16px 40px", sm="28px 32px 48px"),
            max_width="1240px",
            margin_x="auto",
        ),
        notice_toaster(),  # handlers' "Saved …" and refusals, as toasts (state/notice.py)
        min_height="100vh",
        background=rx.color("gray", 2),
    )


def field(label: str, control: rx.Component, hint: str = "") -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        control,
        rx.cond(hint != "", rx.text(hint, size="1", color_scheme="gray")) if hint else rx.fragment(),
        spacing="1",
        width="100%",
    )
