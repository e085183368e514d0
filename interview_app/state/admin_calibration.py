"""State of `/admin/calibration`: AI scores against the human reviewers' per criterion, one template version at a time.

Both roles may read it (reviewers write the scorecards it compares with). Nothing changes here, so
every handler is a read behind the guard; the figures come from services/calibration.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import reflex as rx

from interview_app.db import session_scope
from interview_app.services.calibration import (
    DRIFT,
    STEADY,
    TOO_FEW,
    CalibrationGroup,
    CriterionCalibration,
    VersionCalibration,
    calibrate,
    calibration_groups,
    interviews_csv,
    summary_csv,
    version_label,
)
from interview_app.state.auth import AdminState, guarded

#: The version selector's value for interviews from before versions (a select item needs a non-empty value).
BEFORE_VERSIONS_VALUE = "none"

DRIFT_LABELS = {DRIFT: "Drift", STEADY: "Steady", TOO_FEW: "Too few to tell"}


@dataclass
class CalibrationRow:
    """One criterion of the table, every figure already a string ("—" when nothing was compared)."""

    criterion: str
    scale: str
    n: int
    mad: str
    within_one: str
    signed: str
    recent_n: int
    recent_mad: str
    recent_within_one: str
    recent_signed: str
    drift: str
    drift_label: str
    drift_reason: str


def _points(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _signed(value: float | None) -> str:
    """AI − human with its sign, and which way it leans (the column reads "AI − human")."""
    if value is None:
        return "—"
    if abs(value) < 0.005:
        return "0.00"
    return f"{value:+.2f} (AI {'higher' if value > 0 else 'lower'})"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _row(c: CriterionCalibration) -> CalibrationRow:
    scale = f"{c.scale_min}–{c.scale_max}" if c.scale_min is not None and c.scale_max is not None else ""
    return CalibrationRow(
        criterion=c.criterion,
        scale=scale,
        n=c.overall.n,
        mad=_points(c.overall.mad),
        within_one=_share(c.overall.within_one),
        signed=_signed(c.overall.mean_signed),
        recent_n=c.recent.n,
        recent_mad=_points(c.recent.mad),
        recent_within_one=_share(c.recent.within_one),
        recent_signed=_signed(c.recent.mean_signed),
        drift=c.drift,
        drift_label=DRIFT_LABELS[c.drift],
        drift_reason=c.drift_reason,
    )


def _version_value(version: int | None) -> str:
    return BEFORE_VERSIONS_VALUE if version is None else str(version)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class CalibrationState(AdminState):
    #: Templates with interviews to compare: ``{"value": id, "label": title}``.
    cal_template_options: list[dict[str, str]] = []
    cal_template: str = ""
    #: The chosen template's versions with data, newest first: ``{"value": "3" | "none", "label"}``.
    cal_version_options: list[dict[str, str]] = []
    cal_version: str = ""
    cal_criteria: list[CalibrationRow] = []
    #: The chart's bars: ``{"criterion", "all", "recent"}`` (MAD over all and over the most recent).
    cal_chart: list[dict[str, Any]] = []
    cal_summary: str = ""
    #: "<criterion> — <why>" for each criterion flagged for drift.
    cal_drift_notes: list[str] = []
    cal_loaded: bool = False

    @rx.var
    def cal_empty(self) -> bool:
        """Loaded, and no interview has both an AI evaluation and a scorecard."""
        return self.cal_loaded and not self.cal_template_options

    def _reload(self) -> None:
        with session_scope() as session:
            groups = calibration_groups(session)
            template_id = self._choose_template(groups)
            versions = self._choose_version([g for g in groups if g.template_id == template_id])
            reports = calibrate(session, template_id, versions) if template_id is not None and versions else []
        self._show(reports[0] if reports else None)
        self.cal_loaded = True

    def _choose_template(self, groups: list[CalibrationGroup]) -> int | None:
        """Keep the chosen template while it has data; else the one with the most recent compared interview."""
        titles: dict[int, str] = {}
        latest: dict[int, datetime] = {}
        for g in groups:
            titles.setdefault(g.template_id, g.template_title)
            latest[g.template_id] = max(latest.get(g.template_id, g.latest_at), g.latest_at)
        self.cal_template_options = [{"value": str(tid), "label": title or f"Template {tid}"} for tid, title in titles.items()]
        if not titles:
            self.cal_template = ""
            return None
        if not (self.cal_template.isdigit() and int(self.cal_template) in titles):
            self.cal_template = str(max(latest, key=lambda tid: latest[tid]))
        return int(self.cal_template)

    def _choose_version(self, groups: list[CalibrationGroup]) -> list[int | None]:
        """Keep the chosen version while it has data, else the newest one that has (groups come newest first).

        Returns the version to show as a list for :func:`calibrate` (``[None]``: before versions; ``[]``: none).
        """
        self.cal_version_options = [
            {"value": _version_value(g.version), "label": f"{version_label(g.version)} · {_plural(g.interviews, 'interview')}"}
            for g in groups
        ]
        by_value = {_version_value(g.version): g.version for g in groups}
        if self.cal_version not in by_value:
            self.cal_version = next(iter(by_value), "")
        return [by_value[self.cal_version]] if self.cal_version in by_value else []

    def _show(self, report: VersionCalibration | None) -> None:
        if report is None:
            self.cal_criteria, self.cal_chart, self.cal_summary, self.cal_drift_notes = [], [], "", []
            return
        self.cal_criteria = [_row(c) for c in report.criteria]
        self.cal_drift_notes = [f"{c.criterion} — {c.drift_reason}" for c in report.criteria if c.drift == DRIFT]
        self.cal_chart = [
            {
                "criterion": c.criterion,
                "all": None if c.overall.mad is None else round(c.overall.mad, 2),
                "recent": None if c.recent.mad is None else round(c.recent.mad, 2),
            }
            for c in report.criteria
        ]
        compared = len({c.interview_id for c in report.comparisons})
        self.cal_summary = (
            f"{report.template_title} · {version_label(report.version)}: "
            f"{_plural(report.interviews, 'interview')} with a finished AI evaluation and at least one human scorecard"
            + ("." if compared == report.interviews else f"; {compared} of them have a criterion both scored.")
        )

    def _template_id(self) -> int | None:
        return int(self.cal_template) if self.cal_template.isdigit() else None

    @rx.event
    @guarded()
    def load(self) -> None:
        self._reload()

    @rx.event
    @guarded()
    def set_cal_template(self, value: str) -> None:
        """Show another template (its newest version with data)."""
        value = str(value)
        if value != self.cal_template and value in {o["value"] for o in self.cal_template_options}:
            self.cal_template, self.cal_version = value, ""
        self._reload()

    @rx.event
    @guarded()
    def set_cal_version(self, value: str) -> None:
        value = str(value)
        if value in {o["value"] for o in self.cal_version_options}:
            self.cal_version = value
        self._reload()

    def _download(self, render: Any, what: str):  # noqa: ANN202
        template_id = self._template_id()
        if template_id is None:
            self._notify("There is nothing to download yet: no interview has both an AI evaluation and a human scorecard.", "info")
            return None
        with session_scope() as session:
            data = render(calibrate(session, template_id))
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
        return rx.download(data=data, filename=f"calibration-{what}template-{template_id}-{stamp}.csv", mime_type="text/csv")

    @rx.event
    @guarded()
    def download_csv(self):  # noqa: ANN201
        """The per-criterion figures of every version of the chosen template, one row per version and criterion."""
        return self._download(summary_csv, "")

    @rx.event
    @guarded()
    def download_interviews_csv(self):  # noqa: ANN201
        """Every compared interview and criterion of the chosen template: AI score, reviewers' mean, difference."""
        return self._download(interviews_csv, "interviews-")
