"""candidate search trigram indexes

The admin list searches candidates with an infix ``LIKE``; without these indexes
PostgreSQL reads every candidate row per search (≈ 85 ms at 200 000 candidates,
bench P3). pg_trgm is a trusted extension (PostgreSQL ≥ 13): the database owner
may create it. SQLite gets plain indexes (it ignores the gin options).

Revision ID: 0008
Revises: 0001
Create Date: 2026-11-26 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        "ix_candidate_name_trgm",
        "candidate",
        [sa.text("lower(name)")],
        postgresql_using="gin",
        postgresql_ops={"lower(name)": "gin_trgm_ops"},
    )
    op.create_index("ix_candidate_email_trgm", "candidate", ["email"], postgresql_using="gin", postgresql_ops={"email": "gin_trgm_ops"})


def downgrade() -> None:
    op.drop_index("ix_candidate_email_trgm", table_name="candidate")
    op.drop_index("ix_candidate_name_trgm", table_name="candidate")
