"""sandbox events and settlements; refunds unique by provider ref

Revision ID: 4b67cc03f92f
Revises: e6477ff16f9f
Create Date: 2026-11-24 14:32:18.384058
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.db

revision: str = "4b67cc03f92f"
down_revision: str | None = "e6477ff16f9f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sandbox_events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=60), nullable=False),
        sa.Column("object_id", sa.String(length=40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", api.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", api.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_events")),
    )
    with op.batch_alter_table("sandbox_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sandbox_events_object_id"), ["object_id"], unique=False
        )
        batch_op.create_index(
            "ix_sandbox_events_undelivered", ["delivered_at", "created_at"], unique=False
        )

    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refunds_provider_ref"), ["provider_ref"], unique=True)

    with op.batch_alter_table("sandbox_intents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("settles_at", api.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_sandbox_intents_settles_at"), ["settles_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sandbox_intents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sandbox_intents_settles_at"))
        batch_op.drop_column("settles_at")

    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refunds_provider_ref"))

    with op.batch_alter_table("sandbox_events", schema=None) as batch_op:
        batch_op.drop_index("ix_sandbox_events_undelivered")
        batch_op.drop_index(batch_op.f("ix_sandbox_events_object_id"))

    op.drop_table("sandbox_events")
