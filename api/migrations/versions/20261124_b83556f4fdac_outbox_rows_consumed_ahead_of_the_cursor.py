"""outbox rows consumed ahead of the cursor

Revision ID: b83556f4fdac
Revises: 92e1213942f4
Create Date: 2026-11-24 13:29:00.033351
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b83556f4fdac"
down_revision: str | None = "92e1213942f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_consumed",
        sa.Column("consumer", sa.String(length=50), nullable=False),
        sa.Column("outbox_id", sa.BigInteger(), nullable=False),
        sa.Column("txid", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "outbox_id", name=op.f("pk_outbox_consumed")),
    )


def downgrade() -> None:
    op.drop_table("outbox_consumed")
