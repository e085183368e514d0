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

from tests.migration_helpers import (
    column_names,
    count,
    database_at,
    insert,
    insert_evaluation,
    insert_interview,
    insert_template,
    stored_uuid,
)
from tests.test_migrations import empty_db_url  # noqa: F401  (the fixture)

AT = "2026-12-01 10:00:00+00:00"
QUESTIONS = [{"id": "q1", "text": "Tell me about a system you built.", "strong_answer": "Own part."}]
RUBRIC = [{"name": "Depth", "description": "", "weight": 1, "scale_min": 1, "scale_max": 5}]


def _scorecard(conn: sa.Connection, interview_id: str, reviewer_id: int) -> None:
    insert(
        conn,
        "scorecard",
        interview_id=interview_id,
        reviewer_id=reviewer_id,
        reviewer_email="r@example.com",
        template_version=1,
        scores=json.dumps([{"criterion": "Depth", "score": 4, "note": ""}]),
        recommendation="advance",
        note="",
        submitted_at=AT,
        updated_at=AT,
    )


def test_versions_scorecards_and_decisions_come_and_go_with_rows_present(empty_db_url: str) -> None:  # noqa: F811
    with database_at(empty_db_url, "0012") as (cfg, engine):
        interview_id = stored_uuid(engine, uuid.uuid4())
        with engine.begin() as conn:
            for template_id in (1, 2):
                questions = QUESTIONS if template_id == 1 else []
                insert_template(
                    conn,
                    at=AT,
                    id=template_id,
                    questions=json.dumps(questions),
                    rubric=json.dumps(RUBRIC),
                    languages="[]",
                    accommodation_policy="proceed",
                )
            insert_interview(conn, interview_id, at=AT, status="completed")
            insert(conn, "admin_user", id=1, email="r@example.com", name="", password_hash="x", role="reviewer", active=True, created_at=AT)
            insert_evaluation(conn, interview_id, at=AT, language="en")
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
            insert(
                conn,
                "greenhouse_assignment",
                interview_id=interview_id,
                partner_test_id="1",
                callback_url="https://gh.example.com/cb",
                notify_attempts=0,
                last_error="",
                created_at=AT,
            )
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # one scorecard per person and interview
            _scorecard(conn, interview_id, 1)
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # one version number per template
            insert(conn, "template_version", template_id=1, version=1, questions="[]", rubric="[]", created_by="", created_at=AT)
        command.downgrade(cfg, "0012")
        inspector = sa.inspect(engine)
        assert not {"template_version", "scorecard", "greenhouse_assignment"} & set(inspector.get_table_names())
        assert "decision" not in column_names(engine, "interview")
        assert "version" not in column_names(engine, "interview_template")
        with engine.connect() as conn:
            assert count(conn, "interview") == 1
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            assert count(conn, "template_version") == 2
            assert count(conn, "scorecard") == 0
