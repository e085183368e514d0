"""Migration 0011 (accommodation requests) on rows written before it, on SQLite and PostgreSQL.

The new columns are added to ``interview`` and ``interview_template`` — tables other rows point
at — without copying them (SQLite with foreign keys on refuses to drop a referenced table's old
copy), and the downgrade removes them again with a request row present.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import command

from interview_app.db import make_engine
from tests.conftest import alembic_config
from tests.test_migrations import empty_db_url  # noqa: F401  (the fixture)

AT = "2026-11-30 10:00:00+00:00"


def _stored(engine: sa.Engine, value: uuid.UUID) -> str:
    return value.hex if engine.dialect.name == "sqlite" else str(value)


def test_existing_rows_proceed_with_no_extra_time_and_the_downgrade_keeps_them(empty_db_url: str) -> None:  # noqa: F811
    cfg = alembic_config(empty_db_url)
    command.upgrade(cfg, "0010")
    engine = make_engine(empty_db_url)
    interview_id = uuid.uuid4()
    stored_id = _stored(engine, interview_id)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO interview_template (id, title, job_description, language, languages, duration_limit_minutes, persona,"
                    " greeting, questions, rubric, allow_text_mode, archived, created_at, updated_at)"
                    " VALUES (1, 'T', '', 'en', '[]', 30, '', '', '[]', '[]', true, false, :at, :at)"
                ),
                {"at": AT},
            )
            conn.execute(
                sa.text("INSERT INTO candidate (id, name, email, external_ref, created_at) VALUES (1, 'C', 'c@example.com', '', :at)"),
                {"at": AT},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO interview (id, candidate_id, template_id, status, mode, invite_token_hash, invite_expires_at,"
                    " created_at, updated_at) VALUES (:id, 1, 1, 'invited', 'voice', :hash, :at, :at, :at)"
                ),
                {"id": stored_id, "hash": "h" * 64, "at": AT},
            )
            conn.execute(
                sa.text("INSERT INTO interview_event (interview_id, kind, actor, detail, at) VALUES (:id, 'invited', 'system', '{}', :at)"),
                {"id": stored_id, "at": AT},
            )
        command.upgrade(cfg, "0011")
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT extra_time_percent FROM interview")).scalar_one() == 0
            assert conn.execute(sa.text("SELECT accommodation_policy FROM interview_template")).scalar_one() == "proceed"
            assert conn.execute(sa.text("SELECT count(*) FROM interview_event")).scalar_one() == 1  # nothing was copied away
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO accommodation_request (interview_id, kinds, note, status, extra_time_percent, decided_by, created_at,"
                    " updated_at) VALUES (:id, '[\"extra_time\"]', 'note', 'requested', 0, '', :at, :at)"
                ),
                {"id": stored_id, "at": AT},
            )
        with engine.begin() as conn:  # one request per interview
            try:
                conn.execute(
                    sa.text(
                        "INSERT INTO accommodation_request (interview_id, kinds, note, status, extra_time_percent, decided_by,"
                        " created_at, updated_at) VALUES (:id, '[\"text\"]', '', 'requested', 0, '', :at, :at)"
                    ),
                    {"id": stored_id, "at": AT},
                )
            except sa.exc.IntegrityError:
                conn.rollback()
            else:  # pragma: no cover - the assertion explains
                raise AssertionError("a second request for the same interview was accepted")
        inspector = sa.inspect(engine)
        assert {c["name"] for c in inspector.get_columns("accommodation_request")} >= {"interview_id", "kinds", "note", "decided_at"}
        assert any(i["column_names"] == ["interview_id"] and i["unique"] for i in inspector.get_indexes("accommodation_request")), (
            inspector.get_indexes("accommodation_request")
        )
        assert [fk["referred_table"] for fk in inspector.get_foreign_keys("accommodation_request")] == ["interview"]

        command.downgrade(cfg, "0010")
        inspector = sa.inspect(engine)
        assert "accommodation_request" not in inspector.get_table_names()
        assert "extra_time_percent" not in {c["name"] for c in inspector.get_columns("interview")}
        assert "accommodation_policy" not in {c["name"] for c in inspector.get_columns("interview_template")}
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM interview")).scalar_one() == 1
            assert conn.execute(sa.text("SELECT count(*) FROM interview_event")).scalar_one() == 1
        command.upgrade(cfg, "head")
    finally:
        engine.dispose()
