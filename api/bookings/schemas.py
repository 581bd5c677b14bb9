"""Request and response bodies of the bookings domain."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from pydantic.config import JsonDict

from api.bookings.models import BookingStatus, WaitlistStatus
from api.inputs import Input, example

AttendeeName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
EVENT_ID = "3f1c6d2e-8a4b-4c1e-9f7a-2b5d0c9e1a77"
TICKET_TYPE_ID = "9b4e7a10-2c5d-4e8f-b3a6-1d0c9e8f7a65"
BOOKING_ID = "6e1a9d4c-7b2f-4d3e-8a5c-9f0b1e2d3c4a"
USER_ID = "5c8d2b1a-3e4f-4a6b-9c7d-8e0f1a2b3c4d"
BOOKING_EXAMPLE: JsonDict = {
    "id": BOOKING_ID,
    "user_id": USER_ID,
    "event_id": EVENT_ID,
    "status": "confirmed",
    "currency": "EUR",
    "total_cents": 5000,
    "tax_cents": 327,
    "seats": 2,
    "expires_at": None,
    "created_at": "2027-05-20T20:14:03+02:00",
    "confirmed_at": "2027-05-20T20:16:41+02:00",
    "cancelled_at": None,
    "lines": [
        {
            "ticket_type_id": TICKET_TYPE_ID,
            "quantity": 2,
            "unit_price_cents": 2500,
            "net_cents": 4673,
            "tax_cents": 327,
            "gross_cents": 5000,
            "tax_name": "VAT",
            "tax_rate_bps": 700,
            "tax_inclusive": True,
            "attendee_names": ["Anna Schmidt", "Jonas Weber"],
        }
    ],
}
QR_PAYLOAD = "TSR1.kX3vQ9mB2pLr7TzN4wYc8A.d9Fh2LqP0sVx6bNe"
WAITLIST_ENTRY_EXAMPLE: JsonDict = {
    "id": "b2c4e6f8-1a3d-4b5c-8e7f-9a0b1c2d3e4f",
    "event_id": EVENT_ID,
    "ticket_type_id": TICKET_TYPE_ID,
    "user_id": USER_ID,
    "quantity": 2,
    "status": "waiting",
    "position": 3,
    "created_at": "2027-06-01T08:30:00+02:00",
    "offered_at": None,
    "offer_expires_at": None,
    "booking_id": None,
}
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
    model_config = example(
        {
            "event_id": EVENT_ID,
            "lines": [
                {
                    "ticket_type_id": TICKET_TYPE_ID,
                    "quantity": 2,
                    "attendees": ["Anna Schmidt", "Jonas Weber"],
                }
            ],
        }
    )

    event_id: uuid.UUID
    lines: Annotated[list[LineRequest], Field(min_length=1, max_length=20)]


class CancelBooking(Input):
    model_config = example({"reason": "I can no longer make it that evening"})

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
    model_config = example(BOOKING_EXAMPLE, from_attributes=True)

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
    model_config = example({"items": [BOOKING_EXAMPLE], "total": 1, "page": 1, "page_size": 20})

    items: list[BookingOut]
    total: int
    page: int
    page_size: int


class TicketOut(BaseModel):
    model_config = example(
        {
            "id": "1f9e8d7c-6b5a-4c3d-a2e1-0f9e8d7c6b5a",
            "booking_id": BOOKING_ID,
            "ticket_type_id": TICKET_TYPE_ID,
            "status": "valid",
            "attendee_name": "Anna Schmidt",
            "checked_in_at": None,
            "qr_payload": QR_PAYLOAD,
            "qr_svg": '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 29 29">…</svg>',
        }
    )

    id: uuid.UUID
    booking_id: uuid.UUID
    ticket_type_id: uuid.UUID
    status: str
    attendee_name: str | None
    checked_in_at: datetime | None
    qr_payload: Annotated[str, Field(description="What the QR code holds (signed)")]
    qr_svg: Annotated[str, Field(description="The QR code as an SVG image")]


class CheckInRequest(Input):
    model_config = example(
        {
            "payload": QR_PAYLOAD,
            "scan_id": "5d1c2b3a-4e5f-4a6b-9c7d-8e9f0a1b2c3d",
            "device": "Door 1",
        }
    )

    payload: Annotated[
        str,
        Field(
            min_length=10,
            max_length=200,
            description="The scanned QR, or the ticket code printed under it, typed",
        ),
    ]
    scan_id: uuid.UUID | None = Field(
        default=None,
        description="The device's id for this scan: sent again, it gets the same answer",
    )
    device: Annotated[str | None, Field(max_length=100)] = None
    scanned_at: AwareDatetime | None = Field(
        default=None, description="When a device scanned it while offline (else: now)"
    )


class CheckInOut(BaseModel):
    model_config = example(
        {
            "ticket_id": "1f9e8d7c-6b5a-4c3d-a2e1-0f9e8d7c6b5a",
            "booking_id": BOOKING_ID,
            "ticket_type_id": TICKET_TYPE_ID,
            "already_checked_in": False,
            "first_checked_in_at": "2027-06-12T19:02:17+02:00",
            "holder_name": "Anna Schmidt",
            "ticket_type_name": "General admission",
            "first_checked_in_by": None,
            "outcome": "admitted",
        }
    )

    ticket_id: uuid.UUID
    booking_id: uuid.UUID
    ticket_type_id: uuid.UUID
    already_checked_in: bool
    first_checked_in_at: datetime
    holder_name: str  # the attendee's name on the ticket, else the buyer's
    ticket_type_name: str
    first_checked_in_by: str | None  # on a repeat scan: who scanned it first
    first_checked_in_device: str | None = None  # ...and on which device
    outcome: str = Field(
        description="admitted (the first scan), already (scanned before: refuse entry), or "
        "conflict (an offline scan of a ticket another door had admitted)"
    )


class WaitlistJoin(Input):
    model_config = example({"ticket_type_id": TICKET_TYPE_ID, "quantity": 2})

    repeatable = frozenset({"attendees"})

    ticket_type_id: uuid.UUID
    quantity: Annotated[int, Field(ge=1, le=100)] = 1
    attendees: Attendees | None = None


class WaitlistEntryOut(BaseModel):
    model_config = example(WAITLIST_ENTRY_EXAMPLE, from_attributes=True)

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
    model_config = example(
        {"items": [WAITLIST_ENTRY_EXAMPLE], "total": 1, "page": 1, "page_size": 20}
    )

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


OFFLINE_BATCH = 500  # scans a device sends at once


class OfflineScan(Input):
    scan_id: uuid.UUID
    payload: Annotated[str, Field(min_length=10, max_length=200)]
    scanned_at: AwareDatetime
    device: Annotated[str | None, Field(max_length=100)] = None


class OfflineScans(Input):
    model_config = example(
        {
            "scans": [
                {
                    "scan_id": "5d1c2b3a-4e5f-4a6b-9c7d-8e9f0a1b2c3d",
                    "payload": QR_PAYLOAD,
                    "scanned_at": "2027-06-12T19:02:17+02:00",
                    "device": "Door 2",
                }
            ]
        }
    )

    repeatable = frozenset({"scans"})

    scans: Annotated[list[OfflineScan], Field(min_length=1, max_length=OFFLINE_BATCH)]


class ScanResultOut(BaseModel):
    scan_id: uuid.UUID
    outcome: str = Field(
        description="admitted, conflict (another door admitted it first) or refused"
    )
    code: str | None = Field(None, description="Why a refused scan was refused (an error code)")
    scan: CheckInOut | None = Field(None, description="The ticket, when the scan named one")


class OfflineResultsOut(BaseModel):
    results: list[ScanResultOut]


class ExpectedOut(BaseModel):
    code_hash: str = Field(description="SHA-256 of the ticket's code, in hex")
    holder_name: str
    ticket_type_name: str
    checked_in_at: datetime | None


class CountersOut(BaseModel):
    expected: int = Field(description="Valid tickets of the event")
    checked_in: int
    conflicts: int = Field(description="Offline scans of tickets another door had admitted")


class DoorListOut(BaseModel):
    counters: CountersOut
    tickets: list[ExpectedOut]
