"""Counting the SQL statements a process sends to its database (P4 production layout, P7).

pg_stat_statements is installed on this machine's PostgreSQL but not preloaded, and restarting a
shared server for a benchmark is not an option, so the count happens on the client side:
SQLAlchemy's ``before/after_cursor_execute`` events on the app's own engine see every statement
the app's code sends (ORM and Core alike), with its wall time from the client's side (round trip
included), and ``commit`` counts transactions. An ``executemany`` is one call (one round trip
batch), as the driver sends it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

KINDS = ("SELECT", "INSERT", "UPDATE", "DELETE")


@dataclass
class StatementTally:
    """Statements by kind (SELECT, INSERT, UPDATE, DELETE, other), their client-side time, and commits."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    commits: int = 0

    @property
    def statements(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {"statements": self.statements, "by_kind": dict(self.counts), "ms": round(self.seconds * 1000, 2), "commits": self.commits}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> StatementTally:
        return StatementTally(counts=dict(data["by_kind"]), seconds=data["ms"] / 1000, commits=data["commits"])

    def minus(self, earlier: StatementTally) -> StatementTally:
        kinds = set(self.counts) | set(earlier.counts)
        return StatementTally(
            counts={
                k: self.counts.get(k, 0) - earlier.counts.get(k, 0) for k in kinds if self.counts.get(k, 0) != earlier.counts.get(k, 0)
            },
            seconds=self.seconds - earlier.seconds,
            commits=self.commits - earlier.commits,
        )


class StatementCounter:
    """Attach to an engine; ``snapshot()`` is a copy of the running totals (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tally = StatementTally()

    def attach(self, engine: sa.Engine) -> StatementCounter:
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)
        sa.event.listen(engine, "commit", self._commit)
        return self

    def _before(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        took = time.perf_counter() - conn.info["bench_started"].pop()
        words = statement.lstrip().split(None, 1)
        kind = words[0].upper() if words else "other"
        if kind == "WITH":  # a CTE: name it by what it does at the end
            kind = next((k for k in KINDS if k in statement.upper()), "SELECT")
        kind = kind if kind in KINDS else "other"
        with self._lock:
            self._tally.counts[kind] = self._tally.counts.get(kind, 0) + 1
            self._tally.seconds += took

    def _commit(self, conn: Any) -> None:
        with self._lock:
            self._tally.commits += 1

    def snapshot(self) -> StatementTally:
        with self._lock:
            return StatementTally(counts=dict(self._tally.counts), seconds=self._tally.seconds, commits=self._tally.commits)
