"""platform fees agreed per organizer

Revision ID: e6477ff16f9f
Revises: b83556f4fdac
Create Date: 2026-11-24 13:35:44.454147
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.db

revision: str = "e6477ff16f9f"
down_revision: str | None = "b83556f4fdac"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organizer_fees",
        sa.Column("organizer_id", sa.Uuid(), nullable=False),
        sa.Column("fee_bps", sa.Integer(), nullable=False),
        sa.Column("fee_fixed_cents", sa.Integer(), nullable=False),
        sa.Column("updated_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "fee_bps >= 0 AND fee_bps <= 10000", name=op.f("ck_organizer_fees_fee_bps_valid")
        ),
        sa.CheckConstraint(
            "fee_fixed_cents >= 0", name=op.f("ck_organizer_fees_fee_fixed_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["organizer_id"], ["users.id"], name=op.f("fk_organizer_fees_organizer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_organizer_fees_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("organizer_id", name=op.f("pk_organizer_fees")),
    )


def downgrade() -> None:
    op.drop_table("organizer_fees")
