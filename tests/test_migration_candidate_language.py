"""Migration 0010 (the candidate's language) on rows written before it, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import command

from tests.migration_helpers import column_names, database_at, insert_evaluation, insert_interview, insert_template, stored_uuid
from tests.test_migrations import empty_db_url  # noqa: F401  (the fixture)

AT = "2026-11-30 10:00:00+00:00"


def test_rows_from_before_get_the_templates_language(empty_db_url: str) -> None:  # noqa: F811
    with database_at(empty_db_url, "0009") as (cfg, engine):
        stored_id = stored_uuid(engine, uuid.uuid4())
        with engine.begin() as conn:
            insert_template(conn, at=AT, language="de")
            insert_interview(conn, stored_id, at=AT, status="completed")
            insert_evaluation(conn, stored_id, at=AT, model="m")
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT languages FROM interview_template")).scalar_one() in ("[]", [])
            assert conn.execute(sa.text("SELECT language FROM interview")).scalar_one() is None
            assert conn.execute(sa.text("SELECT language FROM evaluation")).scalar_one() == "de"
        command.downgrade(cfg, "0009")
        assert "languages" not in column_names(engine, "interview_template")
        assert "language" not in column_names(engine, "interview")
        assert "language" not in column_names(engine, "evaluation")
