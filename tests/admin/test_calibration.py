"""Calibration of the AI's rubric scores against the reviewers' (services/calibration.py, `/admin/calibration`).

The figures are checked against numbers worked out by hand for a small seeded set: several
reviewers, a reviewer's blank score, an AI criterion marked insufficient evidence, an AI criterion
without a score, two versions of one template and the interviews from before versions kept apart,
and interviews that must not count (latest evaluation not done, no scorecard, a scorecard or an
evaluation against another version). Drift is flagged on a seeded history of 25 interviews and not
before there are more than 20. Runs on SQLite and on the run's shared PostgreSQL database, so every
assertion looks only at this test's own templates.
"""

from __future__ import annotations

import base64
import csv
import inspect
import io
import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from interview_app.models import AdminUser, Evaluation, Interview, InterviewTemplate, Scorecard
from interview_app.services.calibration import (
    DRIFT,
    INTERVIEW_COLUMNS,
    STEADY,
    SUMMARY_COLUMNS,
    TOO_FEW,
    VersionCalibration,
    calibrate,
    calibration_groups,
    export_csv,
    interviews_csv,
    summary_csv,
)
from interview_app.state.admin_calibration import CalibrationState
from tests.admin.test_admin_state_guards import _dummy, people, run, state_for  # noqa: F401
from tests.factories import make_candidate

#: An AI criterion entry the evaluator stored as insufficient evidence.
INSUFFICIENT = "insufficient"
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _rubric(*names: str, scale_max: int = 5) -> list[dict[str, Any]]:
    return [{"name": n, "description": "", "weight": 1, "scale_min": 1, "scale_max": scale_max} for n in names]


def _template(session: Session, *criteria: str, title: str = "", scale_max: int = 5) -> InterviewTemplate:
    template = InterviewTemplate(title=title or f"Calibration {uuid.uuid4().hex[:6]}", rubric=_rubric(*criteria, scale_max=scale_max))
    session.add(template)
    session.flush()
    return template


def _reviewers(session: Session, n: int) -> list[AdminUser]:
    tag = uuid.uuid4().hex[:6]
    users = [AdminUser(email=f"cal.rev{i}.{tag}@example.com", password_hash="-", role="reviewer") for i in range(n)]
    session.add_all(users)
    session.flush()
    return users


def _ai_entry(template: InterviewTemplate, name: str, score: int | str | None) -> dict[str, Any]:
    scale = next(c for c in template.rubric if c["name"] == name)
    entry = {"criterion": name, "weight": 1, "scale_min": scale["scale_min"], "scale_max": scale["scale_max"], "score": score}
    if score == INSUFFICIENT:
        entry |= {"score": None, "insufficient_evidence": True, "reason": "Too little speech about it."}
    return entry


def _interview(
    session: Session,
    template: InterviewTemplate,
    *,
    version: int | None,
    ai: dict[str, int | str | None],
    cards: list[tuple[AdminUser, dict[str, int | None]]],
    ended: datetime | None,
    created: datetime | None = None,
    status: str = "done",
    evaluation_version: int | None | str = "same",
    card_version: int | None | str = "same",
    later_evaluation: str | None = None,
) -> Interview:
    """A completed interview with its evaluation (``ai``: criterion -> score) and reviewers' scorecards."""
    candidate = make_candidate(session)
    created = created or (ended - timedelta(hours=1) if ended else T0)
    interview = Interview(
        candidate_id=candidate.id,
        template_id=template.id,
        status="completed",
        invite_token_hash=uuid.uuid4().hex + uuid.uuid4().hex,
        invite_expires_at=created + timedelta(days=7),
        template_version=version,
        created_at=created,
        started_at=created,
        ended_at=ended,
    )
    session.add(interview)
    session.flush()
    session.add(
        Evaluation(
            interview_id=interview.id,
            status=status,
            scores=[_ai_entry(template, name, score) for name, score in ai.items()],
            template_version=version if evaluation_version == "same" else evaluation_version,
        )
    )
    session.flush()
    if later_evaluation is not None:  # a re-run queued after the first evaluation: that one is the latest
        session.add(Evaluation(interview_id=interview.id, status=later_evaluation, template_version=version))
    for reviewer, scores in cards:
        session.add(
            Scorecard(
                interview_id=interview.id,
                reviewer_id=reviewer.id,
                reviewer_email=reviewer.email,
                template_version=version if card_version == "same" else card_version,
                scores=[{"criterion": name, "score": score, "note": ""} for name, score in scores.items()],
                recommendation="hold",
            )
        )
    session.flush()
    return interview


@pytest.fixture
def seeded(session: Session) -> dict[str, Any]:
    """Template T, criteria A, B, C (1–5), worked by hand:

    version 2 — i1: AI A4 B2 C(insufficient); r1 A3 B2 C4, r2 A2 B– C5  → A 4−2.5=+1.5, B 2−2=0 (one reviewer)
                i2: AI A3 B5 C(no score);     r1 A3 B3 C2              → A 0, B +2
                i3: AI A5 B4 C3;              r3 A4 B4 C–, r1 A5 B5 C– → A 5−4.5=+0.5, B 4−4.5=−0.5, C no human score
      A: n 3, MAD 2/3, within one 2/3, signed +2/3 · B: n 3, MAD 2.5/3, within one 2/3, signed +0.5 · C: n 0
    version 1 — i4: AI A1; r1 A5 → A −4 (kept apart from version 2)
    before versions — i5: AI A2; r2 A2 → A 0
    not counted — a done evaluation with a pending re-run after it, no scorecard, a scorecard or an
    evaluation against another version, a failed evaluation.
    """
    t = _template(session, "A", "B", "C")
    r1, r2, r3 = _reviewers(session, 3)
    day = timedelta(days=1)
    i1 = _interview(
        session,
        t,
        version=2,
        ai={"A": 4, "B": 2, "C": INSUFFICIENT},
        cards=[(r1, {"A": 3, "B": 2, "C": 4}), (r2, {"A": 2, "B": None, "C": 5})],
        ended=T0 + day,
    )
    i2 = _interview(session, t, version=2, ai={"A": 3, "B": 5, "C": None}, cards=[(r1, {"A": 3, "B": 3, "C": 2})], ended=T0 + 2 * day)
    i3 = _interview(
        session,
        t,
        version=2,
        ai={"A": 5, "B": 4, "C": 3},
        cards=[(r3, {"A": 4, "B": 4, "C": None}), (r1, {"A": 5, "B": 5, "C": None})],
        ended=None,
        created=T0 + 3 * day,
    )
    i4 = _interview(session, t, version=1, ai={"A": 1}, cards=[(r1, {"A": 5})], ended=T0)
    i5 = _interview(session, t, version=None, ai={"A": 2}, cards=[(r2, {"A": 2})], ended=T0)
    ignored = [
        _interview(session, t, version=2, ai={"A": 1}, cards=[(r1, {"A": 5})], ended=T0, later_evaluation="pending"),
        _interview(session, t, version=2, ai={"A": 1}, cards=[], ended=T0),
        _interview(session, t, version=2, ai={"A": 1}, cards=[(r1, {"A": 5})], ended=T0, card_version=1),
        _interview(session, t, version=2, ai={"A": 1}, cards=[(r1, {"A": 5})], ended=T0, evaluation_version=1),
        _interview(session, t, version=2, ai={"A": 1}, cards=[(r1, {"A": 5})], ended=T0, status="failed"),
    ]
    session.commit()
    return {"template": t, "interviews": [i1, i2, i3, i4, i5], "ignored": ignored}


def _by_version(reports: list[VersionCalibration]) -> dict[int | None, VersionCalibration]:
    return {r.version: r for r in reports}


def test_figures_per_criterion_match_the_hand_worked_numbers(seeded: dict[str, Any], session: Session) -> None:
    t = seeded["template"]
    reports = calibrate(session, t.id)
    assert [r.version for r in reports] == [2, 1, None]  # newest version first, before versions last
    v2 = _by_version(reports)[2]
    assert v2.template_title == t.title and v2.interviews == 3 and v2.label == "Version 2"
    a, b, c = v2.criteria
    assert (a.criterion, a.scale_min, a.scale_max) == ("A", 1, 5)
    assert a.overall.n == 3
    assert (
        a.overall.mad == pytest.approx(2 / 3)
        and a.overall.within_one == pytest.approx(2 / 3)
        and a.overall.mean_signed == pytest.approx(2 / 3)
    )
    assert b.overall.n == 3
    assert (
        b.overall.mad == pytest.approx(2.5 / 3)
        and b.overall.within_one == pytest.approx(2 / 3)
        and b.overall.mean_signed == pytest.approx(0.5)
    )
    # C: insufficient evidence in i1, no AI score in i2, no reviewer score in i3: nothing compared.
    assert (c.criterion, c.overall.n, c.overall.mad, c.overall.within_one, c.overall.mean_signed) == ("C", 0, None, None, None)
    for crit in (a, b, c):
        assert crit.recent == crit.overall and crit.drift == TOO_FEW  # 3 interviews: recent and all are the same
    assert "more than 20" in a.drift_reason and "has 3" in a.drift_reason

    v1, before = _by_version(reports)[1], _by_version(reports)[None]
    assert (v1.interviews, v1.criteria[0].overall.n, v1.criteria[0].overall.mad, v1.criteria[0].overall.mean_signed) == (1, 1, 4.0, -4.0)
    assert before.label == "Before versions" and before.criteria[0].overall.mad == 0.0 and before.criteria[0].overall.within_one == 1.0


def test_the_per_interview_breakdown_has_every_compared_pair(seeded: dict[str, Any], session: Session) -> None:
    i1, i2, i3 = seeded["interviews"][:3]
    v2 = _by_version(calibrate(session, seeded["template"].id))[2]
    got = [(c.interview_id, c.criterion, c.ai_score, c.human_score, c.reviewers, c.difference) for c in v2.comparisons]
    assert got == [  # oldest first; i3 has no ended_at, so its created_at places it
        (i1.id, "A", 4, 2.5, 2, 1.5),
        (i1.id, "B", 2, 2, 1, 0),
        (i2.id, "A", 3, 3, 1, 0),
        (i2.id, "B", 5, 3, 1, 2),
        (i3.id, "A", 5, 4.5, 2, 0.5),
        (i3.id, "B", 4, 4.5, 2, -0.5),
    ]
    ignored = {i.id for i in seeded["ignored"]}
    assert not ignored & {c.interview_id for r in calibrate(session, seeded["template"].id) for c in r.comparisons}


def test_groups_list_each_version_with_data(seeded: dict[str, Any], session: Session) -> None:
    t = seeded["template"]
    mine = [g for g in calibration_groups(session) if g.template_id == t.id]
    assert [(g.version, g.interviews) for g in mine] == [(2, 3), (1, 1), (None, 1)]
    assert mine[0].template_title == t.title and mine[0].latest_at == T0 + timedelta(days=3)


def _history(
    session: Session, n_old: int, old: dict[str, tuple[int, int]], n_recent: int, recent: list[dict[str, tuple[int, int]]]
) -> InterviewTemplate:
    """A template whose interviews go (AI, human) per criterion: ``n_old`` like ``old``, then ``recent`` in turn.

    Inserted newest first, and most "ended" on their own day while all were invited at once: only
    ordering by ended_at (else created_at) finds the most recent ones.
    """
    names = list(old)
    t = _template(session, *names, scale_max=10)
    [reviewer] = _reviewers(session, 1)
    plan = [old] * n_old + [recent[i % len(recent)] for i in range(n_recent)]
    for day, pairs in reversed(list(enumerate(plan))):
        ended = None if day in (1, 3) else T0 + timedelta(days=day)
        _interview(
            session,
            t,
            version=1,
            ai={k: a for k, (a, _h) in pairs.items()},
            cards=[(reviewer, {k: h for k, (_a, h) in pairs.items()})],
            ended=ended,
            created=T0 + timedelta(days=day) if ended is None else T0 - timedelta(days=1),
        )
    session.commit()
    return t


def test_drift_is_flagged_when_the_recent_interviews_agree_less(session: Session, people: dict[str, str]) -> None:  # noqa: F811
    # 5 old interviews agree exactly; then 20 recent ones. Per criterion (AI, human):
    #   X: recent off by 3 → MAD 3 vs 60/25 = 2.4 (+0.6) and within one 0% vs 20%: both reasons
    #   Y: always 1 apart → steady
    #   Z: recent off by 2 and 1 in turn → MAD 1.5 vs 30/25 = 1.2 (+0.3), within one 50% vs 60%: steady
    #   W: recent half exact, half off by 5 → MAD 2.5 vs 2.0 (+0.5, the threshold itself): flagged
    #   V: recent off by 1.5 → MAD 1.5 vs 1.2 (+0.3), within one 0% vs 20% (−20 points): flagged
    old = {"X": (5, 5), "Y": (5, 4), "Z": (5, 5), "W": (5, 5), "V": (5, 5)}
    recent = [
        {"X": (8, 5), "Y": (5, 4), "Z": (7, 5), "W": (5, 5), "V": (7, 5)},
        {"X": (8, 5), "Y": (5, 4), "Z": (6, 5), "W": (6, 1), "V": (7, 5)},
    ]
    t = _history(session, 5, old, 20, recent)
    # V's reviewer mean must be x.5: give it a second reviewer on the recent interviews.
    [second] = _reviewers(session, 1)
    interviews = session.exec(sa.select(Interview).where(Interview.template_id == t.id)).scalars().all()  # type: ignore[call-overload]
    for interview in interviews:
        if interview.ended_at is not None and as_utc(interview.ended_at) >= T0 + timedelta(days=5):
            session.add(
                Scorecard(
                    interview_id=interview.id,
                    reviewer_id=second.id,
                    reviewer_email=second.email,
                    template_version=1,
                    scores=[{"criterion": "V", "score": 6, "note": ""}],
                )
            )
    session.commit()

    [report] = calibrate(session, t.id)
    by_name = {c.criterion: c for c in report.criteria}
    x, y, z, w, v = (by_name[k] for k in "XYZWV")
    assert (x.overall.n, x.recent.n) == (25, 20)
    assert x.overall.mad == pytest.approx(2.4) and x.recent.mad == pytest.approx(3.0)
    assert x.overall.within_one == pytest.approx(0.2) and x.recent.within_one == 0
    assert x.drift == DRIFT and "3.00 points on average, against 2.40" in x.drift_reason and "0% of the last 20" in x.drift_reason
    assert y.drift == STEADY and y.overall.mad == y.recent.mad == 1 and "agree with people about as well" in y.drift_reason
    assert z.drift == STEADY and z.recent.mad == pytest.approx(1.5) and z.overall.within_one == pytest.approx(0.6)
    assert w.drift == DRIFT and w.recent.mad - w.overall.mad == pytest.approx(0.5) and "within one point" not in w.drift_reason
    assert v.recent.mad - v.overall.mad == pytest.approx(0.3) and v.overall.within_one - v.recent.within_one == pytest.approx(0.2)
    assert (
        v.drift == DRIFT
        and "points on average" not in v.drift_reason
        and "0% of the last 20 are within one point, against 20%" in v.drift_reason
    )


def as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_no_drift_is_flagged_with_20_interviews_or_fewer(session: Session) -> None:
    t = _history(session, 5, {"X": (5, 5)}, 15, [{"X": (9, 5)}])  # a big change, but only 20 interviews
    [report] = calibrate(session, t.id)
    [x] = report.criteria
    assert x.overall.n == 20 and x.drift == TOO_FEW
    assert x.drift_reason == "Drift is checked once more than 20 interviews are compared; this criterion has 20."


def test_reading_is_a_fixed_number_of_queries_however_many_interviews(session: Session, app_db: sa.Engine) -> None:
    few = _history(session, 1, {"X": (5, 5)}, 2, [{"X": (6, 5)}])
    many = _history(session, 10, {"X": (5, 5)}, 30, [{"X": (6, 5)}])
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    sa.event.listen(app_db, "before_cursor_execute", count)
    try:
        calibrate(session, few.id)
        n_few = len(statements)
        statements.clear()
        calibrate(session, many.id)
        n_many = len(statements)
    finally:
        sa.event.remove(app_db, "before_cursor_execute", count)
    assert n_few == n_many <= 3


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_summary_csv_has_a_row_per_template_version_and_criterion(seeded: dict[str, Any], session: Session) -> None:
    t = seeded["template"]
    header, *rows = _rows(export_csv(session, t.id))
    assert tuple(header) == SUMMARY_COLUMNS
    table = {(r[2], r[3]): dict(zip(header, r, strict=True)) for r in rows}
    assert list(table) == [("2", "A"), ("2", "B"), ("2", "C"), ("1", "A"), ("before_versions", "A")]
    a = table[("2", "A")]
    assert (a["template_id"], a["template"], a["scale_min"], a["scale_max"]) == (str(t.id), t.title, "1", "5")
    assert (a["n"], a["mad"], a["within_one_pct"], a["mean_signed_difference"]) == ("3", "0.667", "66.7", "0.667")
    assert (a["recent_n"], a["recent_mad"], a["drift"]) == ("3", "0.667", "too_few")
    assert table[("2", "B")]["mad"] == "0.833" and table[("2", "B")]["mean_signed_difference"] == "0.5"
    assert (table[("2", "C")]["n"], table[("2", "C")]["mad"], table[("2", "C")]["within_one_pct"]) == ("0", "", "")
    assert table[("1", "A")]["mean_signed_difference"] == "-4"  # a number stays a number
    assert table[("before_versions", "A")]["mad"] == "0"


def test_per_interview_csv(seeded: dict[str, Any], session: Session) -> None:
    i1 = seeded["interviews"][0]
    header, *rows = _rows(interviews_csv(calibrate(session, seeded["template"].id)))
    assert tuple(header) == INTERVIEW_COLUMNS
    first = dict(zip(header, rows[0], strict=True))
    assert (first["version"], first["interview_id"], first["criterion"]) == ("2", str(i1.id), "A")
    assert (first["ai_score"], first["human_score"], first["reviewers"], first["difference"]) == ("4", "2.5", "2", "1.5")
    assert first["interview_at"].startswith("2026-11-02T09:00:00")
    assert len(rows) == 6 + 1 + 1  # version 2's six pairs, version 1's and before versions' one each


def test_csv_cells_cannot_run_as_formulas(session: Session) -> None:
    title = '=HYPERLINK("https://evil.example.com","open")'
    t = _template(session, "@SUM(A1:A9)", "Fine;=1+1", title=title)
    [reviewer] = _reviewers(session, 1)
    _interview(
        session, t, version=1, ai={"@SUM(A1:A9)": 2, "Fine;=1+1": 3}, cards=[(reviewer, {"@SUM(A1:A9)": 4, "Fine;=1+1": 3})], ended=T0
    )
    session.commit()
    reports = calibrate(session, t.id)
    for text, criterion_column in ((summary_csv(reports), 3), (interviews_csv(reports), 5)):
        _header, *rows = _rows(text)
        assert {r[1] for r in rows} == {"'" + title}
        assert {r[criterion_column] for r in rows} == {"'@SUM(A1:A9)", "Fine;'=1+1"}
        for r in rows:
            assert not any(cell.startswith(("=", "@", "+")) for cell in r)
    signed = [r[9] for r in _rows(summary_csv(reports))[1:]]
    assert signed == ["-2", "0"]  # numbers are left alone, a minus sign included


def test_the_service_does_not_import_reflex() -> None:
    code = "import sys, interview_app.services.calibration; sys.exit('reflex' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- the page's state ------------------------------------------------------------------


def _download_text(answer: Any) -> tuple[str, str]:
    """The file name and text of an ``rx.download`` answer (a data: URL)."""
    args = {name._js_expr: value._var_value for name, value in answer.args}
    return args["filename"], base64.b64decode(args["url"].split("base64,", 1)[1]).decode()


@pytest.mark.parametrize("who", ["none", "forged", "expired", "deactivated"])
def test_every_calibration_handler_refuses_without_a_session(who: str, people: dict[str, str], seeded: dict[str, Any]) -> None:  # noqa: F811
    handlers = sorted(n for n, h in CalibrationState.event_handlers.items() if h.fn.__qualname__.startswith("CalibrationState."))
    assert {"load", "set_cal_template", "set_cal_version", "download_csv", "download_interviews_csv"} <= set(handlers)
    for name in handlers:
        state = state_for(CalibrationState, people[who], path="/admin/calibration")
        state.cal_template = str(seeded["template"].id)  # even with a template chosen
        before = dict(state.dict()[state.get_full_name()])
        params = [p for p in inspect.signature(CalibrationState.event_handlers[name].fn).parameters.values() if p.name != "self"]
        answer = run(state, name, **{p.name: _dummy(p) for p in params})
        assert "data:text/csv" not in str(answer), f"{name} handed out a file to '{who}'"
        assert (state.notice_message, state.notice_kind, state.notice_seq) == ("Your session has ended. Sign in again.", "error", 1)
        after = state.dict()[state.get_full_name()]
        assert {k for k in before if before[k] != after[k]} == set(), f"{name} changed the state for '{who}'"
        assert state.cal_criteria == [] and state.cal_template_options == [] and not state.cal_loaded
        assert state.admin_email == ""


@pytest.mark.parametrize("who", ["reviewer", "admin"])
def test_both_roles_see_the_figures_and_download_them(who: str, people: dict[str, str], seeded: dict[str, Any], session: Session) -> None:  # noqa: F811
    t = seeded["template"]
    state = state_for(CalibrationState, people[who], path="/admin/calibration")
    run(state, "load")
    assert state.cal_loaded and not state.cal_empty
    run(state, "set_cal_template", value=str(t.id))  # the shared PostgreSQL database may hold newer templates
    assert state.cal_template == str(t.id)
    assert [(o["value"], o["label"]) for o in state.cal_version_options] == [
        ("2", "Version 2 · 3 interviews"),
        ("1", "Version 1 · 1 interview"),
        ("none", "Before versions · 1 interview"),
    ]
    assert state.cal_version == "2"  # the newest version with data
    a, b, c = state.cal_criteria
    assert (a.criterion, a.scale, a.n, a.mad, a.within_one, a.signed) == ("A", "1–5", 3, "0.67", "67%", "+0.67 (AI higher)")
    assert (b.mad, b.signed, b.recent_n, b.drift, b.drift_label) == ("0.83", "+0.50 (AI higher)", 3, "too_few", "Too few to tell")
    assert (c.n, c.mad, c.within_one, c.signed) == (0, "—", "—", "—")
    assert state.cal_chart == [
        {"criterion": "A", "all": 0.67, "recent": 0.67},
        {"criterion": "B", "all": 0.83, "recent": 0.83},
        {"criterion": "C", "all": None, "recent": None},
    ]
    assert state.cal_summary.startswith(f"{t.title} · Version 2: 3 interviews with a finished AI evaluation")

    run(state, "set_cal_version", value="1")
    assert state.cal_version == "1" and state.cal_criteria[0].signed == "-4.00 (AI lower)"
    run(state, "set_cal_version", value="7")  # not a version with data: nothing changes
    assert state.cal_version == "1"
    run(state, "set_cal_version", value="none")
    assert state.cal_criteria[0].mad == "0.00" and "Before versions" in state.cal_summary

    filename, text = _download_text(run(state, "download_csv"))
    assert filename.startswith(f"calibration-template-{t.id}-") and filename.endswith(".csv")
    assert text == export_csv(session, t.id) and len(_rows(text)) == 1 + 5  # every version of the template
    filename, text = _download_text(run(state, "download_interviews_csv"))
    assert filename.startswith(f"calibration-interviews-template-{t.id}-") and len(_rows(text)) == 1 + 8


def test_the_page_says_what_is_needed_when_nothing_can_be_compared(people: dict[str, str], app_db: sa.Engine, session: Session) -> None:  # noqa: F811
    if app_db.dialect.name != "sqlite":
        pytest.skip("the run's PostgreSQL database is shared: other tests' scorecards may be in it")
    t = _template(session, "A")
    _interview(session, t, version=1, ai={"A": 3}, cards=[], ended=T0)  # an AI evaluation but no scorecard
    session.commit()
    state = state_for(CalibrationState, people["reviewer"], path="/admin/calibration")
    run(state, "load")
    assert state.cal_loaded and state.cal_empty and state.cal_criteria == [] and state.cal_template == ""
    assert run(state, "download_csv") is None  # no file, a notice instead
    assert "nothing to download" in state.notice_message and state.notice_kind == "info"


def test_the_page_builds_with_its_element_ids_and_both_roles_get_the_nav_link() -> None:
    import reflex as rx

    from interview_app import routes
    from interview_app.components.admin import admin_page
    from interview_app.pages.admin.calibration import EMPTY, calibration_page

    rendered = json.dumps(calibration_page().render(), default=str)
    for marker in (
        "calibration-template",
        "calibration-version",
        "calibration-table",
        "calibration-chart",
        "calibration-csv",
        "calibration-empty",
        "drift-badge",
    ):
        assert marker in rendered, marker
    assert EMPTY.startswith("No interviews have both an AI evaluation and a human scorecard yet.")
    assert "forbidden" not in rendered  # not an admin-only page
    nav = json.dumps(admin_page("x", rx.text("y")).render(), default=str).replace('\\"', '"')
    assert routes.ADMIN_CALIBRATION == "/admin/calibration" and '"/admin/calibration"' in nav
    # Next to Overview's, and not behind the admin-only condition that Templates' link is behind.
    between = nav[nav.index('"/admin/overview"') : nav.index('"/admin/calibration"')]
    assert "can_edit" not in between and "can_edit" in nav[nav.index('"/admin/calibration"') : nav.index('"/admin/templates"')]
