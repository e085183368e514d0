"""State of `/admin/overview`: counts by status, interviews per day, completion rate, median duration."""

from __future__ import annotations

import reflex as rx

from interview_app.db import session_scope
from interview_app.services.overview import overview
from interview_app.state.auth import AdminState, guarded

WINDOWS = ["7", "30", "90"]


class OverviewState(AdminState):
    window: str = "30"
    counts: list[dict[str, str]] = []
    per_day: list[dict[str, int | str]] = []
    total: int = 0
    completion_rate: str = "–"
    median_duration: str = "–"

    @rx.event
    @guarded()
    def load(self) -> None:
        with session_scope() as session:
            o = overview(session, days=int(self.window))
        self.counts = [{"status": k, "count": str(v)} for k, v in o.counts.items()]
        self.per_day = o.per_day
        self.total = o.total
        self.completion_rate = f"{o.completion_rate:.0%}" if o.completion_rate is not None else "–"
        self.median_duration = f"{o.median_duration_minutes:.1f} min" if o.median_duration_minutes is not None else "–"

    @rx.event
    @guarded()
    def set_window(self, value: str):  # noqa: ANN201
        self.window = value if value in WINDOWS else "30"
        return OverviewState.load
