"""accommodations

Accommodations and an alternative (issue 19): before starting, a candidate may ask
for extra time, the text format instead of voice, or a human interviewer, with a
note. The request is one row per interview in ``accommodation_request`` (unique
``interview_id``); the extra time granted is kept on the interview
(``interview.extra_time_percent``, 0 for every existing interview), and each
template says whether an open request holds the start
(``interview_template.accommodation_policy``: "proceed" for every existing
template, so nothing that worked before waits now).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 18:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accommodation_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interview_id", sa.Uuid(), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("extra_time_percent", sa.Integer(), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["interview_id"], ["interview.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("accommodation_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accommodation_request_interview_id"), ["interview_id"], unique=True)
    # ALTER TABLE … ADD COLUMN, never batch mode's copy of the table: interview and
    # interview_template are referenced by other tables (see 0010's downgrade).
    with op.batch_alter_table("interview", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("extra_time_percent", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("interview_template", schema=None, recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("accommodation_policy", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False, server_default="proceed")
        )


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35), not batch mode's copy of the table: interview and
    # interview_template are referenced by other tables, and with foreign keys on, SQLite refuses
    # to drop the old copy of a table whose rows are referenced.
    for table, column in (("interview_template", "accommodation_policy"), ("interview", "extra_time_percent")):
        with op.batch_alter_table(table, schema=None, recreate="never") as batch_op:
            batch_op.drop_column(column)
    with op.batch_alter_table("accommodation_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accommodation_request_interview_id"))
    op.drop_table("accommodation_request")
