"""Admin pages: interview list (home), detail, overview, templates, candidates, admin accounts, webhooks."""

from interview_app.pages.admin import candidates, detail, interviews, overview, templates, users, webhooks  # noqa: F401
