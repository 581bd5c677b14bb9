"""tax on ticket types and booking lines

Revision ID: e714a1bb4014
Revises: 3fb17e864a1d
Create Date: 2026-11-24 13:19:38.304311
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e714a1bb4014"
down_revision: str | None = "3fb17e864a1d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("booking_lines", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("net_cents", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("tax_cents", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("gross_cents", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("tax_name", sa.String(length=50), nullable=True))
        batch_op.add_column(
            sa.Column("tax_rate_bps", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("tax_inclusive", sa.Boolean(), server_default="1", nullable=False)
        )

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tax_cents", sa.Integer(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("ticket_types", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tax_name", sa.String(length=50), nullable=True))
        batch_op.add_column(
            sa.Column("tax_rate_bps", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("tax_inclusive", sa.Boolean(), server_default="1", nullable=False)
        )
        batch_op.add_column(sa.Column("tax_country", sa.String(length=2), nullable=True))
        batch_op.create_check_constraint(
            "tax_rate_valid", "tax_rate_bps >= 0 AND tax_rate_bps <= 10000"
        )

    # Lines booked before tax existed: untaxed, their gross is what was charged.
    op.execute(
        "UPDATE booking_lines SET net_cents = quantity * unit_price_cents, "
        "gross_cents = quantity * unit_price_cents"
    )


def downgrade() -> None:
    with op.batch_alter_table("ticket_types", schema=None) as batch_op:
        batch_op.drop_constraint("ck_ticket_types_tax_rate_valid", type_="check")
        batch_op.drop_column("tax_country")
        batch_op.drop_column("tax_inclusive")
        batch_op.drop_column("tax_rate_bps")
        batch_op.drop_column("tax_name")

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_column("tax_cents")

    with op.batch_alter_table("booking_lines", schema=None) as batch_op:
        batch_op.drop_column("tax_inclusive")
        batch_op.drop_column("tax_rate_bps")
        batch_op.drop_column("tax_name")
        batch_op.drop_column("gross_cents")
        batch_op.drop_column("tax_cents")
        batch_op.drop_column("net_cents")
