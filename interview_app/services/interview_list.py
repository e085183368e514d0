"""The admin's interview list: filters, search, keyset pagination on (created_at, id), CSV export, detail.

Pages are cut with ``(created_at, id) < (cursor)`` in the order of the
``ix_interview_created_id`` / ``ix_interview_status_created`` indexes, so page N
costs the same as page 1 however many rows exist (no OFFSET).
"""

from __future__ import annotations

import base64
import csv
import io
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from interview_app.contracts import InterviewMode
from interview_app.models import AccommodationRequest, Candidate, Interview, InterviewEvent, InterviewStatus, InterviewTemplate, Scorecard
from interview_app.services.interviews import as_aware, interview_language
from interview_app.services.scorecards import BLIND_NAME, Reviewer, is_blind, mask_name
from interview_app.services.templates import language_label

PAGE_SIZE = 25
EXPORT_LIMIT = 100_000


@dataclass(frozen=True)
class ListFilters:
    status: str = ""
    template_id: int | None = None
    created_from: date | None = None  # inclusive (UTC day)
    created_to: date | None = None  # inclusive (UTC day)
    search: str = ""  # part of the candidate's name or email
    #: The signed-in person when they are a reviewer (role reviewer): interviews of blind-review
    #: templates they have not scored show no name or email, and the search never matches them.
    blind_viewer_id: int | None = None


@dataclass(frozen=True)
class InterviewRow:
    id: str
    candidate_name: str
    candidate_email: str
    template_title: str
    status: str
    created_at: str
    updated_at: str
    #: The candidate's accommodation request: "" (none) | requested | granted | declined (the list's badge).
    accommodation: str = ""


@dataclass
class ListPage:
    rows: list[InterviewRow] = field(default_factory=list)
    next_cursor: str = ""  # empty on the last page


def parse_day(text: str) -> date | None:
    """``YYYY-MM-DD`` (as an <input type=date> sends it) or None; ValueError on anything else."""
    text = (text or "").strip()
    return date.fromisoformat(text) if text else None


def encode_cursor(created_at: datetime, interview_id: uuid.UUID) -> str:
    raw = f"{as_aware(created_at).isoformat()}|{interview_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID] | None:
    try:
        stamp, ident = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return as_aware(datetime.fromisoformat(stamp)), uuid.UUID(ident)
    except (ValueError, UnicodeDecodeError):
        return None


#: The interview table's columns (their types bind the keyset cursor's values).
_COLUMNS = sa.inspect(Interview).c


def _filtered(stmt: sa.Select, filters: ListFilters) -> sa.Select:
    if filters.status and filters.status in {s.value for s in InterviewStatus}:
        stmt = stmt.where(col(Interview.status) == filters.status)
    if filters.template_id:
        stmt = stmt.where(col(Interview.template_id) == filters.template_id)
    if filters.created_from:
        stmt = stmt.where(col(Interview.created_at) >= datetime.combine(filters.created_from, time.min, UTC))
    if filters.created_to:
        stmt = stmt.where(col(Interview.created_at) < datetime.combine(filters.created_to + timedelta(days=1), time.min, UTC))
    term = filters.search.strip().lower()
    if term:
        like = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matching = select(Candidate.id).where(
            sa.or_(sa.func.lower(col(Candidate.name)).like(like, escape="\\"), col(Candidate.email).like(like, escape="\\"))
        )
        stmt = stmt.where(col(Interview.candidate_id).in_(matching))
        if filters.blind_viewer_id is not None:  # a name search must not tell a blind reviewer who is who
            stmt = stmt.where(sa.not_(_hidden(filters.blind_viewer_id)))
    return stmt


def _hidden(viewer_id: int | None) -> sa.ColumnElement[bool]:
    """True for a row whose candidate the viewer may not see yet (blind review, not scored by them)."""
    if viewer_id is None:
        return sa.false()
    scored = sa.exists().where(col(Scorecard.interview_id) == col(Interview.id), col(Scorecard.reviewer_id) == viewer_id)
    return sa.and_(col(InterviewTemplate.blind_review).is_(True), sa.not_(scored))


def _base(filters: ListFilters) -> sa.Select:
    # The accommodation request (at most one per interview, unique index) is an outer join of the
    # same query: the page stays one query, and a row without a request gets NULL.
    # sqlalchemy's select (sqlmodel's is typed for at most four columns), so run with session.execute.
    return (
        sa.select(
            Interview,
            col(Candidate.name),
            col(Candidate.email),
            col(InterviewTemplate.title),
            col(AccommodationRequest.status),
            _hidden(filters.blind_viewer_id).label("hidden"),
        )
        .join(Candidate, col(Candidate.id) == col(Interview.candidate_id))
        .join(InterviewTemplate, col(InterviewTemplate.id) == col(Interview.template_id))
        .outerjoin(AccommodationRequest, col(AccommodationRequest.interview_id) == col(Interview.id))
    )


def _row(interview: Interview, name: str, email: str, title: str, accommodation: str | None, hidden: bool = False) -> InterviewRow:
    return InterviewRow(
        id=str(interview.id),
        candidate_name=BLIND_NAME if hidden else name,
        candidate_email="" if hidden else email,
        template_title=title,
        status=interview.status,
        created_at=as_aware(interview.created_at).strftime("%Y-%m-%d %H:%M"),
        updated_at=as_aware(interview.updated_at).strftime("%Y-%m-%d %H:%M"),
        accommodation=accommodation or "",
    )


def list_interviews(session: Session, filters: ListFilters, *, cursor: str = "", limit: int = PAGE_SIZE) -> ListPage:
    """One page, newest first; ``cursor`` is the ``next_cursor`` of the previous page."""
    stmt = _filtered(_base(filters), filters)
    after = decode_cursor(cursor) if cursor else None
    if after is not None:
        stmt = stmt.where(
            sa.tuple_(Interview.created_at, Interview.id)
            < sa.tuple_(sa.literal(after[0], _COLUMNS.created_at.type), sa.literal(after[1], _COLUMNS.id.type))
        )
    stmt = stmt.order_by(col(Interview.created_at).desc(), col(Interview.id).desc()).limit(limit + 1)
    results = session.execute(stmt).all()
    page = ListPage(rows=[_row(*r) for r in results[:limit]])
    if len(results) > limit:
        last = results[limit - 1][0]
        page.next_cursor = encode_cursor(last.created_at, last.id)
    return page


def current_statuses(session: Session, interview_ids: list[str]) -> dict[str, str]:
    """Status of each listed interview, by primary key (what the live list polls)."""
    keys = []
    for raw in interview_ids[:200]:
        try:
            keys.append(uuid.UUID(raw))
        except ValueError:
            continue
    if not keys:
        return {}
    rows = session.exec(select(Interview.id, Interview.status).where(col(Interview.id).in_(keys))).all()
    return {str(i): s for i, s in rows}


EXPORT_COLUMNS = (
    "interview_id",
    "candidate_name",
    "candidate_email",
    "template",
    "status",
    "created_at",
    "started_at",
    "ended_at",
    "end_reason",
)


#: What starts a formula in Excel / LibreOffice / Google Sheets (and their full-width forms).
_FORMULA_START = "=+-@\uff1d\uff0b\uff0d\uff20"
#: Cell separators a spreadsheet may split a CSV line on, depending on locale and import dialog.
_SEPARATORS = ",;\t|"
_FORMULA_CELL = re.compile(rf"(^|[{re.escape(_SEPARATORS)}\r\n])([\s\"']*)([{re.escape(_FORMULA_START)}])")


def _csv_safe(value: str) -> str:
    """Keep spreadsheet apps from running any part of a value as a formula (CSV injection).

    Not only the first character: opened with ``;`` (or tab, ``|``) as the list separator,
    ``Bob;=1+1;x`` is three cells and the second one a formula. Every place a cell could start —
    the value's start and after any separator or line break — that begins (after blanks or
    quotes) with a formula character gets a ``'`` before that character, which makes it text.
    """
    return _FORMULA_CELL.sub(lambda m: f"{m.group(1)}{m.group(2)}'{m.group(3)}", value)


def iter_export_rows(session: Session, filters: ListFilters, *, limit: int = EXPORT_LIMIT, batch: int = 1000) -> Iterator[list[str]]:
    """Rows of the filtered list for CSV, fetched page by page with the same keyset."""
    cursor, sent = "", 0
    while sent < limit:
        stmt = _filtered(_base(filters), filters)
        after = decode_cursor(cursor) if cursor else None
        if after is not None:
            stmt = stmt.where(
                sa.tuple_(Interview.created_at, Interview.id)
                < sa.tuple_(sa.literal(after[0], _COLUMNS.created_at.type), sa.literal(after[1], _COLUMNS.id.type))
            )
        results = session.execute(
            stmt.order_by(col(Interview.created_at).desc(), col(Interview.id).desc()).limit(min(batch, limit - sent))
        ).all()
        for interview, name, email, title, _accommodation, hidden in results:
            yield [
                str(interview.id),
                BLIND_NAME if hidden else _csv_safe(name),
                "" if hidden else _csv_safe(email),
                _csv_safe(title),
                interview.status,
                as_aware(interview.created_at).isoformat(),
                as_aware(interview.started_at).isoformat() if interview.started_at else "",
                as_aware(interview.ended_at).isoformat() if interview.ended_at else "",
                _csv_safe(interview.end_reason or ""),
            ]
        sent += len(results)
        if len(results) < batch:
            return
        last = results[-1][0]
        cursor = encode_cursor(last.created_at, last.id)


def export_csv(session: Session, filters: ListFilters, *, limit: int = EXPORT_LIMIT) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for row in iter_export_rows(session, filters, limit=limit):
        writer.writerow(row)
    return out.getvalue()


# --- detail ------------------------------------------------------------------


@dataclass
class InterviewDetail:
    id: str
    status: str
    mode: InterviewMode
    candidate_name: str
    candidate_email: str
    candidate_ref: str
    template_title: str
    template_id: int
    created_at: str
    invite_expires_at: str
    started_at: str
    ended_at: str
    end_reason: str
    events: list[dict[str, str]] = field(default_factory=list)
    #: ``Español (es)``: the candidate's chosen language, else the template's.
    language: str = ""
    #: Blind review: the viewer may not see who the candidate is yet (name, email, reference masked).
    blind: bool = False
    #: The hiring decision (advance | hold | decline; "" while none) and who made it when.
    decision: str = ""
    decision_by: str = ""
    decision_at: str = ""
    #: ``v2`` (``v2 of 3`` when the template has moved on); "" when not recorded.
    template_version: str = ""


def _fmt(value: datetime | None) -> str:
    return as_aware(value).strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def _describe(event: InterviewEvent) -> str:
    d = event.detail or {}
    if event.kind == "status_changed":
        text = f"{d.get('from', '?')} → {d.get('to', '?')}"
        return f"{text} ({d['reason']})" if d.get("reason") else text
    parts = [
        f"{k}: {' + '.join(map(str, v)) if isinstance(v, list) else v}"
        for k, v in d.items()
        if k not in ("expires_at",) and v not in ("", None, [])
    ]
    return ", ".join(parts)


def _masked(text: str, name: str, email: str) -> str:
    return mask_name(text.replace(email, "[email]") if email else text, name)


def interview_detail(session: Session, interview_id: str, *, viewer: Reviewer | None = None) -> InterviewDetail | None:
    """The interview's summary and timeline; masked for a ``viewer`` under blind review (services/scorecards.is_blind)."""
    try:
        key = uuid.UUID(interview_id)
    except (ValueError, TypeError):
        return None
    interview = session.get(Interview, key)
    if interview is None:
        return None
    candidate = session.get(Candidate, interview.candidate_id)
    template = session.get(InterviewTemplate, interview.template_id)
    events = session.exec(
        select(InterviewEvent).where(InterviewEvent.interview_id == key).order_by(col(InterviewEvent.at), col(InterviewEvent.id))
    ).all()
    blind = viewer is not None and is_blind(session, interview, viewer)
    name, email = (candidate.name, candidate.email) if candidate else ("", "")
    timeline = [{"at": _fmt(e.at), "kind": e.kind.replace("_", " "), "actor": e.actor, "detail": _describe(e)} for e in events]
    if blind:
        timeline = [{**row, "actor": _masked(row["actor"], name, email), "detail": _masked(row["detail"], name, email)} for row in timeline]
    version = ""
    if interview.template_version is not None:
        version = f"v{interview.template_version}"
        if template is not None and template.version != interview.template_version:
            version += f" of {template.version}"
    return InterviewDetail(
        id=str(interview.id),
        status=interview.status,
        mode=interview.mode,
        candidate_name=BLIND_NAME if blind else name,
        candidate_email="hidden (blind review)" if blind else email,
        candidate_ref=("hidden (blind review)" if candidate and candidate.external_ref else "")
        if blind
        else (candidate.external_ref if candidate else ""),
        template_title=template.title if template else "",
        template_id=interview.template_id,
        created_at=_fmt(interview.created_at),
        invite_expires_at=_fmt(interview.invite_expires_at),
        started_at=_fmt(interview.started_at),
        ended_at=_fmt(interview.ended_at),
        end_reason=interview.end_reason or "",
        language=language_label(interview_language(interview, template)),
        events=timeline,
        blind=blind,
        decision=interview.decision or "",
        decision_by=interview.decision_by,
        decision_at=_fmt(interview.decision_at),
        template_version=version,
    )
