"""Alembic: upgrade → downgrade → upgrade on SQLite and PostgreSQL; models and migrations agree."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import interview_app.models  # noqa: F401
from interview_app.db import make_engine
from tests.conftest import alembic_config

EXPECTED_TABLES = {
    "admin_user",
    "admin_session",
    "login_attempt",
    "candidate",
    "interview_template",
    "interview",
    "transcript_segment",
    "evaluation",
    "interview_event",
    "webhook_receipt",
    "accommodation_request",
    "webhook_endpoint",
    "webhook_delivery",
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    return request.getfixturevalue("pg_empty_url")


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_db_url: str) -> None:
    cfg = alembic_config(empty_db_url)
    command.upgrade(cfg, "head")
    assert EXPECTED_TABLES <= _tables(empty_db_url)
    command.downgrade(cfg, "base")
    assert _tables(empty_db_url) == set()
    command.upgrade(cfg, "head")
    assert EXPECTED_TABLES <= _tables(empty_db_url)


def test_models_and_migrations_agree(empty_db_url: str) -> None:
    command.upgrade(alembic_config(empty_db_url), "head")
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, SQLModel.metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models differ from migrations: {diff}"


def test_single_head() -> None:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}"


def test_login_attempts_recorded_before_device_cookies_become_untrusted_attempts(empty_db_url: str) -> None:
    cfg = alembic_config(empty_db_url)
    command.upgrade(cfg, "0008")
    engine = make_engine(empty_db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO login_attempt (email, client, success, at) VALUES ('a@example.com', '192.0.2.1', false, :at)"),
                {"at": "2026-11-30 10:00:00+00:00"},
            )
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT email, device FROM login_attempt")).all() == [("a@example.com", "")]
        command.downgrade(cfg, "0008")
        assert "device" not in {c["name"] for c in sa.inspect(engine).get_columns("login_attempt")}
    finally:
        engine.dispose()
