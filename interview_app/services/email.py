"""Outgoing email: ``EMAIL_BACKEND=log`` writes the message to the app log (default), ``smtp`` sends it."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from interview_app.settings import Settings

log = logging.getLogger("interview_app.email")


class EmailError(Exception):
    """The message could not be handed to the mail server; the text says what to check."""


def send_email(settings: Settings, to: str, subject: str, body: str) -> str:
    """Deliver one plain-text email; returns a short description of what happened."""
    if settings.email_backend != "smtp":
        log.warning("EMAIL (EMAIL_BACKEND=log, not sent) to=%s subject=%s\n%s", to, subject, body)
        return f"Email to {to} written to the app log (EMAIL_BACKEND=log)."
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as err:
        log.error("sending email to %s failed: %s", to, err)
        raise EmailError(
            f"The mail server {settings.smtp_host}:{settings.smtp_port} refused or did not answer ({err.__class__.__name__}). "
            "Check the SMTP_* settings, or copy the link and send it yourself."
        ) from None
    return f"Email sent to {to}."


def invitation_email(
    *, candidate_name: str, role_title: str, org_name: str, link: str, expires: str, support_email: str
) -> tuple[str, str]:
    """Subject and body of the invitation a candidate receives."""
    subject = f"Your interview for {role_title} at {org_name}"
    body = (
        f"Hello {candidate_name},\n\n"
        f"{org_name} invites you to an interview for the role of {role_title}. "
        "It is conducted by an AI interviewer in your browser; you need a microphone and a quiet place.\n\n"
        f"Start when you are ready (the link works until {expires}):\n{link}\n\n"
        f"Questions? Write to {support_email}.\n"
    )
    return subject, body
