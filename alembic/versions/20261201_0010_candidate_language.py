"""candidate language

The candidate's own language (issue 19): a template offers the languages a
candidate may choose (``interview_template.languages``, a JSON list; empty = only
the template's ``language``), the interview keeps the one chosen
(``interview.language``, NULL until chosen = the template's), and an evaluation
records the language of the transcript it scored (``evaluation.language``).
Existing evaluations get their template's language (their transcripts were in it).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("interview_template", schema=None) as batch_op:
        batch_op.add_column(sa.Column("languages", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("interview", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default="en"))
    op.execute(
        "UPDATE evaluation SET language = ("
        " SELECT interview_template.language FROM interview"
        " JOIN interview_template ON interview_template.id = interview.template_id"
        " WHERE interview.id = evaluation.interview_id)"
        " WHERE EXISTS ("
        " SELECT 1 FROM interview JOIN interview_template ON interview_template.id = interview.template_id"
        " WHERE interview.id = evaluation.interview_id)"
    )


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35), not batch mode's copy of the table: interview and
    # interview_template are referenced by other tables, and with foreign keys on, SQLite refuses
    # to drop the old copy of a table whose rows are referenced.
    for table, column in (("evaluation", "language"), ("interview", "language"), ("interview_template", "languages")):
        with op.batch_alter_table(table, schema=None, recreate="never") as batch_op:
            batch_op.drop_column(column)
