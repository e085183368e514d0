"""Migration 0012 (outbound webhooks) on rows written before it, on SQLite and PostgreSQL.

Two new tables only: the upgrade leaves existing rows alone, the new tables hold an endpoint and
its deliveries with one delivery per (endpoint, event id), and the downgrade drops them again with
rows present (deliveries first: they point at endpoints, and SQLite enforces foreign keys here).
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


def _stored(engine: sa.Engine, value: uuid.UUID) -> str:
    return value.hex if engine.dialect.name == "sqlite" else str(value)


def _delivery(conn: sa.Connection, endpoint_id: int, event_id: str) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO webhook_delivery (endpoint_id, event_id, event_type, payload, status, attempts, next_attempt_at,"
            " last_status_code, last_error, delivered_at, created_at, updated_at)"
            " VALUES (:ep, :ev, 'interview.completed', :payload, 'pending', 0, :at, NULL, '', NULL, :at, :at)"
        ),
        {"ep": endpoint_id, "ev": event_id, "payload": json.dumps({"id": event_id, "data": {"interview_id": "x"}}), "at": AT},
    )


def test_webhook_tables_come_and_go_with_rows_present(empty_db_url: str) -> None:  # noqa: F811
    cfg = alembic_config(empty_db_url)
    command.upgrade(cfg, "0011")
    engine = make_engine(empty_db_url)
    interview_id = _stored(engine, uuid.uuid4())
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO interview_template (id, title, job_description, language, languages, duration_limit_minutes, persona,"
                    " greeting, questions, rubric, allow_text_mode, accommodation_policy, archived, created_at, updated_at)"
                    " VALUES (1, 'T', '', 'en', '[]', 30, '', '', '[]', '[]', true, 'proceed', false, :at, :at)"
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
                {"id": interview_id, "hash": "h" * 64, "at": AT},
            )
        command.upgrade(cfg, "0012")
        with engine.begin() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM interview")).scalar_one() == 1
            conn.execute(
                sa.text(
                    "INSERT INTO webhook_endpoint (id, url, secret, event_types, active, description, created_at, updated_at)"
                    " VALUES (1, 'https://ats.example.com/h', 's', '[\"interview.completed\"]', true, '', :at, :at)"
                ),
                {"at": AT},
            )
            _delivery(conn, 1, "e-1")
            _delivery(conn, 1, "e-2")
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # one delivery per event and endpoint
            _delivery(conn, 1, "e-1")
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # a delivery needs its endpoint
            _delivery(conn, 99, "e-3")

        inspector = sa.inspect(engine)
        columns = {c["name"]: c for c in inspector.get_columns("webhook_delivery")}
        assert columns["last_status_code"]["nullable"] and columns["delivered_at"]["nullable"]
        assert not columns["next_attempt_at"]["nullable"]
        indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes("webhook_delivery")}
        assert indexes["ix_webhook_delivery_status_next"] == ["status", "next_attempt_at"]
        assert [fk["referred_table"] for fk in inspector.get_foreign_keys("webhook_delivery")] == ["webhook_endpoint"]
        uniques = [u["column_names"] for u in inspector.get_unique_constraints("webhook_delivery")]
        assert ["endpoint_id", "event_id"] in uniques

        command.downgrade(cfg, "0011")
        inspector = sa.inspect(engine)
        assert not {"webhook_endpoint", "webhook_delivery"} & set(inspector.get_table_names())
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM interview")).scalar_one() == 1
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM webhook_delivery")).scalar_one() == 0
    finally:
        engine.dispose()
