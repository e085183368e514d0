"""Admin pages: interview list (home), detail, overview, calibration, templates, candidates, admin accounts, webhooks."""

from interview_app.pages.admin import calibration, candidates, detail, interviews, overview, templates, users, webhooks  # noqa: F401
