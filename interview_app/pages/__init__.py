"""Page modules; importing this package registers every page with Reflex."""

from interview_app.pages import admin, candidate, landing  # noqa: F401
