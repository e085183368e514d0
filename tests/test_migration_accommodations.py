"""Migration 0011 (accommodation requests) on rows written before it, on SQLite and PostgreSQL.

The new columns are added to ``interview`` and ``interview_template`` — tables other rows point
at — without copying them (SQLite with foreign keys on refuses to drop a referenced table's old
copy), and the downgrade removes them again with a request row present.
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic import command

from tests.migration_helpers import column_names, count, database_at, insert, insert_interview, insert_template, stored_uuid
from tests.test_migrations import empty_db_url  # noqa: F401  (the fixture)

AT = "2026-11-30 10:00:00+00:00"


def _request(conn: sa.Connection, interview_id: str, kinds: str, note: str = "") -> None:
    insert(
        conn,
        "accommodation_request",
        interview_id=interview_id,
        kinds=kinds,
        note=note,
        status="requested",
        extra_time_percent=0,
        decided_by="",
        created_at=AT,
        updated_at=AT,
    )


def test_existing_rows_proceed_with_no_extra_time_and_the_downgrade_keeps_them(empty_db_url: str) -> None:  # noqa: F811
    with database_at(empty_db_url, "0010") as (cfg, engine):
        stored_id = stored_uuid(engine, uuid.uuid4())
        with engine.begin() as conn:
            insert_template(conn, at=AT, languages="[]")
            insert_interview(conn, stored_id, at=AT)
            insert(conn, "interview_event", interview_id=stored_id, kind="invited", actor="system", detail="{}", at=AT)
        command.upgrade(cfg, "0011")
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT extra_time_percent FROM interview")).scalar_one() == 0
            assert conn.execute(sa.text("SELECT accommodation_policy FROM interview_template")).scalar_one() == "proceed"
            assert count(conn, "interview_event") == 1  # nothing was copied away
        with engine.begin() as conn:
            _request(conn, stored_id, '["extra_time"]', note="note")
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # one request per interview
            _request(conn, stored_id, '["text"]')
        inspector = sa.inspect(engine)
        assert column_names(engine, "accommodation_request") >= {"interview_id", "kinds", "note", "decided_at"}
        assert any(i["column_names"] == ["interview_id"] and i["unique"] for i in inspector.get_indexes("accommodation_request")), (
            inspector.get_indexes("accommodation_request")
        )
        assert [fk["referred_table"] for fk in inspector.get_foreign_keys("accommodation_request")] == ["interview"]

        command.downgrade(cfg, "0010")
        assert "accommodation_request" not in sa.inspect(engine).get_table_names()
        assert "extra_time_percent" not in column_names(engine, "interview")
        assert "accommodation_policy" not in column_names(engine, "interview_template")
        with engine.connect() as conn:
            assert count(conn, "interview") == 1
            assert count(conn, "interview_event") == 1
        command.upgrade(cfg, "head")
