"""door staff grants

Revision ID: 0a6e64dee84b
Revises: 8c41d2e7b5f0
Create Date: 2026-12-07 17:44:13.083599
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.db

revision: str = "0a6e64dee84b"
down_revision: str | None = "8c41d2e7b5f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Door staff: an organizer grants an address the door of one event or of all their events.
    op.create_table(
        "staff_grants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organizer_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("granted_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", api.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_staff_grants_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["granted_by"], ["users.id"], name=op.f("fk_staff_grants_granted_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["organizer_id"], ["users.id"], name=op.f("fk_staff_grants_organizer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_grants")),
    )
    with op.batch_alter_table("staff_grants", schema=None) as batch_op:
        batch_op.create_index("ix_staff_grants_email", ["email", "revoked_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_grants_event_id"), ["event_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_staff_grants_organizer_id"), ["organizer_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_grants_organizer_id"))
        batch_op.drop_index(batch_op.f("ix_staff_grants_event_id"))
        batch_op.drop_index("ix_staff_grants_email")

    op.drop_table("staff_grants")
