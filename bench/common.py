"""What every benchmark shares: percentiles, a throwaway PostgreSQL database, the results file."""

from __future__ import annotations

import json
import math
import os
import platform
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Figure:
    """One row of the table: a measured value, its baseline, and the target on their ratio."""

    bench: str
    name: str
    value: float
    baseline: float | None
    unit: str
    target: str  # e.g. "ratio <= 2.0" or "value <= 15"
    met: bool | None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0) or self.value is None:
            return None
        return self.value / self.baseline  # type: ignore[operator]


@dataclass
class BenchResult:
    bench: str
    figures: list[Figure] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    error: str = ""

    def add(
        self,
        name: str,
        value: float,
        baseline: float | None,
        unit: str,
        *,
        max_ratio: float | None = None,
        min_ratio: float | None = None,
        max_value: float | None = None,
        note: str = "",
    ) -> Figure:
        ratio = value / baseline if baseline else None
        checks, targets = [], []
        if max_ratio is not None:
            targets.append(f"ratio <= {max_ratio:g}")
            checks.append(ratio is not None and ratio <= max_ratio)
        if min_ratio is not None:
            targets.append(f"ratio >= {min_ratio:g}")
            checks.append(ratio is not None and ratio >= min_ratio)
        if max_value is not None:
            targets.append(f"value <= {max_value:g} {unit}")
            checks.append(value <= max_value)
        figure = Figure(self.bench, name, value, baseline, unit, " and ".join(targets), all(checks) if checks else None, note)
        self.figures.append(figure)
        return figure


def table(results: list[BenchResult]) -> str:
    lines = [f"{'bench':5} {'figure':44} {'value':>10} {'baseline':>10} {'ratio':>7}  {'target':28} met"]
    for result in results:
        if result.error:
            lines.append(f"{result.bench:5} ERROR: {result.error}")
        for f in result.figures:
            base = "" if f.baseline is None else f"{f.baseline:10.2f}"
            ratio = "" if f.ratio is None else f"{f.ratio:7.2f}"
            met = {True: "yes", False: "NO", None: "-"}[f.met]
            lines.append(f"{f.bench:5} {f.name + ' [' + f.unit + ']':44} {f.value:10.2f} {base:>10} {ratio:>7}  {f.target:28} {met}")
    return "\n".join(lines)


def write_results(results: list[BenchResult], path: Path | None = None) -> Path:
    """Merge these results into bench/results/latest.json (a bench run alone keeps the others' figures)."""
    path = path or RESULTS_DIR / "latest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = json.loads(path.read_text())
        except ValueError:
            data = {}
    data.setdefault("benchmarks", {})
    for r in results:
        data["benchmarks"][r.bench] = {
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "seconds": round(r.seconds, 1),
            "error": r.error,
            "figures": [{**asdict(f), "ratio": f.ratio} for f in r.figures],
            "raw": r.raw,
        }
    data["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


@contextmanager
def throwaway_pg_database(prefix: str) -> Iterator[str]:
    """Create a fresh PostgreSQL database, yield its URL, drop it afterwards (even on errors)."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def migrate(url: str) -> None:
    """The production schema: the project's Alembic migrations."""
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.attributes["database_url"] = url
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")


def ms(seconds: float) -> float:
    return seconds * 1000.0


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 60.0, proc: Any = None) -> None:
    """Poll ``url`` until it answers (any status below 500); RuntimeError on timeout or if ``proc`` died."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: the server process exited with {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status < 500:
                    return
        except urllib.error.HTTPError as err:
            if err.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def stop_process(proc: Any, timeout: float = 10.0) -> None:
    """SIGTERM the process group we started (start_new_session=True), then SIGKILL it if it lingers."""
    import signal
    import subprocess

    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)
    except ProcessLookupError:
        pass


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds used so far by the live processes of one process group (Linux /proc).

    CPU time per request is what a shared, noisy machine measures best: other people's load
    changes how long a request waits, much less how much CPU it takes.
    """
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        # after "pid (comm)": state ppid pgrp session ... utime is field 14, stime 15 (1-based)
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / tick
