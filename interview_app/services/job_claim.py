"""Claiming the next due row of a durable job table, once across threads and processes.

The webhook delivery queue (``webhook_delivery``) and the evaluation queue (``evaluation``) are
tables whose rows are jobs: ``status``, ``attempts`` and ``updated_at`` say where each one is, and
a row left in the working status by a process that died becomes due again after a lease (each
queue's own ``due`` condition says when). :func:`claim_due` hands one due row to one caller.

Framework-free: no reflex import.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from interview_app.db import affected_rows

Job = TypeVar("Job", bound=SQLModel)

#: Due rows an SQLite caller tries in turn when another caller takes the first ones.
SQLITE_CANDIDATES = 10


def claim_due(session: Session, model: type[Job], due: Any, order: Sequence[Any], *, status: str, now: datetime) -> Job | None:
    """Mark the first due row of ``model`` ``status`` (``attempts`` + 1, ``updated_at`` = ``now``) and commit; the row, or None.

    ``due`` is the queue's WHERE condition and ``order`` its ORDER BY. The table needs ``id``,
    ``status``, ``attempts`` and ``updated_at`` columns. On PostgreSQL the row is read with
    ``SELECT … FOR UPDATE SKIP LOCKED``, so concurrent callers pass over it; SQLite has no row
    locks, so the claim is an UPDATE that only matches the row as it was read, and a caller that
    loses the race tries the next of the first :data:`SQLITE_CANDIDATES` due rows.
    """
    columns = sa.inspect(model).columns
    id_, status_, attempts_ = columns["id"], columns["status"], columns["attempts"]
    query = select(id_, status_, attempts_).where(due).order_by(*order)
    if session.get_bind().dialect.name == "postgresql":
        query = query.limit(1).with_for_update(skip_locked=True)
    else:
        query = query.limit(SQLITE_CANDIDATES)
    for row_id, row_status, row_attempts in session.exec(query).all():
        result = session.execute(
            sa.update(model)
            .where(id_ == row_id, status_ == row_status, attempts_ == row_attempts)
            .values(status=status, attempts=row_attempts + 1, updated_at=now)
        )
        session.commit()
        if affected_rows(result) == 1 and (claimed := session.get(model, row_id, populate_existing=True)) is not None:
            return claimed
    return None


__all__ = ["claim_due"]
