"""attendee cancellation policy

Revision ID: 2a4773077075
Revises: e9e54b56bb6e
Create Date: 2026-11-24 10:59:48.785573
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2a4773077075"
down_revision: str | None = "e9e54b56bb6e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attendee_cancellation_hours", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("attendee_cancellation_hours")
