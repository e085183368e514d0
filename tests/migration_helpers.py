"""What every migration test does: bring an empty database to the revision before, write the rows an
older app wrote (plain SQL, as the tables stood then), migrate and read them back.

The rows are written with ``INSERT`` statements naming their columns, because the models describe
the tables as they are at head, not as they were at the revision a test starts from.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic.config import Config

from interview_app.db import make_engine
from tests.conftest import alembic_config

#: The columns an ``interview_template`` row has had since revision 0009; later revisions add more.
TEMPLATE_0009: dict[str, Any] = {
    "id": 1,
    "title": "T",
    "job_description": "",
    "language": "en",
    "duration_limit_minutes": 30,
    "persona": "",
    "greeting": "",
    "questions": "[]",
    "rubric": "[]",
    "allow_text_mode": True,
    "archived": False,
}


@contextmanager
def database_at(url: str, revision: str) -> Iterator[tuple[Config, sa.Engine]]:
    """The empty database at ``url`` upgraded to ``revision``: its Alembic config and an engine (disposed afterwards)."""
    from alembic import command

    cfg = alembic_config(url)
    command.upgrade(cfg, revision)
    engine = make_engine(url)
    try:
        yield cfg, engine
    finally:
        engine.dispose()


def stored_uuid(engine: sa.Engine, value: uuid.UUID) -> str:
    """A UUID as a raw SQL parameter for this dialect (SQLite stores 32 hex digits, PostgreSQL a uuid)."""
    return value.hex if engine.dialect.name == "sqlite" else str(value)


def insert(conn: sa.Connection, table: str, **values: Any) -> None:
    """One row; the column names are the keyword names (test code's own, never user input)."""
    columns = ", ".join(values)
    params = ", ".join(f":{name}" for name in values)
    conn.execute(sa.text(f"INSERT INTO {table} ({columns}) VALUES ({params})"), values)


def insert_template(conn: sa.Connection, *, at: str, **columns: Any) -> None:
    """An ``interview_template`` row with the 0009 columns (template id 1 unless given); ``columns`` adds or overrides."""
    insert(conn, "interview_template", **(TEMPLATE_0009 | columns), created_at=at, updated_at=at)


def insert_interview(conn: sa.Connection, interview_id: str, *, at: str, status: str = "invited", template_id: int = 1) -> None:
    """A candidate (id 1) and an interview of it for the template ``template_id`` (written first)."""
    insert(conn, "candidate", id=1, name="C", email="c@example.com", external_ref="", created_at=at)
    insert(
        conn,
        "interview",
        id=interview_id,
        candidate_id=1,
        template_id=template_id,
        status=status,
        mode="voice",
        invite_token_hash="h" * 64,
        invite_expires_at=at,
        created_at=at,
        updated_at=at,
    )


def insert_evaluation(conn: sa.Connection, interview_id: str, *, at: str, **columns: Any) -> None:
    """A done evaluation of the interview with the 0009 columns; ``columns`` adds or overrides."""
    values = {"status": "done", "scores": "[]", "summary": "", "recommendation": "", "model": "", "attempts": 1} | columns
    insert(conn, "evaluation", interview_id=interview_id, **values, created_at=at, updated_at=at)


def count(conn: sa.Connection, table: str) -> int:
    """How many rows ``table`` holds."""
    return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def column_names(engine: sa.Engine, table: str) -> set[str]:
    """The columns ``table`` has now."""
    return {c["name"] for c in sa.inspect(engine).get_columns(table)}
