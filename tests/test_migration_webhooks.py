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

from tests.migration_helpers import count, database_at, insert, insert_interview, insert_template, stored_uuid
from tests.test_migrations import empty_db_url  # noqa: F401  (the fixture)

AT = "2026-12-01 10:00:00+00:00"


def _delivery(conn: sa.Connection, endpoint_id: int, event_id: str) -> None:
    insert(
        conn,
        "webhook_delivery",
        endpoint_id=endpoint_id,
        event_id=event_id,
        event_type="interview.completed",
        payload=json.dumps({"id": event_id, "data": {"interview_id": "x"}}),
        status="pending",
        attempts=0,
        next_attempt_at=AT,
        last_status_code=None,
        last_error="",
        delivered_at=None,
        created_at=AT,
        updated_at=AT,
    )


def test_webhook_tables_come_and_go_with_rows_present(empty_db_url: str) -> None:  # noqa: F811
    with database_at(empty_db_url, "0011") as (cfg, engine):
        interview_id = stored_uuid(engine, uuid.uuid4())
        with engine.begin() as conn:
            insert_template(conn, at=AT, languages="[]", accommodation_policy="proceed")
            insert_interview(conn, interview_id, at=AT)
        command.upgrade(cfg, "0012")
        with engine.begin() as conn:
            assert count(conn, "interview") == 1
            insert(
                conn,
                "webhook_endpoint",
                id=1,
                url="https://ats.example.com/h",
                secret="s",
                event_types='["interview.completed"]',
                active=True,
                description="",
                created_at=AT,
                updated_at=AT,
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
            assert count(conn, "interview") == 1
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            assert count(conn, "webhook_delivery") == 0
