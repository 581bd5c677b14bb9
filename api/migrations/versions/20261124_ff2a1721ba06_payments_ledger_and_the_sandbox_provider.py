"""payments, ledger and the sandbox provider

Revision ID: ff2a1721ba06
Revises: 14e8b5b09236
Create Date: 2026-11-24 12:48:05.732421
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.db

revision: str = "ff2a1721ba06"
down_revision: str | None = "14e8b5b09236"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sandbox_intents",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("card", sa.String(length=40), nullable=False),
        sa.Column("failure_code", sa.String(length=50), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("created_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_intents")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_sandbox_intents_idempotency_key")),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("organizer_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("provider_ref", sa.String(length=100), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "requires_action",
                "processing",
                "succeeded",
                "failed",
                name="paymentstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("refunded_cents", sa.Integer(), nullable=False),
        sa.Column("provider_fee_cents", sa.Integer(), nullable=False),
        sa.Column("platform_fee_cents", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=50), nullable=True),
        sa.Column("failure_code", sa.String(length=50), nullable=True),
        sa.Column("failure_message", sa.String(length=300), nullable=True),
        sa.Column("next_action", sa.JSON(), nullable=True),
        sa.Column("client_secret", sa.String(length=200), nullable=True),
        sa.Column("created_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("succeeded_at", api.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_payments_amount_positive")),
        sa.CheckConstraint(
            "refunded_cents >= 0 AND refunded_cents <= amount_cents",
            name=op.f("ck_payments_refund_within_amount"),
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_payments_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_payments_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["organizer_id"], ["users.id"], name=op.f("fk_payments_organizer_id_users")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_payments_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_booking_id"), ["booking_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_event_id"), ["event_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_payments_organizer_id"), ["organizer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payments_provider_ref"), ["provider_ref"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_payments_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "uq_payments_live_per_booking",
            ["booking_id"],
            unique=True,
            sqlite_where=sa.text(
                "status IN ('pending', 'requires_action', 'processing', 'succeeded')"
            ),
            postgresql_where=sa.text(
                "status IN ('pending', 'requires_action', 'processing', 'succeeded')"
            ),
        )

    op.create_table(
        "ledger_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("organizer_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "charge",
                "provider_fee",
                "platform_fee",
                "refund",
                "chargeback",
                name="ledgerkind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("created_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_ledger_entries_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["organizer_id"], ["users.id"], name=op.f("fk_ledger_entries_organizer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_ledger_entries_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_entries_booking_id"), ["booking_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_entries_organizer_id"), ["organizer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_entries_payment_id"), ["payment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_entries_payment_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_entries_organizer_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_entries_booking_id"))

    op.drop_table("ledger_entries")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_payments_live_per_booking",
            sqlite_where=sa.text(
                "status IN ('pending', 'requires_action', 'processing', 'succeeded')"
            ),
            postgresql_where=sa.text(
                "status IN ('pending', 'requires_action', 'processing', 'succeeded')"
            ),
        )
        batch_op.drop_index(batch_op.f("ix_payments_user_id"))
        batch_op.drop_index(batch_op.f("ix_payments_provider_ref"))
        batch_op.drop_index(batch_op.f("ix_payments_organizer_id"))
        batch_op.drop_index(batch_op.f("ix_payments_event_id"))
        batch_op.drop_index(batch_op.f("ix_payments_booking_id"))

    op.drop_table("payments")
    op.drop_table("sandbox_intents")
