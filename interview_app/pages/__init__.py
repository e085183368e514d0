"""Page modules; importing this package registers every page with Reflex."""

from interview_app.pages import admin, candidate, landing, review_preview  # noqa: F401
