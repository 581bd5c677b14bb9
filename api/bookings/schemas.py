"""Request and response bodies of the bookings domain."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.bookings.models import BookingStatus, WaitlistStatus
from api.inputs import Input

AttendeeName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
Attendees = Annotated[
    list[AttendeeName],
    Field(max_length=100, description="One name per ticket, when the event asks for names"),
]


class LineRequest(Input):
    identity = ("ticket_type_id",)  # a booking names each ticket type once, with its quantity
    repeatable = frozenset({"attendees"})  # two attendees may share a name

    ticket_type_id: uuid.UUID
    quantity: Annotated[int, Field(ge=1, le=100)]
    attendees: Attendees | None = None


class BookingCreate(Input):
    event_id: uuid.UUID
    lines: Annotated[list[LineRequest], Field(min_length=1, max_length=20)]


class CancelBooking(Input):
    reason: Annotated[str, Field(max_length=200)] | None = None


class LineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    ticket_type_id: uuid.UUID
    quantity: int
    unit_price_cents: int
    net_cents: int
    tax_cents: int
    gross_cents: int
    tax_name: str | None
    tax_rate_bps: int
    tax_inclusive: bool
    attendee_names: list[str] | None


class BookingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID
    event_id: uuid.UUID
    status: BookingStatus
    currency: str
    total_cents: int = Field(description="What the buyer pays: the sum of the lines' gross")
    tax_cents: int
    seats: int
    expires_at: datetime | None
    created_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    lines: list[LineOut]


class BookingPage(BaseModel):
    items: list[BookingOut]
    total: int
    page: int
    page_size: int


class TicketOut(BaseModel):
    id: uuid.UUID
    booking_id: uuid.UUID
    ticket_type_id: uuid.UUID
    status: str
    attendee_name: str | None
    checked_in_at: datetime | None
    qr_payload: Annotated[str, Field(description="What the QR code holds (signed)")]
    qr_svg: Annotated[str, Field(description="The QR code as an SVG image")]


class CheckInRequest(Input):
    payload: Annotated[str, Field(min_length=10, max_length=200, description="The scanned QR")]


class CheckInOut(BaseModel):
    ticket_id: uuid.UUID
    booking_id: uuid.UUID
    ticket_type_id: uuid.UUID
    already_checked_in: bool
    first_checked_in_at: datetime


class WaitlistJoin(Input):
    repeatable = frozenset({"attendees"})

    ticket_type_id: uuid.UUID
    quantity: Annotated[int, Field(ge=1, le=100)] = 1
    attendees: Attendees | None = None


class WaitlistEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    event_id: uuid.UUID
    ticket_type_id: uuid.UUID
    user_id: uuid.UUID
    quantity: int
    status: WaitlistStatus
    position: int | None = Field(
        default=None, description="Place in the queue while waiting, 1 is next"
    )
    created_at: datetime
    offered_at: datetime | None
    offer_expires_at: datetime | None
    booking_id: uuid.UUID | None = Field(description="The hold offered to this person")


class WaitlistPage(BaseModel):
    items: list[WaitlistEntryOut]
    total: int
    page: int
    page_size: int


class AttendeeOut(BaseModel):
    """One seat of a booking, for the organizer's attendee list."""

    booking_id: uuid.UUID
    booking_status: BookingStatus
    booked_at: datetime
    buyer_id: uuid.UUID
    buyer_name: str
    buyer_email: str
    ticket_type_id: uuid.UUID
    ticket_type: str
    unit_price_cents: int
    currency: str
    ticket_id: uuid.UUID | None = Field(description="Set once the booking is confirmed")
    ticket_code: str | None
    attendee_name: str | None
    checked_in_at: datetime | None


class AttendeePage(BaseModel):
    items: list[AttendeeOut]
    total: int = Field(description="Bookings matching the filter (a page holds whole bookings)")
    page: int
    page_size: int
