"""Migration 0013 (scorecards, rubric versions, decisions, blind review, Greenhouse) on rows written before it.

On SQLite and PostgreSQL: every existing template gets version 1 holding its questions and rubric
as they were, existing interviews and evaluations keep NULL versions and no decision, the new
tables take rows with their constraints, and the downgrade removes it all with rows present.
"""

from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa
from alembic import command

from interview_app.db import make_engine
from tests.conftest import alembic_config
from tests.test_migrations import empty_db_url  # noqa: F401  (the fixture)

AT = "2026-12-01 10:00:00+00:00"
QUESTIONS = [{"id": "q1", "text": "Tell me about a system you built.", "strong_answer": "Own part."}]
RUBRIC = [{"name": "Depth", "description": "", "weight": 1, "scale_min": 1, "scale_max": 5}]


def _stored(engine: sa.Engine, value: uuid.UUID) -> str:
    return value.hex if engine.dialect.name == "sqlite" else str(value)


def _scorecard(conn: sa.Connection, interview_id: str, reviewer_id: int) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO scorecard (interview_id, reviewer_id, reviewer_email, template_version, scores, recommendation, note,"
            " submitted_at, updated_at) VALUES (:iid, :rid, 'r@example.com', 1, :scores, 'advance', '', :at, :at)"
        ),
        {"iid": interview_id, "rid": reviewer_id, "scores": json.dumps([{"criterion": "Depth", "score": 4, "note": ""}]), "at": AT},
    )


def test_versions_scorecards_and_decisions_come_and_go_with_rows_present(empty_db_url: str) -> None:  # noqa: F811
    cfg = alembic_config(empty_db_url)
    command.upgrade(cfg, "0012")
    engine = make_engine(empty_db_url)
    interview_id = _stored(engine, uuid.uuid4())
    try:
        with engine.begin() as conn:
            for template_id in (1, 2):
                conn.execute(
                    sa.text(
                        "INSERT INTO interview_template (id, title, job_description, language, languages, duration_limit_minutes, persona,"
                        " greeting, questions, rubric, allow_text_mode, accommodation_policy, archived, created_at, updated_at)"
                        " VALUES (:id, 'T', '', 'en', '[]', 30, '', '', :q, :r, true, 'proceed', false, :at, :at)"
                    ),
                    {"id": template_id, "q": json.dumps(QUESTIONS if template_id == 1 else []), "r": json.dumps(RUBRIC), "at": AT},
                )
            conn.execute(
                sa.text("INSERT INTO candidate (id, name, email, external_ref, created_at) VALUES (1, 'C', 'c@example.com', '', :at)"),
                {"at": AT},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO admin_user (id, email, name, password_hash, role, active, created_at)"
                    " VALUES (1, 'r@example.com', '', 'x', 'reviewer', true, :at)"
                ),
                {"at": AT},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO interview (id, candidate_id, template_id, status, mode, invite_token_hash, invite_expires_at,"
                    " created_at, updated_at) VALUES (:id, 1, 1, 'completed', 'voice', :hash, :at, :at, :at)"
                ),
                {"id": interview_id, "hash": "h" * 64, "at": AT},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO evaluation (interview_id, status, scores, summary, recommendation, model, language, attempts,"
                    " created_at, updated_at) VALUES (:id, 'done', '[]', '', '', '', 'en', 1, :at, :at)"
                ),
                {"id": interview_id, "at": AT},
            )
        command.upgrade(cfg, "0013")
        with engine.begin() as conn:
            versions = conn.execute(
                sa.text("SELECT template_id, version, questions, rubric FROM template_version ORDER BY template_id")
            ).all()
            assert [(v[0], v[1]) for v in versions] == [(1, 1), (2, 1)]
            first = versions[0]
            assert (json.loads(first[2]) if isinstance(first[2], str) else first[2]) == QUESTIONS
            assert (json.loads(first[3]) if isinstance(first[3], str) else first[3]) == RUBRIC
            template = conn.execute(sa.text("SELECT version, blind_review FROM interview_template WHERE id = 1")).one()
            assert template[0] == 1 and not template[1]
            row = conn.execute(sa.text("SELECT template_version, decision, decision_by, decision_note, decision_at FROM interview")).one()
            assert tuple(row) == (None, None, "", "", None)
            assert conn.execute(sa.text("SELECT template_version FROM evaluation")).scalar_one() is None
            _scorecard(conn, interview_id, 1)
            conn.execute(
                sa.text(
                    "INSERT INTO greenhouse_assignment (interview_id, partner_test_id, callback_url, notify_attempts, last_error, created_at)"
                    " VALUES (:id, '1', 'https://gh.example.com/cb', 0, '', :at)"
                ),
                {"id": interview_id, "at": AT},
            )
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # one scorecard per person and interview
            _scorecard(conn, interview_id, 1)
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # one version number per template
            conn.execute(
                sa.text(
                    "INSERT INTO template_version (template_id, version, questions, rubric, created_by, created_at)"
                    " VALUES (1, 1, '[]', '[]', '', :at)"
                ),
                {"at": AT},
            )
        command.downgrade(cfg, "0012")
        inspector = sa.inspect(engine)
        assert not {"template_version", "scorecard", "greenhouse_assignment"} & set(inspector.get_table_names())
        assert "decision" not in {c["name"] for c in inspector.get_columns("interview")}
        assert "version" not in {c["name"] for c in inspector.get_columns("interview_template")}
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM interview")).scalar_one() == 1
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM template_version")).scalar_one() == 2
            assert conn.execute(sa.text("SELECT count(*) FROM scorecard")).scalar_one() == 0
    finally:
        engine.dispose()
