"""State of the admin home `/admin`: the interview list with filters, search, keyset pages, live status, CSV export."""

from __future__ import annotations

from datetime import UTC, datetime

import reflex as rx

from interview_app.db import session_scope
from interview_app.models import AdminRole, InterviewStatus
from interview_app.services.interview_list import ListFilters, current_statuses, export_csv, list_interviews, parse_day
from interview_app.services.templates import list_templates
from interview_app.state.auth import AdminState, guarded, signed_in_admin

ALL = "all"
STATUS_CHOICES = [ALL, *(s.value for s in InterviewStatus)]


class InterviewListState(AdminState):
    rows: list[dict[str, str]] = []
    template_options: list[dict[str, str]] = []
    status_filter: str = ALL
    template_filter: str = ALL
    date_from: str = ""
    date_to: str = ""
    search: str = ""
    filter_error: str = ""
    next_cursor: str = ""
    # Cursors of the pages before the current one (keyset pagination has no page numbers).
    cursor_stack: list[str] = []
    current_cursor: str = ""
    loading: bool = False
    last_refresh: str = ""

    @rx.var
    def page_number(self) -> int:
        return len(self.cursor_stack) + 1

    def _filters(self) -> ListFilters | None:
        try:
            start, end = parse_day(self.date_from), parse_day(self.date_to)
        except ValueError:
            self.filter_error = "Dates must look like 2026-01-31."
            return None
        if start and end and start > end:
            self.filter_error = "The “from” date is after the “to” date; swap them."
            return None
        self.filter_error = ""
        return ListFilters(
            status="" if self.status_filter == ALL else self.status_filter,
            template_id=int(self.template_filter) if self.template_filter.isdigit() else None,
            created_from=start,
            created_to=end,
            search=self.search[:200],
            blind_viewer_id=self._blind_viewer_id(),
        )

    def _blind_viewer_id(self) -> int | None:
        """The signed-in reviewer's id (blind review applies to them); None for an admin."""
        viewer = signed_in_admin()  # every caller is @guarded
        return viewer.id if viewer.role == AdminRole.reviewer.value else None

    def _load(self) -> None:
        filters = self._filters()
        if filters is None:
            return
        with session_scope() as session:
            page = list_interviews(session, filters, cursor=self.current_cursor)
        self.rows = [row.__dict__.copy() for row in page.rows]
        self.next_cursor = page.next_cursor
        self.last_refresh = datetime.now(UTC).strftime("%H:%M:%S")

    @rx.event
    @guarded()
    def load(self):  # noqa: ANN201
        with session_scope() as session:
            self.template_options = [
                {"id": str(t.id), "title": t.title + (" (archived)" if t.archived else "")} for t in list_templates(session)
            ]
        self.cursor_stack, self.current_cursor = [], ""
        self._load()

    def _refilter(self) -> None:
        """Back to page 1 of the new filters (every caller is @guarded)."""
        self.cursor_stack, self.current_cursor = [], ""
        self._load()

    @rx.event
    @guarded()
    def set_status_filter(self, value: str):  # noqa: ANN201
        self.status_filter = value if value in STATUS_CHOICES else ALL
        return self._refilter()

    @rx.event
    @guarded()
    def set_template_filter(self, value: str):  # noqa: ANN201
        self.template_filter = value
        return self._refilter()

    @rx.event
    @guarded()
    def set_date_from(self, value: str):  # noqa: ANN201
        self.date_from = value
        return self._refilter()

    @rx.event
    @guarded()
    def set_date_to(self, value: str):  # noqa: ANN201
        self.date_to = value
        return self._refilter()

    @rx.event
    @guarded()
    def set_search(self, value: str) -> None:
        self.search = value

    @rx.event
    @guarded()
    def apply_search(self, form_data: dict | None = None):  # noqa: ANN201
        if form_data is not None:
            self.search = str(form_data.get("search", ""))
        return self._refilter()

    @rx.event
    @guarded()
    def clear_filters(self):  # noqa: ANN201
        self.status_filter, self.template_filter, self.date_from, self.date_to, self.search = ALL, ALL, "", "", ""
        return self._refilter()

    @rx.event
    @guarded()
    def next_page(self):  # noqa: ANN201
        if self.next_cursor:
            self.cursor_stack = [*self.cursor_stack, self.current_cursor]
            self.current_cursor = self.next_cursor
            self._load()

    @rx.event
    @guarded()
    def previous_page(self):  # noqa: ANN201
        if self.cursor_stack:
            self.current_cursor = self.cursor_stack[-1]
            self.cursor_stack = self.cursor_stack[:-1]
            self._load()

    @rx.event
    @guarded(refused=lambda _state: None)  # silent: a session that ended turns the page back into the sign-in form
    def poll_statuses(self, _tick: str = ""):  # noqa: ANN201
        """Called every ~2 s while the list is open: refresh the status of the visible rows (one indexed query)."""
        if not self.rows:
            return None
        with session_scope() as session:
            statuses = current_statuses(session, [r["id"] for r in self.rows])
        if any(statuses.get(r["id"], r["status"]) != r["status"] for r in self.rows):
            self.rows = [{**r, "status": statuses.get(r["id"], r["status"])} for r in self.rows]
        self.last_refresh = datetime.now(UTC).strftime("%H:%M:%S")
        return None

    @rx.event
    @guarded()
    def export(self):  # noqa: ANN201
        filters = self._filters()
        if filters is None:
            return None
        with session_scope() as session:
            data = export_csv(session, filters)
        return rx.download(data=data, filename=f"interviews-{datetime.now(UTC):%Y%m%d-%H%M}.csv", mime_type="text/csv")
