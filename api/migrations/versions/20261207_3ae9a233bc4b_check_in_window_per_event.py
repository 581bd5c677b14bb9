"""check-in window per event

Revision ID: 3ae9a233bc4b
Revises: 2ad3407eab5a
Create Date: 2026-12-07 03:10:54.176382
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3ae9a233bc4b"
down_revision: str | None = "2ad3407eab5a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing events get the default window (from six hours before the start).
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "checkin_opens_minutes_before",
                sa.Integer(),
                server_default="360",
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("checkin_opens_minutes_before")
