"""event media

Revision ID: 229e7ec42004
Revises: 72f14db51593
Create Date: 2026-11-24 10:38:47.608900
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.db

revision: str = "229e7ec42004"
down_revision: str | None = "72f14db51593"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_media",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("storage_key", sa.String(length=512), nullable=False),
        sa.Column("content_type", sa.String(length=50), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("alt_text", sa.String(length=300), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_media_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["users.id"], name=op.f("fk_event_media_uploaded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_media")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_event_media_storage_key")),
    )
    with op.batch_alter_table("event_media", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_media_event_id"), ["event_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("event_media", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_media_event_id"))

    op.drop_table("event_media")
