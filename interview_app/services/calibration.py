"""Calibration: how far the AI's rubric scores are from the human reviewers' (issue 18).

Compared are interviews that have both a finished AI evaluation (their latest ``evaluation`` row,
status ``done``) and at least one reviewer's ``scorecard``. Like is compared with like: figures are
kept per template *and* per rubric version (the interview's ``template_version``; interviews from
before versions, ``None``, are a group of their own), and an evaluation or a scorecard counts only
when it was scored against the interview's version.

Per criterion and interview, the human score is the mean of the reviewers' scores (a reviewer's
``None`` — "could not judge" — is left out). A pair is compared only when the AI gave a score: an AI
criterion marked insufficient evidence, or without a score, is not. Over the compared pairs:

- ``mad``: mean absolute difference |AI − human|, in the criterion's scale points;
- ``within_one``: the share of pairs with |AI − human| ≤ 1 point;
- ``mean_signed``: mean of AI − human (positive: the AI scores higher than people do);
- ``n``: how many interviews were compared.

Drift: the same figures over the criterion's :data:`RECENT_INTERVIEWS` most recent compared interviews
(by the interview's ``ended_at``, else ``created_at``) against all of them. It is flagged when the
recent MAD is at least :data:`DRIFT_MAD_POINTS` above the overall one, or the recent within-one share
at least :data:`DRIFT_WITHIN_ONE_DROP` below it — and only when there are more than
:data:`RECENT_INTERVIEWS` interviews, since otherwise "recent" and "all" are the same interviews.

Every figure is read in bulk (three queries however many interviews there are); nothing here imports
reflex.
"""

from __future__ import annotations

import csv
import functools
import io
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from interview_app.models import Evaluation, EvaluationStatus, Interview, InterviewTemplate, Scorecard
from interview_app.services.interview_list import _csv_safe
from interview_app.services.interviews import as_aware

#: How many of the most recent compared interviews the drift check looks at.
RECENT_INTERVIEWS = 20
#: Drift when the recent mean absolute difference is this many points (or more) above the overall one.
DRIFT_MAD_POINTS = 0.5
#: Drift when the recent within-one-point share is this much (or more) below the overall one (15 points).
DRIFT_WITHIN_ONE_DROP = 0.15
#: "Within one point": |AI − human| at most this (the human score is a mean, so 0.5 or 1.5 happen).
WITHIN_POINTS = 1.0
_EPSILON = 1e-9

BEFORE_VERSIONS = "Before versions"

#: drift values: flagged, looked at and fine, or not enough interviews to tell.
DRIFT = "drift"
STEADY = "steady"
TOO_FEW = "too_few"

SUMMARY_COLUMNS = (
    "template_id",
    "template",
    "version",
    "criterion",
    "scale_min",
    "scale_max",
    "n",
    "mad",
    "within_one_pct",
    "mean_signed_difference",
    "recent_n",
    "recent_mad",
    "recent_within_one_pct",
    "recent_mean_signed_difference",
    "drift",
    "drift_reason",
)
INTERVIEW_COLUMNS = (
    "template_id",
    "template",
    "version",
    "interview_id",
    "interview_at",
    "criterion",
    "ai_score",
    "human_score",
    "reviewers",
    "difference",
)


def version_label(version: int | None) -> str:
    return BEFORE_VERSIONS if version is None else f"Version {version}"


@dataclass(frozen=True)
class CalibrationGroup:
    """A template version that has interviews to compare (what the page's selectors offer)."""

    template_id: int
    template_title: str
    version: int | None
    #: Interviews with both a done AI evaluation and a scorecard against this version.
    interviews: int
    #: When the most recent of them ended (else was created).
    latest_at: datetime


@dataclass(frozen=True)
class Figures:
    """Agreement between AI and humans over some pairs; the figures are None when ``n`` is 0."""

    n: int
    mad: float | None
    within_one: float | None
    mean_signed: float | None


@dataclass(frozen=True)
class Comparison:
    """One interview's AI score of one criterion beside the mean of its reviewers' scores."""

    interview_id: uuid.UUID
    at: datetime
    criterion: str
    ai_score: float
    human_score: float
    #: Reviewers who scored this criterion (their ``None`` scores left out).
    reviewers: int

    @property
    def difference(self) -> float:
        """AI − human: positive when the AI scored higher."""
        return self.ai_score - self.human_score


@dataclass(frozen=True)
class CriterionCalibration:
    criterion: str
    scale_min: int | None
    scale_max: int | None
    overall: Figures
    recent: Figures
    #: :data:`DRIFT`, :data:`STEADY` or :data:`TOO_FEW`.
    drift: str
    #: The sentence behind ``drift``.
    drift_reason: str


@dataclass(frozen=True)
class VersionCalibration:
    """The calibration of one template version: per criterion, and every compared pair."""

    template_id: int
    template_title: str
    version: int | None
    #: Interviews with both a done AI evaluation and a scorecard (some may have no comparable criterion).
    interviews: int
    criteria: list[CriterionCalibration] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)

    @property
    def label(self) -> str:
        return version_label(self.version)


# --- reading ---------------------------------------------------------------------


def _same_version(column: Any) -> Any:
    return column.is_not_distinct_from(Interview.template_version)


def _compared_interviews(template_id: int | None, versions: Collection[int | None] | None = None) -> sa.Select:
    """Interviews whose latest evaluation is done against their version and that have a scorecard against it.

    Columns: the interview's id, template, version, time, and the evaluation's scores.
    """
    has_card = sa.exists().where(col(Scorecard.interview_id) == col(Interview.id), _same_version(Scorecard.template_version))
    latest = (
        sa.select(col(Evaluation.interview_id), sa.func.max(col(Evaluation.id)).label("id"))
        .where(col(Evaluation.interview_id).in_(sa.select(col(Scorecard.interview_id))))
        .group_by(col(Evaluation.interview_id))
        .subquery()
    )
    stmt = (
        sa.select(
            col(Interview.id),
            col(Interview.template_id),
            col(Interview.template_version),
            sa.func.coalesce(col(Interview.ended_at), col(Interview.created_at)).label("at"),
            col(Evaluation.scores),
        )
        .join(latest, latest.c.interview_id == col(Interview.id))
        .join(Evaluation, col(Evaluation.id) == latest.c.id)
        .where(col(Evaluation.status) == EvaluationStatus.done.value, _same_version(Evaluation.template_version), has_card)
    )
    if template_id is not None:
        stmt = stmt.where(col(Interview.template_id) == template_id)
    if versions is not None:
        numbered = [v for v in versions if v is not None]
        stmt = stmt.where(
            sa.or_(
                col(Interview.template_version).in_(numbered),
                *([col(Interview.template_version).is_(None)] if None in versions else []),
            )
        )
    return stmt


def calibration_groups(session: Session) -> list[CalibrationGroup]:
    """Every template version with interviews to compare: templates by title, each one's newest version first."""
    compared = _compared_interviews(None).subquery()
    rows = session.execute(
        sa.select(
            compared.c.template_id, col(InterviewTemplate.title), compared.c.template_version, sa.func.count(), sa.func.max(compared.c.at)
        )
        .join(InterviewTemplate, col(InterviewTemplate.id) == compared.c.template_id)
        .group_by(compared.c.template_id, col(InterviewTemplate.title), compared.c.template_version)
    ).all()
    groups = [CalibrationGroup(tid, title, version, int(n), as_aware(at)) for tid, title, version, n, at in rows]
    return sorted(groups, key=lambda g: (g.template_title.casefold(), g.template_id, g.version is None, -(g.version or 0)))


def calibrate(session: Session, template_id: int | None = None, versions: Collection[int | None] | None = None) -> list[VersionCalibration]:
    """The calibration of one template's versions (every template's when None), in :func:`calibration_groups`' order.

    ``versions`` limits it to those versions (``None`` in it: the interviews from before versions).
    """
    compared = _compared_interviews(template_id, versions)
    interviews = session.execute(compared).all()
    if not interviews:
        return []
    cards: dict[uuid.UUID, list[list[Any]]] = {}
    compared_ids = compared.with_only_columns(col(Interview.id))
    for interview_id, scores in session.execute(
        sa.select(col(Scorecard.interview_id), col(Scorecard.scores))
        .join(Interview, col(Interview.id) == col(Scorecard.interview_id))
        .where(col(Scorecard.interview_id).in_(compared_ids), _same_version(Scorecard.template_version))
    ):
        cards.setdefault(interview_id, []).append(scores if isinstance(scores, list) else [])
    titles = dict(
        session.execute(
            sa.select(col(InterviewTemplate.id), col(InterviewTemplate.title)).where(
                col(InterviewTemplate.id).in_({row.template_id for row in interviews})
            )
        ).all()
    )

    by_group: dict[tuple[int, int | None], list[Any]] = {}
    for row in interviews:
        by_group.setdefault((row.template_id, row.template_version), []).append(row)
    reports = [_version_calibration(tid, titles.get(tid, ""), version, rows, cards) for (tid, version), rows in by_group.items()]
    return sorted(reports, key=lambda r: (r.template_title.casefold(), r.template_id, r.version is None, -(r.version or 0)))


# --- figures -----------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _key(name: str) -> str:
    """A criterion's name as compared: case and spacing aside (the same few names recur thousands of times)."""
    return " ".join(name.split()).casefold()


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _scale(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def human_scores(scorecards: Iterable[Sequence[Any]]) -> dict[str, tuple[float, int]]:
    """Per criterion (by normalised name): the mean of the reviewers' scores and how many reviewers gave one."""
    given: dict[str, list[float]] = {}
    for scores in scorecards:
        for entry in scores:
            if not isinstance(entry, dict) or not isinstance(entry.get("criterion"), str):
                continue
            score = _number(entry.get("score"))
            if score is not None:
                given.setdefault(_key(entry["criterion"]), []).append(score)
    return {name: (sum(values) / len(values), len(values)) for name, values in given.items()}


def figures(differences: Sequence[float]) -> Figures:
    """MAD, within-one share and mean signed difference of some AI − human differences."""
    n = len(differences)
    if not n:
        return Figures(0, None, None, None)
    return Figures(
        n=n,
        mad=sum(abs(d) for d in differences) / n,
        within_one=sum(1 for d in differences if abs(d) <= WITHIN_POINTS + _EPSILON) / n,
        mean_signed=sum(differences) / n,
    )


def drift(overall: Figures, recent: Figures) -> tuple[str, str]:
    """Whether the recent interviews agree less with people than all of them do, and the sentence why."""
    if overall.n <= RECENT_INTERVIEWS or None in (overall.mad, recent.mad, overall.within_one, recent.within_one):
        return TOO_FEW, f"Drift is checked once more than {RECENT_INTERVIEWS} interviews are compared; this criterion has {overall.n}."
    mad, recent_mad = overall.mad or 0.0, recent.mad or 0.0
    within, recent_within = overall.within_one or 0.0, recent.within_one or 0.0
    reasons = []
    if recent_mad - mad >= DRIFT_MAD_POINTS - _EPSILON:
        reasons.append(
            f"the last {recent.n} differ from people by {recent_mad:.2f} points on average, against {mad:.2f} over all {overall.n}"
        )
    if within - recent_within >= DRIFT_WITHIN_ONE_DROP - _EPSILON:
        reasons.append(f"{recent_within:.0%} of the last {recent.n} are within one point, against {within:.0%} over all {overall.n}")
    if reasons:
        sentence = "; ".join(reasons)
        return DRIFT, sentence[0].upper() + sentence[1:] + "."
    return STEADY, f"The last {recent.n} interviews agree with people about as well as all {overall.n} do."


def _version_calibration(
    template_id: int, title: str, version: int | None, interviews: list[Any], cards: dict[uuid.UUID, list[list[Any]]]
) -> VersionCalibration:
    order: dict[str, str] = {}  # normalised name -> the name as the rubric spells it, in rubric order
    scales: dict[str, tuple[int | None, int | None]] = {}
    pairs: dict[str, list[Comparison]] = {}
    timed = sorted(((as_aware(row.at), str(row.id), row) for row in interviews), key=lambda t: (t[0], t[1]))
    for at, _id, row in timed:
        human = human_scores(cards.get(row.id, []))
        for entry in row.scores if isinstance(row.scores, list) else []:
            if not isinstance(entry, dict) or not isinstance(entry.get("criterion"), str):
                continue
            key = _key(entry["criterion"])
            order.setdefault(key, entry["criterion"])
            scales[key] = (_scale(entry.get("scale_min")), _scale(entry.get("scale_max")))
            ai = None if entry.get("insufficient_evidence") else _number(entry.get("score"))
            if ai is None or key not in human:
                continue
            mean, reviewers = human[key]
            pairs.setdefault(key, []).append(Comparison(row.id, at, order[key], ai, mean, reviewers))

    criteria = []
    for key, name in order.items():
        compared = pairs.get(key, [])  # oldest first
        overall = figures([c.difference for c in compared])
        recent = figures([c.difference for c in compared[-RECENT_INTERVIEWS:]])
        flag, reason = drift(overall, recent)
        criteria.append(CriterionCalibration(name, *scales[key], overall=overall, recent=recent, drift=flag, drift_reason=reason))
    rank = {row.id: i for i, (_at, _id, row) in enumerate(timed)}
    comparisons = sorted((c for cs in pairs.values() for c in cs), key=lambda c: rank[c.interview_id])  # stable: rubric order within one
    return VersionCalibration(template_id, title, version, len(interviews), criteria, comparisons)


# --- CSV -----------------------------------------------------------------------------


def _num(value: Any, digits: int = 3) -> str:
    """A number for a CSV cell: at most ``digits`` decimals, no exponent, no "-0"; "" for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    return f"{round(value, digits) + 0.0:.{digits}f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def _pct(share: float | None) -> str:
    return "" if share is None else f"{share * 100:.1f}"


def _version_cell(version: int | None) -> str:
    return "before_versions" if version is None else str(version)


def _version_cells(report: VersionCalibration) -> list[Any]:
    """The cells that open every row of a version's report: template id, title, version."""
    return [report.template_id, _csv_safe(report.template_title), _version_cell(report.version)]


def _figure_cells(f: Figures) -> list[Any]:
    """n, MAD, within one (%) and mean signed difference: the same four cells for all and for the recent interviews."""
    return [f.n, _num(f.mad), _pct(f.within_one), _num(f.mean_signed)]


def _csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def summary_csv(reports: Sequence[VersionCalibration]) -> str:
    """One row per template, version and criterion with its figures (text cells made formula-safe)."""
    return _csv(
        SUMMARY_COLUMNS,
        (
            [
                *_version_cells(r),
                _csv_safe(c.criterion),
                _num(c.scale_min),
                _num(c.scale_max),
                *_figure_cells(c.overall),
                *_figure_cells(c.recent),
                c.drift,
                c.drift_reason,
            ]
            for r in reports
            for c in r.criteria
        ),
    )


def interviews_csv(reports: Sequence[VersionCalibration]) -> str:
    """The per-interview breakdown: one row per compared interview and criterion."""
    return _csv(
        INTERVIEW_COLUMNS,
        (
            [
                *_version_cells(r),
                str(c.interview_id),
                c.at.isoformat(),
                _csv_safe(c.criterion),
                _num(c.ai_score),
                _num(c.human_score),
                c.reviewers,
                _num(c.difference),
            ]
            for r in reports
            for c in r.comparisons
        ),
    )


def export_csv(session: Session, template_id: int | None = None) -> str:
    """The per-criterion CSV of one template's versions (every template's when None)."""
    return summary_csv(calibrate(session, template_id))
