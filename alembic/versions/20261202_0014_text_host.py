"""text interview lease holder

``interview.text_host``: the app process driving a text interview (its host id), set when a
process starts or takes the interview over. A process writes the conversation and renews the
lease only while the row still names it, so a process that stalled past its lease and woke up
after another took the interview over stops instead of writing beside it (the fence of the
lease, docs/text-interview.md). NULL for voice interviews and for every existing row: an
interview running when this migration ran is taken over by the first process that touches it.

One column on an existing table (ALTER TABLE … ADD COLUMN, never batch mode's copy: see 0011).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("interview", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("text_host", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))


def downgrade() -> None:
    # DROP COLUMN (SQLite ≥ 3.35), not batch mode's copy: the table is referenced by others (see 0011).
    with op.batch_alter_table("interview", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("text_host")
