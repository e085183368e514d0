"""outbound webhooks

Signed outbound webhooks (issue 18, ATS integration): ``webhook_endpoint`` holds the receivers an
admin added (URL, the signing secret as generated, the event types it subscribes to, active);
``webhook_delivery`` is one event for one endpoint and also the durable delivery job
(status, attempts, next attempt, the last answer). Two new tables only: no existing table is
altered, so SQLite's batch mode never copies a table other rows point at (see 0011).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_endpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("secret", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("event_type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["endpoint_id"], ["webhook_endpoint.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_delivery_endpoint_event"),
    )
    op.create_index("ix_webhook_delivery_status_next", "webhook_delivery", ["status", "next_attempt_at"], unique=False)
    op.create_index("ix_webhook_delivery_created_at", "webhook_delivery", ["created_at"], unique=False)


def downgrade() -> None:
    # Deliveries first: they point at endpoints (SQLite enforces foreign keys here, db.py).
    op.drop_index("ix_webhook_delivery_created_at", table_name="webhook_delivery")
    op.drop_index("ix_webhook_delivery_status_next", table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_endpoint")
