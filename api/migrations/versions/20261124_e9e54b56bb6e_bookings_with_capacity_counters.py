"""bookings with capacity counters

Revision ID: e9e54b56bb6e
Revises: 229e7ec42004
Create Date: 2026-11-24 10:51:41.727862
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.db

revision: str = "e9e54b56bb6e"
down_revision: str | None = "229e7ec42004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bookings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "confirmed",
                "cancelled",
                "refunded",
                "expired",
                name="bookingstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("expires_at", api.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", api.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", api.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_bookings_event_id_events")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_bookings_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bookings_event_id"), ["event_id"], unique=False)
        batch_op.create_index("ix_bookings_pending_expiry", ["status", "expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_user_id"), ["user_id"], unique=False)

    op.create_table(
        "booking_lines",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_type_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_cents", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_booking_lines_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_booking_lines_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_type_id"],
            ["ticket_types.id"],
            name=op.f("fk_booking_lines_ticket_type_id_ticket_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_lines")),
    )
    with op.batch_alter_table("booking_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_booking_lines_booking_id"), ["booking_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_booking_lines_ticket_type_id"), ["ticket_type_id"], unique=False
        )

    op.create_table(
        "booking_transitions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column(
            "from_status",
            sa.Enum(
                "pending",
                "confirmed",
                "cancelled",
                "refunded",
                "expired",
                name="bookingstatus",
                native_enum=False,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "pending",
                "confirmed",
                "cancelled",
                "refunded",
                "expired",
                name="bookingstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_booking_transitions_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_transitions")),
    )
    with op.batch_alter_table("booking_transitions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_booking_transitions_booking_id"), ["booking_id"], unique=False
        )

    with op.batch_alter_table("ticket_types", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reserved", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_check_constraint(
            "reserved_within_quantity", "reserved >= 0 AND reserved <= quantity"
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket_types", schema=None) as batch_op:
        batch_op.drop_constraint("ck_ticket_types_reserved_within_quantity", type_="check")
        batch_op.drop_column("reserved")

    with op.batch_alter_table("booking_transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_booking_transitions_booking_id"))

    op.drop_table("booking_transitions")
    with op.batch_alter_table("booking_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_booking_lines_ticket_type_id"))
        batch_op.drop_index(batch_op.f("ix_booking_lines_booking_id"))

    op.drop_table("booking_lines")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bookings_user_id"))
        batch_op.drop_index("ix_bookings_pending_expiry")
        batch_op.drop_index(batch_op.f("ix_bookings_event_id"))

    op.drop_table("bookings")
