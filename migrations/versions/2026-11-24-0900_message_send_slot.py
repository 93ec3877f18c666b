"""messages.send_slot_at: the rate-limit slot a deferred send holds

Revision ID: 3c7a9e2f5b14
Revises: 8b1f4d2c6e90
Create Date: 2026-11-24 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mostrador.kit.db.base

revision: str = "3c7a9e2f5b14"
down_revision: str | None = "8b1f4d2c6e90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("send_slot_at", mostrador.kit.db.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_column("send_slot_at")
