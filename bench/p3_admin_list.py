"""P3 — admin list scaling: the admin page's list queries at SMALL and LARGE interview counts.

Both databases exist at once and the queries alternate between them, so machine noise hits
both sides alike; the figure is p95(large) / p95(small) per query.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bench.common import BenchResult, migrate, ms, percentile, throwaway_pg_database
from bench.seed import candidate_email_part, seed
from interview_app.db import make_engine
from interview_app.models import Interview
from interview_app.services import interview_list as il

BROAD_TERM = "surname042"  # a surname 1 % of candidates share (see bench.seed)
NARROW_TERM = candidate_email_part(137)  # one candidate's email, as an admin looking for a person types it


def _queries() -> dict[str, il.ListFilters]:
    return {
        "list": il.ListFilters(),
        "status=completed": il.ListFilters(status="completed"),
        "status=processing": il.ListFilters(status="processing"),
        f"search '{NARROW_TERM}'": il.ListFilters(search=NARROW_TERM),
        f"search '{BROAD_TERM}'": il.ListFilters(search=BROAD_TERM),
    }


def _deep_cursor(session: Session, filters: il.ListFilters, fraction: float = 0.75) -> str:
    """The cursor of the page ``fraction`` of the way through this list (found once, untimed)."""
    count = session.exec(il._filtered(select(sa.func.count()).select_from(Interview), filters)).one()
    offset = int(count * fraction)
    if offset < 1:
        return ""
    stmt = (
        il._filtered(il._base(filters), filters)
        .order_by(col(Interview.created_at).desc(), col(Interview.id).desc())
        .offset(offset - 1)
        .limit(1)
    )
    row = session.execute(stmt).first()
    return il.encode_cursor(row[0].created_at, row[0].id) if row else ""


def run(small: int = 1_000, large: int = 1_000_000, rounds: int = 150) -> BenchResult:
    result = BenchResult("p3")
    with throwaway_pg_database("bench_p3_small") as small_url, throwaway_pg_database("bench_p3_large") as large_url:
        engines = {}
        for label, url, n in (("small", small_url, small), ("large", large_url, large)):
            migrate(url)
            result.raw[f"seed_{label}"] = {"interviews": n, **{k: round(v, 2) for k, v in seed(url, n).items()}}
            engines[label] = make_engine(url)
        try:
            cases: list[tuple[str, il.ListFilters, dict[str, str]]] = []
            for name, filters in _queries().items():
                cursors = {}
                for label, engine in engines.items():
                    with Session(engine) as session:
                        cursors[label] = _deep_cursor(session, filters)
                cases.append((f"{name} first page", filters, dict.fromkeys(engines, "")))
                cases.append((f"{name} page at 3/4", filters, cursors))
            samples: dict[str, dict[str, list[float]]] = {c[0]: {"small": [], "large": []} for c in cases}
            rows: dict[str, dict[str, int]] = {c[0]: {} for c in cases}
            for i in range(rounds + 5):  # 5 warm-up rounds, not recorded
                for name, filters, cursors in cases:
                    for label in ("small", "large") if i % 2 else ("large", "small"):
                        with Session(engines[label]) as session:
                            t0 = time.perf_counter()
                            page = il.list_interviews(session, filters, cursor=cursors[label])
                            elapsed = time.perf_counter() - t0
                        rows[name][label] = len(page.rows)
                        if i >= 5:
                            samples[name][label].append(ms(elapsed))
            for name, _, _ in cases:
                p_small = percentile(samples[name]["small"], 95)
                p_large = percentile(samples[name]["large"], 95)
                result.add(
                    f"{name} p95 @{large:,} vs @{small:,}",
                    p_large,
                    p_small,
                    "ms",
                    max_ratio=2.0,
                    note=f"rows/page {rows[name]['large']} vs {rows[name]['small']}",
                )
                result.raw.setdefault("p50_ms", {})[name] = {
                    "small": percentile(samples[name]["small"], 50),
                    "large": percentile(samples[name]["large"], 50),
                }
        finally:
            for engine in engines.values():
                engine.dispose()
    return result


def smoke() -> dict[str, Any]:
    """The same code path at a trivial size (tests/test_bench_smoke.py)."""
    return {"result": run(small=20, large=100, rounds=2)}
