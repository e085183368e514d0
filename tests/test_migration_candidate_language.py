"""Migration 0010 (the candidate's language) on rows written before it, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import command

from interview_app.db import make_engine
from tests.conftest import alembic_config
from tests.test_migrations import empty_db_url  # noqa: F401  (the fixture)


def test_rows_from_before_get_the_templates_language(empty_db_url: str) -> None:  # noqa: F811
    cfg = alembic_config(empty_db_url)
    command.upgrade(cfg, "0009")
    engine = make_engine(empty_db_url)
    interview_id = uuid.uuid4()
    stored_id = interview_id.hex if engine.dialect.name == "sqlite" else str(interview_id)
    at = "2026-11-30 10:00:00+00:00"
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO interview_template (id, title, job_description, language, duration_limit_minutes, persona, greeting,"
                    " questions, rubric, allow_text_mode, archived, created_at, updated_at)"
                    " VALUES (1, 'T', '', 'de', 30, '', '', '[]', '[]', true, false, :at, :at)"
                ),
                {"at": at},
            )
            conn.execute(
                sa.text("INSERT INTO candidate (id, name, email, external_ref, created_at) VALUES (1, 'C', 'c@example.com', '', :at)"),
                {"at": at},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO interview (id, candidate_id, template_id, status, mode, invite_token_hash, invite_expires_at,"
                    " created_at, updated_at) VALUES (:id, 1, 1, 'completed', 'voice', :hash, :at, :at, :at)"
                ),
                {"id": stored_id, "hash": "h" * 64, "at": at},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO evaluation (interview_id, status, scores, summary, recommendation, model, attempts, created_at, updated_at)"
                    " VALUES (:id, 'done', '[]', '', '', 'm', 1, :at, :at)"
                ),
                {"id": stored_id, "at": at},
            )
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT languages FROM interview_template")).scalar_one() in ("[]", [])
            assert conn.execute(sa.text("SELECT language FROM interview")).scalar_one() is None
            assert conn.execute(sa.text("SELECT language FROM evaluation")).scalar_one() == "de"
        command.downgrade(cfg, "0009")
        inspector = sa.inspect(engine)
        assert "languages" not in {c["name"] for c in inspector.get_columns("interview_template")}
        assert "language" not in {c["name"] for c in inspector.get_columns("interview")}
        assert "language" not in {c["name"] for c in inspector.get_columns("evaluation")}
    finally:
        engine.dispose()
