"""Admin pages: interview list (home), detail, overview, templates, candidates, admin accounts."""

from interview_app.pages.admin import candidates, detail, interviews, overview, templates, users  # noqa: F401
