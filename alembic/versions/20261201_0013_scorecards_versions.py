"""scorecards, rubric versions, decisions, blind review, Greenhouse assignments

Issue 18 (recruiter workflow):

- ``template_version``: each version of a template's questions and rubric, never edited; every
  existing template gets its version 1 from its questions and rubric as they are now, and
  ``interview_template.version`` (1 for every existing template) names the current one.
- ``interview.template_version`` / ``evaluation.template_version``: the version an interview was
  run and scored against. NULL for every existing row: which version they used was not recorded,
  and the app shows them as "before versions" rather than guess.
- ``scorecard``: one reviewer's human scores of one interview (unique per interview and reviewer).
- ``interview.decision`` (+ ``decision_by``, ``decision_note``, ``decision_at``): the hiring
  decision, a human's; NULL for every existing interview.
- ``interview_template.blind_review``: false for every existing template.
- ``greenhouse_assignment``: interviews Greenhouse ordered through its Assessment Partner API.

Existing tables only get columns (ALTER TABLE … ADD COLUMN, never batch mode's copy: see 0011).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 21:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "template_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("rubric", sa.JSON(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["template_id"], ["interview_template.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("template_id", "version", name="uq_template_version_template_version"),
    )
    with op.batch_alter_table("template_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_template_version_template_id"), ["template_id"], unique=False)
    op.create_table(
        "scorecard",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interview_id", sa.Uuid(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=True),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("recommendation", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["interview_id"], ["interview.id"]),
        sa.ForeignKeyConstraint(["reviewer_id"], ["admin_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("interview_id", "reviewer_id", name="uq_scorecard_interview_reviewer"),
    )
    with op.batch_alter_table("scorecard", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scorecard_interview_id"), ["interview_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scorecard_reviewer_id"), ["reviewer_id"], unique=False)
    op.create_table(
        "greenhouse_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interview_id", sa.Uuid(), nullable=False),
        sa.Column("partner_test_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("callback_url", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notify_attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["interview_id"], ["interview.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("greenhouse_assignment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_greenhouse_assignment_interview_id"), ["interview_id"], unique=True)
    with op.batch_alter_table("interview_template", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("blind_review", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("interview", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("template_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True))
        batch_op.add_column(sa.Column("decision_by", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("decision_note", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("decision_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("evaluation", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("template_version", sa.Integer(), nullable=True))
    # Version 1 of every existing template: its questions and rubric as they are now.
    op.execute(
        "INSERT INTO template_version (template_id, version, questions, rubric, created_by, created_at)"
        " SELECT id, 1, questions, rubric, '', updated_at FROM interview_template"
    )


def downgrade() -> None:
    # DROP COLUMN (SQLite ≥ 3.35), not batch mode's copy: these tables are referenced by others (see 0011).
    for table, columns in (
        ("evaluation", ("template_version",)),
        ("interview", ("decision_at", "decision_note", "decision_by", "decision", "template_version")),
        ("interview_template", ("blind_review", "version")),
    ):
        with op.batch_alter_table(table, schema=None, recreate="never") as batch_op:
            for column in columns:
                batch_op.drop_column(column)
    for table, indexes in (
        ("greenhouse_assignment", ("ix_greenhouse_assignment_interview_id",)),
        ("scorecard", ("ix_scorecard_reviewer_id", "ix_scorecard_interview_id")),
        ("template_version", ("ix_template_version_template_id",)),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for index in indexes:
                batch_op.drop_index(index)
        op.drop_table(table)
