"""inboxes.throughput_mps: the messages per second Meta allows the number

Revision ID: 6d2b8f4a1c37
Revises: 3c7a9e2f5b14
Create Date: 2026-11-24 09:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6d2b8f4a1c37"
down_revision: str | None = "3c7a9e2f5b14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inboxes") as batch_op:
        batch_op.add_column(sa.Column("throughput_mps", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inboxes") as batch_op:
        batch_op.drop_column("throughput_mps")
