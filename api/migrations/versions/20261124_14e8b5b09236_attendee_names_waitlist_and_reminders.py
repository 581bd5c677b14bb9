"""attendee names, waitlist and reminders

Revision ID: 14e8b5b09236
Revises: 8c92b73cc709
Create Date: 2026-11-24 12:23:30.009099
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.db

revision: str = "14e8b5b09236"
down_revision: str | None = "8c92b73cc709"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "booking_reminders",
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("due_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("announced_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("skipped", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_booking_reminders_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("booking_id", "kind", name=op.f("pk_booking_reminders")),
    )
    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_type_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("attendee_names", sa.JSON(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "waiting",
                "offered",
                "converted",
                "lapsed",
                "declined",
                "left",
                "closed",
                name="waitliststatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("created_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("offered_at", api.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("offer_expires_at", api.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("booking_id", sa.Uuid(), nullable=True),
        sa.Column("closed_at", api.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_waitlist_entries_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_waitlist_entries_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_waitlist_entries_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_type_id"],
            ["ticket_types.id"],
            name=op.f("fk_waitlist_entries_ticket_type_id_ticket_types"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_waitlist_entries_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entries")),
    )
    with op.batch_alter_table("waitlist_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_waitlist_entries_booking_id"), ["booking_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_waitlist_entries_event_id"), ["event_id"], unique=False
        )
        batch_op.create_index(
            "ix_waitlist_entries_queue", ["ticket_type_id", "status", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_waitlist_entries_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "uq_waitlist_entries_active",
            ["ticket_type_id", "user_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('waiting', 'offered')"),
            postgresql_where=sa.text("status IN ('waiting', 'offered')"),
        )

    with op.batch_alter_table("booking_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attendee_names", sa.JSON(), nullable=True))

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("attendee_names_required", sa.Boolean(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("waitlist_offer_hours", sa.Integer(), server_default="24", nullable=False)
        )

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attendee_name", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("attendee_name")

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("waitlist_offer_hours")
        batch_op.drop_column("attendee_names_required")

    with op.batch_alter_table("booking_lines", schema=None) as batch_op:
        batch_op.drop_column("attendee_names")

    with op.batch_alter_table("waitlist_entries", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_waitlist_entries_active",
            sqlite_where=sa.text("status IN ('waiting', 'offered')"),
            postgresql_where=sa.text("status IN ('waiting', 'offered')"),
        )
        batch_op.drop_index(batch_op.f("ix_waitlist_entries_user_id"))
        batch_op.drop_index("ix_waitlist_entries_queue")
        batch_op.drop_index(batch_op.f("ix_waitlist_entries_event_id"))
        batch_op.drop_index(batch_op.f("ix_waitlist_entries_booking_id"))

    op.drop_table("waitlist_entries")
    op.drop_table("booking_reminders")
