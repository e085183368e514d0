"""Reliability and security suite: shared pieces.

- ``ApiServer``: the app's FastAPI routes served by uvicorn in a child process on 127.0.0.1
  (start, SIGKILL, restart) against a database we choose.
- ``db_snapshot``: row counts and a content digest of every table, to prove that a refused
  request wrote nothing.
- ``figure(name, value)``: a measured figure; all figures are printed one per line at the end
  of the run (``make reliability`` shows them; docs/RELIABILITY.md lists the latest).
- Tests marked ``reliability_slow`` run only with ``RELIABILITY_FULL=1`` (``make reliability``);
  ``make test`` runs the fast subset.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

import interview_app.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from tests.conftest import migrate_to
from tests.e2e.conftest import browser, page  # noqa: F401  (Chromium fixtures for the served-app tests)

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")
FIGURES: list[tuple[str, str]] = []
FULL = os.environ.get("RELIABILITY_FULL", "") == "1"


def figure(name: str, value: object) -> None:
    """Record one measured figure for the end-of-run summary."""
    FIGURES.append((name, str(value)))


def pytest_terminal_summary(terminalreporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for name, value in FIGURES:
        terminalreporter.write_line(f"{name}: {value}")
    out = os.environ.get("RELIABILITY_FIGURES_FILE")
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text("".join(f"{n}: {v}\n" for n, v in FIGURES))


def run_coroutine(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on a fresh loop in its own thread.

    ``asyncio.run`` refuses to run where a loop is already running, which is the case
    in the main thread once Playwright's sync API (the e2e session fixtures) has started.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def db_snapshot(url: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and a digest of its rows (order-independent)."""
    engine = sa.create_engine(url)
    snap: dict[str, tuple[int, str]] = {}
    try:
        with engine.connect() as conn:
            for table in SQLModel.metadata.sorted_tables:
                rows = sorted(repr(tuple(r)) for r in conn.execute(sa.select(table)))
                snap[table.name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16])
    finally:
        engine.dispose()
    return snap


class ApiServer:
    """``uvicorn --factory interview_app.api:create_api`` in a child process (own process group)."""

    def __init__(self, env: dict[str, str], port: int | None = None, *, workers: int = 1) -> None:
        self.port = port or free_port()
        self.env = env
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = Path(env.get("RELIABILITY_LOG_DIR", "/tmp")) / f"uvicorn-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> float:
        """Start and wait for /healthz; returns the seconds it took."""
        t0 = time.monotonic()
        cmd = [sys.executable, "-m", "uvicorn", "--factory", "interview_app.api:create_api", "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port), "--log-level", "warning", "--workers", str(self.workers)]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = t0 + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app server exited:\n{self.log.read_text(errors='replace')[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return time.monotonic() - t0
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"app server did not answer /healthz within {timeout} s")

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown handlers run."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'reliability.db'}"
    migrate_to(url)
    return url


@pytest.fixture
def server_env(tmp_path: Path) -> dict[str, str]:
    """Environment for an app child process (the test adds DATABASE_URL and LIVEKIT_*)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "PYTEST_"))}
    env.update(
        {
            "ENV_FILE": str(tmp_path / "none.env"),
            "STORAGE_BACKEND": "local",
            "STORAGE_LOCAL_DIR": str(tmp_path / "storage"),
            "RELIABILITY_LOG_DIR": str(tmp_path),
            "SECRET_KEY": "reliability-secret-key-" + "z" * 40,
        }
    )
    return env


@pytest.fixture
def api_server_factory() -> Iterator:
    servers: list[ApiServer] = []

    def make(env: dict[str, str], **kw) -> ApiServer:
        srv = ApiServer(env, **kw)
        servers.append(srv)
        return srv

    yield make
    for srv in servers:
        srv.stop()
