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
