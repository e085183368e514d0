"""Shared fixtures: databases (SQLite and a throwaway PostgreSQL database), settings, the served app.

PostgreSQL: `.ci/run` starts the server; each test run creates its own database and
drops it at the end. Outside CI a missing server skips the PostgreSQL cases with the
reason; under CI=true it fails them, because CI promises the server.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from interview_app.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
_TEST_DATA_DIR = tempfile.mkdtemp(prefix="interview-tests-data-")


def pytest_configure(config: pytest.Config) -> None:
    # Tests never read the developer's .env; each sets what it needs.
    os.environ["ENV_FILE"] = str(ROOT / "tests" / "does-not-exist.env")
    for key in (
        "DATABASE_URL",
        "LIVEKIT_URL",
        "LIVEKIT_API_KEY",
        "LIVEKIT_API_SECRET",
        "STORAGE_BACKEND",
        "LLM_PROVIDER",
        "REDIS_URL",
        "APP_ENV",
    ):
        os.environ.pop(key, None)
    os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "x" * 40)
    # Nothing a test runs writes into the developer's ./data (demo links, storage, outbox).
    os.environ["DATA_DIR"] = _TEST_DATA_DIR
    get_settings.cache_clear()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``reliability_slow`` (tests/reliability and tests/e2e/test_worker_pool.py) run only in `make reliability`."""
    if os.environ.get("RELIABILITY_FULL", "") == "1":
        return
    skip = pytest.mark.skip(reason="slow reliability scenario: runs in `make reliability` (RELIABILITY_FULL=1)")
    for item in items:
        if "reliability_slow" in item.keywords:
            item.add_marker(skip)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_TEST_DATA_DIR, ignore_errors=True)


def migrate_to(url: str, revision: str = "head") -> None:
    """Run the project's Alembic migrations against ``url``."""
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.attributes["database_url"] = url
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, revision)


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.attributes["database_url"] = url
    cfg.attributes["configure_logger"] = False
    return cfg


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """Admin URL of a reachable PostgreSQL server, or a skip (a failure under CI)."""
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as err:  # noqa: BLE001
        engine.dispose()
        message = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {err.__class__.__name__}"
        if IN_CI:
            pytest.fail(message + " (CI must provide it; .ci/run starts it)")
        pytest.skip(message)
    engine.dispose()
    yield PG_ADMIN_URL


def new_pg_database(admin_url: str) -> str:
    """Create an empty database; returns its URL."""
    name = f"itest_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(admin_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture
def pg_empty_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    url = new_pg_database(pg_server)
    yield url
    drop_pg_database(pg_server, url)


@pytest.fixture(scope="session")
def pg_migrated_url(pg_server: str) -> Iterator[str]:
    """One migrated PostgreSQL database shared by the run (tests clean up via unique data)."""
    url = new_pg_database(pg_server)
    migrate_to(url)
    yield url
    drop_pg_database(pg_server, url)


@pytest.fixture(scope="session")
def sqlite_migrated_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per run; each test gets a copy (migrating costs ≈ 1 s, a copy ms)."""
    path = tmp_path_factory.mktemp("sqlite-migrated") / "migrated.db"
    migrate_to(f"sqlite:///{path}")
    # Alembic's engine is disposed: the WAL was checkpointed into the file when its last connection closed.
    assert not path.with_name(path.name + "-wal").exists(), "the migrated SQLite file still has a WAL beside it"
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database URL: a fresh copy of a migrated SQLite file, and the run's PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_migrated_file"), path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("pg_migrated_url")


@pytest.fixture
def app_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[sa.Engine]:
    """Point the app's settings and engine at ``db_url``; yields the engine."""
    from interview_app import db

    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    engine = db.get_engine()
    yield engine
    engine.dispose()
    db.get_engine.cache_clear()
    get_settings.cache_clear()


@pytest.fixture
def session(app_db: sa.Engine) -> Iterator[Session]:
    with Session(app_db, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch):
    """Set environment keys for one test and reload Settings: ``settings_env(LIVEKIT_URL=...)``."""

    def apply(**values: str):
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        return get_settings()

    yield apply
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def served_app(tmp_path_factory: pytest.TempPathFactory):
    """The app served as in production (``reflex run --env prod``) for the whole run: e2e and reliability tests share it."""
    from tests.e2e.conftest import CHROMIUM, start_app, stop_app

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs it (apt-get install chromium)")
    proc, served = start_app(tmp_path_factory.mktemp("app"))
    yield served
    stop_app(proc)


@dataclass(frozen=True)
class Mail:
    """One email a test captured (``mails`` fixture)."""

    to: str
    subject: str
    body: str


@pytest.fixture
def mails(monkeypatch: pytest.MonkeyPatch) -> list[Mail]:
    """Every email the accommodation service sends (instead of the log or SMTP)."""
    from interview_app.services import accommodations

    sent: list[Mail] = []

    def capture(settings: object, to: str, subject: str, body: str) -> str:
        sent.append(Mail(to, subject, body))
        return f"Email sent to {to}."

    monkeypatch.setattr(accommodations, "send_email", capture)
    return sent
