"""login attempt device

Sign-in throttling tells known devices from untrusted clients (device cookies,
issue 16 item 6): each attempt records the device id of a valid device cookie
for that account, or "" when the attempt was untrusted. Existing rows become
untrusted attempts (server default "").

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 14:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.drop_column("device")
