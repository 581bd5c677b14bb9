"""Payments of bookings, the money ledger, and the sandbox provider's own records."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, BigIntPK, new_id, utcnow


class PaymentStatus(enum.StrEnum):
    pending = "pending"  # recorded; the provider has not answered yet
    requires_action = "requires_action"  # the buyer must authenticate (3-D Secure)
    processing = "processing"  # the provider confirms later
    succeeded = "succeeded"
    failed = "failed"


# A booking has at most one payment in these states: it can never be charged twice.
LIVE_PAYMENT = ("pending", "requires_action", "processing", "succeeded")


class Payment(Base):
    __tablename__ = "payments"
    __outbox_entity__ = "payment"
    __outbox_exclude__ = {"client_secret"}
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint(
            "refunded_cents >= 0 AND refunded_cents <= amount_cents", name="refund_within_amount"
        ),
        Index(
            "uq_payments_live_per_booking",
            "booking_id",
            unique=True,
            sqlite_where=text(f"status IN {LIVE_PAYMENT}"),
            postgresql_where=text(f"status IN {LIVE_PAYMENT}"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"), index=True)
    organizer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    provider_ref: Mapped[str | None] = mapped_column(String(100), index=True)
    status: Mapped[PaymentStatus] = mapped_column(
        Enum(PaymentStatus, native_enum=False, length=20, validate_strings=True)
    )
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    refunded_cents: Mapped[int] = mapped_column(default=0)
    provider_fee_cents: Mapped[int] = mapped_column(default=0)
    platform_fee_cents: Mapped[int] = mapped_column(default=0)
    method: Mapped[str | None] = mapped_column(String(50))  # "visa •••• 4242", never the number
    failure_code: Mapped[str | None] = mapped_column(String(50))
    failure_message: Mapped[str | None] = mapped_column(String(300))
    next_action: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    client_secret: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    succeeded_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class LedgerKind(enum.StrEnum):
    charge = "charge"  # the buyer paid (+ to the provider balance)
    provider_fee = "provider_fee"  # the provider kept its fee (-)
    platform_fee = "platform_fee"  # our take out of the organizer's share (informational split)
    refund = "refund"  # money back to the buyer (-)
    chargeback = "chargeback"  # the bank took it back (-)


class LedgerEntry(Base):
    """One movement of money; append-only. Every report is rebuilt from these rows."""

    __tablename__ = "ledger_entries"
    __outbox_entity__ = "ledger_entry"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"), index=True)
    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id"), index=True)
    organizer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[LedgerKind] = mapped_column(
        Enum(LedgerKind, native_enum=False, length=20, validate_strings=True)
    )
    # Signed, in minor units, as it moves the provider balance (platform_fee: as it moves the
    # organizer's share).
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SandboxIntent(Base):
    """The sandbox provider's side of a payment, as Stripe would keep it: separate from ours,
    written in its own transactions, found again by the idempotency key we sent."""

    __tablename__ = "sandbox_intents"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(30))
    card: Mapped[str] = mapped_column(String(40))
    failure_code: Mapped[str | None] = mapped_column(String(50))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When an outcome that arrives later (a bank debit clearing, a dispute) lands.
    settles_at: Mapped[datetime | None] = mapped_column(index=True)


class SandboxEvent(Base):
    """An event the sandbox announces, as Stripe's `Event` objects: the object's state when it
    happened, delivered by the worker to /payments/webhooks/sandbox with Stripe's signature
    scheme, retried with backoff until the endpoint answers 2xx."""

    __tablename__ = "sandbox_events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str] = mapped_column(String(40), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (Index("ix_sandbox_events_undelivered", "delivered_at", "created_at"),)


class RefundStatus(enum.StrEnum):
    pending = "pending"  # the amount is set aside; the provider has not answered yet
    succeeded = "succeeded"
    failed = "failed"


class Refund(Base):
    """Money back for (part of) a payment. Its amount is set aside on the payment before the
    provider is asked, so concurrent refunds can never add up to more than was paid."""

    __tablename__ = "refunds"
    __outbox_entity__ = "refund"
    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"), index=True)
    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id"), index=True)
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[RefundStatus] = mapped_column(
        Enum(RefundStatus, native_enum=False, length=20, validate_strings=True)
    )
    reason: Mapped[str | None] = mapped_column(String(300))
    # The provider's refund: unique, so a refund made in the provider's dashboard and announced
    # twice (refund.created, charge.refunded) is recorded once.
    provider_ref: Mapped[str | None] = mapped_column(String(100), unique=True, index=True)
    failure_code: Mapped[str | None] = mapped_column(String(50))
    requested_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # The outbox event that asked for it (a cancellation), so it is asked for once.
    source_event_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    succeeded_at: Mapped[datetime | None]
    # The worker retries a refund the provider has not settled, backing off between attempts.
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class SandboxRefund(Base):
    """The sandbox provider's side of a refund."""

    __tablename__ = "sandbox_refunds"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    intent_id: Mapped[str] = mapped_column(ForeignKey("sandbox_intents.id"), index=True)
    amount_cents: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookEvent(Base):
    """A provider's event we have handled, by its id: a second delivery is acknowledged and
    skipped."""

    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class InvoiceKind(enum.StrEnum):
    invoice = "invoice"
    credit_note = "credit_note"


class InvoiceCounter(Base):
    """The last number an organizer's invoices used. Taken and incremented in the invoice's own
    transaction (the row stays locked until it commits), so numbers have no gaps and no
    duplicates, however many bookings are paid at once."""

    __tablename__ = "invoice_counters"

    organizer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class Invoice(Base):
    """An invoice (on payment) or a credit note (on refund), frozen when issued."""

    __tablename__ = "invoices"
    __outbox_entity__ = "invoice"
    __table_args__ = (UniqueConstraint("organizer_id", "sequence"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organizer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    sequence: Mapped[int]
    number: Mapped[str] = mapped_column(String(40))
    kind: Mapped[InvoiceKind] = mapped_column(
        Enum(InvoiceKind, native_enum=False, length=20, validate_strings=True)
    )
    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id"), index=True)
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"))
    refund_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("refunds.id"), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    net_cents: Mapped[int]
    tax_cents: Mapped[int]
    gross_cents: Mapped[int]
    seller: Mapped[dict[str, Any]] = mapped_column(JSON)
    buyer: Mapped[dict[str, Any]] = mapped_column(JSON)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrganizerFee(Base):
    """The platform fee agreed with one organizer, instead of the platform's default."""

    __tablename__ = "organizer_fees"
    __outbox_entity__ = "organizer_fee"
    __table_args__ = (
        CheckConstraint("fee_bps >= 0 AND fee_bps <= 10000", name="fee_bps_valid"),
        CheckConstraint("fee_fixed_cents >= 0", name="fee_fixed_not_negative"),
    )

    organizer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    fee_bps: Mapped[int]
    fee_fixed_cents: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
