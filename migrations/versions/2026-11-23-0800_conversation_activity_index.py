"""index for the conversation list without a status filter

Revision ID: 8b1f4d2c6e90
Revises: 5e4c0a7d9b21
Create Date: 2026-11-23 08:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8b1f4d2c6e90"
down_revision: str | None = "5e4c0a7d9b21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.create_index("ix_conversations_account_id_last_activity_at_id", ["account_id", "last_activity_at", "id"])


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.drop_index("ix_conversations_account_id_last_activity_at_id")
