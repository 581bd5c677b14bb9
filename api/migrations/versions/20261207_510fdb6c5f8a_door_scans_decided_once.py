"""door scans decided once

Revision ID: 510fdb6c5f8a
Revises: 0a6e64dee84b
Create Date: 2026-12-07 17:51:57.330186
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.db

revision: str = "510fdb6c5f8a"
down_revision: str | None = "0a6e64dee84b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every scan at a door under its device's id, decided once (offline batches, retries).
    op.create_table(
        "check_in_scans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=True),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("device", sa.String(length=100), nullable=True),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("scanned_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "pending",
                "admitted",
                "already",
                "conflict",
                "refused",
                name="scanoutcome",
                native_enum=False,
                length=10,
            ),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_check_in_scans_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["users.id"], name=op.f("fk_check_in_scans_staff_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_check_in_scans_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_in_scans")),
    )
    with op.batch_alter_table("check_in_scans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_check_in_scans_event_id"), ["event_id"], unique=False)
        batch_op.create_index("ix_check_in_scans_ticket", ["ticket_id", "decided_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("check_in_scans", schema=None) as batch_op:
        batch_op.drop_index("ix_check_in_scans_ticket")
        batch_op.drop_index(batch_op.f("ix_check_in_scans_event_id"))

    op.drop_table("check_in_scans")
