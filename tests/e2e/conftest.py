"""The app served as in production (`reflex run --env prod`, one port) and headless Chromium.

One app process per test session: starting it costs about 10 s (frontend build).
Its database is a fresh SQLite file, migrated and seeded with the demo data;
``served_app.demo`` holds what `seed-demo --json` printed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ServedApp:
    url: str
    env: dict[str, str]
    database_url: str
    demo: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    project: Path = ROOT
    startup_log: str = ""  # what the app printed until it first answered

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run `python -m interview_app.cli ...` against the served app's database."""
        return subprocess.run(
            [sys.executable, "-m", "interview_app.cli", *args],
            cwd=self.project,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )

    def log_tail(self, n: int = 60) -> str:
        if self.log_path and self.log_path.exists():
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        return ""


def app_env(tmp: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "PYTEST_"))}
    tools = ROOT / ".tools"
    env.update(
        {
            "ENV_FILE": str(tmp / "none.env"),
            "DATABASE_URL": f"sqlite:///{tmp / 'e2e.db'}",
            "STORAGE_LOCAL_DIR": str(tmp / "storage"),
            "AGENT_OUTBOX_DIR": str(tmp / "outbox"),
            "PORT": str(port),
            "APP_URL": f"http://127.0.0.1:{port}",
            "SECRET_KEY": "e2e-secret-key-" + "y" * 40,
            "PATH": f"{tools / 'bun' / 'node_modules' / '.bin'}:{Path(sys.executable).parent}:{env.get('PATH', '')}",
            "REFLEX_USE_SYSTEM_BUN": "1",
            "BUN_INSTALL_CACHE_DIR": str(tools / "bun-cache"),
            "REFLEX_CHECK_LATEST_VERSION": "0",
            "REFLEX_HTTP_CLIENT_BIND_ADDRESS": "0.0.0.0",
            "REFLEX_TELEMETRY_ENABLED": "false",
        }
    )
    env.update(extra)
    return env


def project_copy(tmp: Path) -> Path:
    """A private copy of the project for one app process.

    Reflex compiles the frontend into ``<cwd>/.web`` with the backend's port baked in, so two
    apps started from one folder would overwrite each other's build. Each app gets its own
    folder; the installed packages (.venv, .tools, .web/node_modules) are shared by links.
    """
    dst = tmp / "project"
    files = (
        subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file() and not rel.startswith("tests/"):
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / rel)
    for shared in (".venv", ".tools"):
        if (ROOT / shared).exists():
            (dst / shared).symlink_to((ROOT / shared).resolve())
    web = ROOT / ".web"
    if (web / "node_modules").is_dir():
        shutil.copytree(web, dst / ".web", ignore=shutil.ignore_patterns("node_modules", "build", ".react-router"), symlinks=True)
        (dst / ".web" / "node_modules").symlink_to((web / "node_modules").resolve())
    return dst


def serve_reflex_prod(project: Path, port: int, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """``reflex run --env prod`` of ``project`` on one port, in its own process group, output to ``log_path``."""
    return subprocess.Popen(
        [sys.executable, "-m", "reflex", "run", "--env", "prod", "--frontend-port", str(port), "--backend-port", str(port)],
        cwd=project,
        env=env,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def start_app(tmp: Path, *, port: int | None = None, **extra: str) -> tuple[subprocess.Popen, ServedApp]:
    port = port or free_port()
    env = app_env(tmp, port, **extra)
    project = project_copy(tmp)
    served = ServedApp(url=f"http://127.0.0.1:{port}", env=env, database_url=env["DATABASE_URL"], log_path=tmp / "app.log", project=project)
    served.cli("migrate")
    served.demo = json.loads(served.cli("seed-demo", "--json").stdout)
    proc = serve_reflex_prod(project, port, env, served.log_path)
    wait_until_serving(proc, served)
    return proc, served


def wait_until_serving(proc: subprocess.Popen, served: ServedApp, timeout: float = 240) -> None:
    """Wait until ``served`` answers ``/ping`` and its first page; stops it and raises if it exits or takes longer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited with {proc.returncode}:\n{served.log_tail()}")
        try:
            if httpx.get(f"{served.url}/ping", timeout=2).status_code == 200 and httpx.get(served.url, timeout=2).status_code == 200:
                served.startup_log = served.log_path.read_text(errors="replace")
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop_app(proc)
    raise RuntimeError(f"app did not become ready in {timeout:.0f} s:\n{served.log_tail()}")


def stop_app(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# ``served_app`` (one app for the whole run, shared with tests/reliability) is in tests/conftest.py.


@pytest.fixture(scope="package")
def voice(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """The voice stack of test_voice.py, shared with test_worker_pool.py (the next module): one build, one worker start."""
    from tests.e2e.test_voice import voice_stack

    yield from voice_stack(tmp_path_factory)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    # Module scope: while Playwright's sync API is open its event loop counts as running in this
    # thread, so pytest-asyncio tests collected after tests/e2e (tests/text) would all fail with
    # "Runner.run() cannot be called from a running event loop".
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, tmp_path: Path) -> Iterator:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    pg = context.new_page()
    yield pg
    artifacts = ROOT / "tests" / "artifacts"
    artifacts.mkdir(exist_ok=True)
    try:
        pg.screenshot(path=str(artifacts / f"last-{os.getpid()}.png"), full_page=True)
    except Exception:  # noqa: BLE001 - a screenshot is a convenience
        pass
    context.close()


AXE_JS = ROOT / ".tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
#: A phone's browser context (375×667, the smallest screen the candidate pages are checked on).
PHONE = {"viewport": {"width": 375, "height": 667}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def sideways_overflow(page) -> int:
    """How many pixels the page is wider than the screen (0 when nothing scrolls sideways)."""
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


def axe_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each (rule, help, where)."""
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: `make test` installs axe-core into .tools/axe")
    page.add_script_tag(content=AXE_JS.read_text())
    return page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
              .filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => `${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`)"""
    )
