"""Candidates: create, edit, delete, and bulk import from CSV (bad rows reported, good rows imported)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlmodel import Session, col, func, select

from interview_app.models import Candidate, Interview
from interview_app.services.auth import AccountError, normalize_email

MAX_IMPORT_ROWS = 5000


class CandidateError(ValueError):
    """The candidate cannot be saved or deleted; the message says why and what to do."""


def _clean(name: str, email: str, external_ref: str) -> tuple[str, str, str]:
    name = (name or "").strip()
    if not name:
        raise CandidateError("Enter the candidate's name.")
    if len(name) > 200:
        raise CandidateError("The name is longer than 200 characters; shorten it.")
    if not (email or "").strip():
        raise CandidateError("The email is missing. Enter the candidate's email, e.g. name@example.com.")
    try:
        email = normalize_email(email or "")
    except AccountError as err:
        raise CandidateError(f"{err} Enter the candidate's email, e.g. name@example.com.") from None
    external_ref = (external_ref or "").strip()
    if len(external_ref) > 200:
        raise CandidateError("The external reference is longer than 200 characters; shorten it.")
    return name, email, external_ref


def _email_taken(session: Session, email: str, exclude_id: int | None = None) -> bool:
    stmt = select(Candidate.id).where(Candidate.email == email)
    if exclude_id is not None:
        stmt = stmt.where(Candidate.id != exclude_id)
    return session.exec(stmt).first() is not None


def create_candidate(session: Session, name: str, email: str, external_ref: str = "") -> Candidate:
    """Add a candidate (caller commits). Raises CandidateError on bad input or a taken email."""
    name, email, external_ref = _clean(name, email, external_ref)
    if _email_taken(session, email):
        raise CandidateError(f"A candidate with the email {email} already exists; edit that one instead.")
    candidate = Candidate(name=name, email=email, external_ref=external_ref)
    session.add(candidate)
    session.flush()
    return candidate


def update_candidate(session: Session, candidate_id: int, name: str, email: str, external_ref: str = "") -> Candidate:
    candidate = session.get(Candidate, candidate_id)
    if candidate is None:
        raise CandidateError("That candidate no longer exists. Reload the page.")
    name, email, external_ref = _clean(name, email, external_ref)
    if _email_taken(session, email, exclude_id=candidate_id):
        raise CandidateError(f"Another candidate already has the email {email}.")
    candidate.name, candidate.email, candidate.external_ref = name, email, external_ref
    session.add(candidate)
    session.flush()
    return candidate


def delete_candidate(session: Session, candidate_id: int) -> None:
    """Delete a candidate who has no interviews (their interviews are the audit record)."""
    candidate = session.get(Candidate, candidate_id)
    if candidate is None:
        return
    interviews = session.exec(select(func.count()).select_from(Interview).where(Interview.candidate_id == candidate_id)).one()
    if interviews:
        raise CandidateError(
            f"{candidate.name} has {interviews} interview{'s' if interviews != 1 else ''}, which are kept as the record; "
            "the candidate cannot be deleted. Revoke open invitations instead."
        )
    session.delete(candidate)
    session.flush()


def list_candidates(session: Session, search: str = "", limit: int = 200) -> list[tuple[Candidate, int]]:
    """Newest candidates first (optionally filtered by name/email), with their interview counts."""
    counts = select(Interview.candidate_id, func.count().label("n")).group_by(col(Interview.candidate_id)).subquery()
    stmt = (
        select(Candidate, func.coalesce(counts.c.n, 0))
        .join(counts, counts.c.candidate_id == Candidate.id, isouter=True)
        .order_by(col(Candidate.created_at).desc(), col(Candidate.id).desc())
        .limit(limit)
    )
    if search.strip():
        like = f"%{search.strip().lower()}%"
        stmt = stmt.where(func.lower(col(Candidate.name)).like(like) | col(Candidate.email).like(like))
    return [(c, int(n)) for c, n in session.exec(stmt).all()]


@dataclass
class ImportReport:
    imported: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number in the file, reason)


_NAME_KEYS = ("name", "full name", "full_name", "candidate", "candidate name")
_EMAIL_KEYS = ("email", "e-mail", "email address", "mail")
_REF_KEYS = ("external_ref", "external ref", "reference", "ref", "id", "external id")


def _pick(row: dict[str, str], keys: tuple[str, ...]) -> str:
    for key in keys:
        if row.get(key):
            return row[key]
    return ""


def import_csv(session: Session, data: bytes) -> ImportReport:
    """Import candidates from CSV with a header row (name, email, optional external_ref).

    Each good row is saved; each bad row is reported with its line number and reason.
    The caller commits.
    """
    report = ImportReport()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        report.errors.append((0, "The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again."))
        return report
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    headers = [h.strip().lower() for h in header or []]
    if not header or not any(h in _NAME_KEYS for h in headers) or not any(h in _EMAIL_KEYS for h in headers):
        report.errors.append((1, "The first line must be a header naming the columns: name,email (and optionally external_ref)."))
        return report
    seen: set[str] = set()
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if line > MAX_IMPORT_ROWS + 1:
            report.errors.append((line, f"Only {MAX_IMPORT_ROWS} rows are imported at once; split the file and upload the rest."))
            break
        if len(values) > len(headers):
            report.errors.append(
                (line, f"The row has {len(values)} fields but the header names {len(headers)}; check for a stray separator.")
            )
            continue
        row = dict(zip(headers, (v.strip() for v in values), strict=False))
        try:
            name, email, ref = _clean(_pick(row, _NAME_KEYS), _pick(row, _EMAIL_KEYS), _pick(row, _REF_KEYS))
        except CandidateError as err:
            report.errors.append((line, str(err)))
            continue
        if email in seen:
            report.errors.append((line, f"{email} appears earlier in the file; the row was skipped."))
            continue
        if _email_taken(session, email):
            report.errors.append((line, f"A candidate with the email {email} already exists; the row was skipped."))
            continue
        seen.add(email)
        session.add(Candidate(name=name, email=email, external_ref=ref))
        report.imported += 1
    session.flush()
    return report
