"""Route constants and link builders (one place for every URL the app hands out)."""

from __future__ import annotations

HOME = "/"
ADMIN = "/admin"
#: Outbound webhooks (signed events to an ATS): endpoints and the delivery log; admins only.
ADMIN_WEBHOOKS = "/admin/webhooks"
#: AI scores against the human reviewers' per criterion and rubric version; admins and reviewers.
ADMIN_CALIBRATION = "/admin/calibration"
CANDIDATE = "/interview/[token]"
#: Admin sign-in and sign-out: HTTP form posts (interview_app/api/auth.py), not websocket events.
SIGN_IN = "/auth/sign-in"
SIGN_OUT = "/auth/sign-out"


def candidate_link(app_url: str, raw_token: str) -> str:
    return f"{app_url.rstrip('/')}/interview/{raw_token}"


def interview_detail(interview_id: str) -> str:
    return f"/admin/interviews/{interview_id}"


def interview_review_url(app_url: str, interview_id: str) -> str:
    """The absolute link to an interview's admin detail page (sent in webhook payloads)."""
    return f"{app_url.rstrip('/')}{interview_detail(interview_id)}"
