"""Request and response bodies of the bookings domain."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.bookings.models import BookingStatus


class LineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_type_id: uuid.UUID
    quantity: Annotated[int, Field(ge=1, le=100)]


class BookingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: uuid.UUID
    lines: Annotated[list[LineRequest], Field(min_length=1, max_length=20)]

    @model_validator(mode="after")
    def _distinct(self) -> BookingCreate:
        ids = [line.ticket_type_id for line in self.lines]
        if len(set(ids)) != len(ids):
            raise ValueError("each ticket type may appear once; give its total quantity")
        return self


class CancelBooking(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(max_length=200)] | None = None


class LineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    ticket_type_id: uuid.UUID
    quantity: int
    unit_price_cents: int


class BookingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID
    event_id: uuid.UUID
    status: BookingStatus
    currency: str
    total_cents: int
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
    checked_in_at: datetime | None
    qr_payload: Annotated[str, Field(description="What the QR code holds (signed)")]
    qr_svg: Annotated[str, Field(description="The QR code as an SVG image")]


class CheckInRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payload: Annotated[str, Field(min_length=10, max_length=200, description="The scanned QR")]


class CheckInOut(BaseModel):
    ticket_id: uuid.UUID
    booking_id: uuid.UUID
    ticket_type_id: uuid.UUID
    already_checked_in: bool
    first_checked_in_at: datetime
