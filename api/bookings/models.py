"""Bookings: a hold on seats of one event's ticket types, and its history."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base, BigIntPK, new_id, utcnow


class BookingStatus(enum.StrEnum):
    pending = "pending"
    confirmed = "confirmed"
    cancelled = "cancelled"
    refunded = "refunded"
    expired = "expired"


def _status_enum() -> Enum:
    return Enum(BookingStatus, native_enum=False, length=20, validate_strings=True)


class Booking(Base):
    __tablename__ = "bookings"
    __outbox_entity__ = "booking"
    __table_args__ = (Index("ix_bookings_pending_expiry", "status", "expires_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"), index=True)
    status: Mapped[BookingStatus] = mapped_column(_status_enum())
    currency: Mapped[str] = mapped_column(String(3))
    total_cents: Mapped[int]  # the sum of the lines' gross
    tax_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    seats: Mapped[int]
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    lines: Mapped[list[BookingLine]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="BookingLine.id"
    )

    __mapper_args__ = {"version_id_col": version}


class BookingLine(Base):
    __tablename__ = "booking_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    booking_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    ticket_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ticket_types.id"), index=True)
    quantity: Mapped[int]
    unit_price_cents: Mapped[int]
    # The line's money (api/bookings/money.py) and the tax it was computed with.
    net_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    tax_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    gross_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    tax_name: Mapped[str | None] = mapped_column(String(50))
    tax_rate_bps: Mapped[int] = mapped_column(default=0, server_default="0")
    tax_inclusive: Mapped[bool] = mapped_column(default=True, server_default="1")
    # One name per seat, when the event asks for them; copied onto the tickets.
    attendee_names: Mapped[list[str] | None] = mapped_column(JSON)


class BookingTransition(Base):
    """Every change of a booking's status, with when and who."""

    __tablename__ = "booking_transitions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    booking_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[BookingStatus | None] = mapped_column(_status_enum())
    to_status: Mapped[BookingStatus] = mapped_column(_status_enum())
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID | None]
    reason: Mapped[str | None] = mapped_column(String(200))


class TicketStatus(enum.StrEnum):
    valid = "valid"
    void = "void"


class Ticket(Base):
    """One seat of a confirmed booking; `code` is what the QR code carries."""

    __tablename__ = "tickets"
    __outbox_entity__ = "ticket"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    booking_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"), index=True)
    ticket_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ticket_types.id"))
    code: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[TicketStatus] = mapped_column(
        Enum(TicketStatus, native_enum=False, length=10, validate_strings=True),
        default=TicketStatus.valid,
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attendee_name: Mapped[str | None] = mapped_column(String(200))
    checked_in_at: Mapped[datetime | None]
    checked_in_by: Mapped[uuid.UUID | None]


class WaitlistStatus(enum.StrEnum):
    waiting = "waiting"  # in the queue
    offered = "offered"  # seats held for this person until `offer_expires_at`
    converted = "converted"  # the offered booking was confirmed
    lapsed = "lapsed"  # the offer ran out
    declined = "declined"  # the person cancelled the offered booking
    left = "left"  # the person left the queue
    closed = "closed"  # the event was cancelled


ACTIVE_WAITLIST = (WaitlistStatus.waiting, WaitlistStatus.offered)


class WaitlistEntry(Base):
    """A place in the queue for seats of one ticket type; served first come, first served."""

    __tablename__ = "waitlist_entries"
    __outbox_entity__ = "waitlist_entry"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_waitlist_entries_queue", "ticket_type_id", "status", "created_at"),
        # One place in the queue per person and ticket type at a time.
        Index(
            "uq_waitlist_entries_active",
            "ticket_type_id",
            "user_id",
            unique=True,
            sqlite_where=text("status IN ('waiting', 'offered')"),
            postgresql_where=text("status IN ('waiting', 'offered')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"), index=True)
    ticket_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ticket_types.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    quantity: Mapped[int]
    attendee_names: Mapped[list[str] | None] = mapped_column(JSON)
    status: Mapped[WaitlistStatus] = mapped_column(
        Enum(WaitlistStatus, native_enum=False, length=20, validate_strings=True),
        default=WaitlistStatus.waiting,
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    offered_at: Mapped[datetime | None]
    offer_expires_at: Mapped[datetime | None]
    booking_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bookings.id"), index=True)
    closed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class BookingReminder(Base):
    """A reminder announced for a booking; the key makes each one go out once."""

    __tablename__ = "booking_reminders"
    __table_args__ = (PrimaryKeyConstraint("booking_id", "kind"),)

    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    due_at: Mapped[datetime]
    announced_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Not announced because it came too late (booked after the reminder was due).
    skipped: Mapped[bool] = mapped_column(default=False)


class ScanOutcome(enum.StrEnum):
    pending = "pending"  # being decided (never committed as such)
    admitted = "admitted"  # the ticket's first check-in
    already = "already"  # scanned online after an earlier check-in: the door said no
    conflict = "conflict"  # admitted offline at a door while another scan had admitted it
    refused = "refused"  # not a valid ticket for this event now (`code` says why)


class CheckInScan(Base):
    """One scan at a door, under the id the scanning device gave it, decided exactly once: the
    same scan sent again (a retry, an offline batch sent twice) gets the same answer."""

    __tablename__ = "check_in_scans"
    __table_args__ = (Index("ix_check_in_scans_ticket", "ticket_id", "decided_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # the device's scan id
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"), index=True)
    ticket_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL")
    )
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    device: Mapped[str | None] = mapped_column(String(100))
    offline: Mapped[bool] = mapped_column(default=False)
    scanned_at: Mapped[datetime]
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[ScanOutcome] = mapped_column(
        Enum(ScanOutcome, native_enum=False, length=10, validate_strings=True)
    )
    code: Mapped[str | None] = mapped_column(String(100))  # the refusal's error code
