"""Categories, events, their slugs and ticket types."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base, new_id, utcnow


class EventStatus(enum.StrEnum):
    draft = "draft"
    published = "published"
    completed = "completed"
    cancelled = "cancelled"


class Visibility(enum.StrEnum):
    public = "public"
    unlisted = "unlisted"


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, validate_strings=True)


class Category(Base):
    __tablename__ = "categories"
    __outbox_entity__ = "category"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class Event(Base):
    __tablename__ = "events"
    __outbox_entity__ = "event"
    __table_args__ = (
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_events_listing", "status", "visibility", "starts_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("categories.id"), index=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    organizer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    venue_name: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(100), index=True)
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    online_url: Mapped[str | None] = mapped_column(String(2048))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(64))
    visibility: Mapped[Visibility] = mapped_column(_enum(Visibility), default=Visibility.public)
    capacity: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[EventStatus] = mapped_column(_enum(EventStatus), default=EventStatus.draft)
    cancellation_reason: Mapped[str | None] = mapped_column(String(1000))
    # Attendees may cancel until this many hours before the start; None: they may not.
    attendee_cancellation_hours: Mapped[int | None]
    # Each ticket of a booking must carry its attendee's name.
    attendee_names_required: Mapped[bool] = mapped_column(default=False, server_default="0")
    # How long seats offered to the next person on the waitlist are held for them.
    waitlist_offer_hours: Mapped[int] = mapped_column(default=24, server_default="24")
    # Door staff may check tickets in from this many minutes before the start until the end.
    checkin_opens_minutes_before: Mapped[int] = mapped_column(default=360, server_default="360")
    published_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    ticket_types: Mapped[list[TicketType]] = relationship(
        lazy="selectin",
        order_by="(TicketType.sort_order, TicketType.created_at)",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    __mapper_args__ = {"version_id_col": version}


class EventSlug(Base):
    """Every slug an event has had, so old links keep resolving; unique across all events."""

    __tablename__ = "event_slugs"

    slug: Mapped[str] = mapped_column(String(120), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketType(Base):
    __tablename__ = "ticket_types"
    __outbox_entity__ = "ticket_type"
    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("min_per_order >= 1", name="min_at_least_one"),
        CheckConstraint("max_per_order >= min_per_order", name="max_at_least_min"),
        CheckConstraint("reserved >= 0 AND reserved <= quantity", name="reserved_within_quantity"),
        CheckConstraint("tax_rate_bps >= 0 AND tax_rate_bps <= 10000", name="tax_rate_valid"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(1000))
    price_cents: Mapped[int]
    quantity: Mapped[int]
    sales_start: Mapped[datetime | None]
    sales_end: Mapped[datetime | None]
    min_per_order: Mapped[int] = mapped_column(default=1)
    max_per_order: Mapped[int] = mapped_column(default=10)
    sort_order: Mapped[int] = mapped_column(default=0)
    # Seats of confirmed bookings and live holds. Changed only by conditional updates in
    # api/events/seats.py, never read-then-written, and never above `quantity` (a CHECK says so).
    reserved: Mapped[int] = mapped_column(default=0, server_default="0")
    # Tax on this ticket: a rate in basis points, included in the price or added on top.
    tax_name: Mapped[str | None] = mapped_column(String(50))
    tax_rate_bps: Mapped[int] = mapped_column(default=0, server_default="0")
    tax_inclusive: Mapped[bool] = mapped_column(default=True, server_default="1")
    tax_country: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class EventMedia(Base):
    """An image of an event; the file lives in the media storage under `storage_key`."""

    __tablename__ = "event_media"
    __outbox_entity__ = "event_media"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    storage_key: Mapped[str] = mapped_column(String(512), unique=True)
    content_type: Mapped[str] = mapped_column(String(50))
    width: Mapped[int]
    height: Mapped[int]
    size_bytes: Mapped[int]
    alt_text: Mapped[str | None] = mapped_column(String(300))
    sort_order: Mapped[int] = mapped_column(default=0)
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffGrant(Base):
    """Door staff: the person with this email may check tickets in and read the attendee list
    of one event (`event_id`) or of every event of the organizer (`event_id` empty), and
    nothing else, once their account's address is verified; until `revoked_at`."""

    __tablename__ = "staff_grants"
    __outbox_entity__ = "staff_grant"
    __table_args__ = (Index("ix_staff_grants_email", "email", "revoked_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organizer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    event_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    granted_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
