"""Request and response bodies of the events domain."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, HttpUrl, model_validator

from api.events.examples import (
    CATEGORY_ID,
    EVENT_EXAMPLE,
    EVENT_ID,
    TICKET_TYPE_EXAMPLE,
    VENUE_EXAMPLE,
)
from api.events.models import EventStatus, Visibility
from api.inputs import Input, Patch, example
from api.users import TimeZone

Title = Annotated[str, Field(min_length=3, max_length=200)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EUR", "USD"])]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$", examples=["DE", "US"])]
Tag = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[\w\- ]+$")]
Slug = Annotated[str, Field(min_length=3, max_length=120, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]


class _Strict(Input):
    """A request body of the events domain."""


class Venue(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    address: Annotated[str, Field(max_length=300)] | None = None
    city: Annotated[str, Field(min_length=1, max_length=100)]
    country: Country
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None


class CategoryCreate(_Strict):
    model_config = example({"name": "Jazz & Blues", "description": "Live jazz, blues and soul"})

    name: Annotated[str, Field(min_length=2, max_length=100)]
    description: Annotated[str, Field(max_length=1000)] | None = None


class CategoryOut(BaseModel):
    model_config = example(
        {
            "id": CATEGORY_ID,
            "name": "Jazz & Blues",
            "slug": "jazz-blues",
            "description": "Live jazz, blues and soul",
            "upcoming_events": 12,
        }
    )

    id: uuid.UUID
    name: str
    slug: str
    description: str | None
    upcoming_events: int


def ticket_type_conflict(
    *,
    min_per_order: int,
    max_per_order: int,
    sales_start: datetime | None,
    sales_end: datetime | None,
) -> tuple[str, str] | None:
    """The field at fault and why, when a ticket type's fields contradict each other."""
    if max_per_order < min_per_order:
        return "max_per_order", "max_per_order must be at least min_per_order"
    if sales_start and sales_end and sales_end <= sales_start:
        return "sales_end", "sales_end must be after sales_start"
    return None


class TicketTypeFields(_Strict):
    model_config = example(
        {
            "name": "Standing",
            "price_cents": 2500,
            "quantity": 250,
            "max_per_order": 6,
            "tax_rate_bps": 700,
        }
    )

    name: Annotated[str, Field(min_length=1, max_length=100)]
    description: Annotated[str, Field(max_length=1000)] | None = None
    price_cents: Annotated[int, Field(ge=0, le=100_000_000, description="In minor units")]
    quantity: Annotated[int, Field(ge=0, le=1_000_000)]
    sales_start: AwareDatetime | None = None
    sales_end: AwareDatetime | None = None
    min_per_order: Annotated[int, Field(ge=1, le=100)] = 1
    max_per_order: Annotated[int, Field(ge=1, le=100)] = 10
    sort_order: Annotated[int, Field(ge=0, le=10_000)] = 0
    tax_name: Annotated[str, Field(min_length=1, max_length=50)] | None = Field(
        default=None, examples=["VAT"], description="Shown on invoices, e.g. VAT or sales tax"
    )
    tax_rate_bps: Annotated[int, Field(ge=0, le=10_000)] = Field(
        default=0, description="Tax rate in basis points: 1900 is 19 %"
    )
    tax_inclusive: bool = Field(
        default=True, description="The price includes the tax (EU style) or tax is added on top"
    )
    tax_country: Country | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        conflict = ticket_type_conflict(
            min_per_order=self.min_per_order,
            max_per_order=self.max_per_order,
            sales_start=self.sales_start,
            sales_end=self.sales_end,
        )
        if conflict is not None:
            raise ValueError(conflict[1])
        return self


class TicketTypeUpdate(Patch):
    model_config = example({"price_cents": 2900, "quantity": 300})

    clearable = frozenset({"description", "sales_start", "sales_end", "tax_name", "tax_country"})

    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    description: Annotated[str, Field(max_length=1000)] | None = None
    price_cents: Annotated[int, Field(ge=0, le=100_000_000)] | None = None
    quantity: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    sales_start: AwareDatetime | None = None
    sales_end: AwareDatetime | None = None
    min_per_order: Annotated[int, Field(ge=1, le=100)] | None = None
    max_per_order: Annotated[int, Field(ge=1, le=100)] | None = None
    sort_order: Annotated[int, Field(ge=0, le=10_000)] | None = None
    tax_name: Annotated[str, Field(min_length=1, max_length=50)] | None = None
    tax_rate_bps: Annotated[int, Field(ge=0, le=10_000)] | None = None
    tax_inclusive: bool | None = None
    tax_country: Country | None = None


class TicketTypeOut(BaseModel):
    model_config = example(TICKET_TYPE_EXAMPLE, from_attributes=True)

    id: uuid.UUID
    event_id: uuid.UUID
    name: str
    description: str | None
    price_cents: int
    quantity: int
    sales_start: datetime | None
    sales_end: datetime | None
    min_per_order: int
    max_per_order: int
    sort_order: int
    tax_name: str | None
    tax_rate_bps: int
    tax_inclusive: bool
    tax_country: str | None


class EventCreate(_Strict):
    model_config = example(
        {
            "title": "Harbour Jazz Night",
            "description": "Three bands, one stage by the **Elbe**.",
            "tags": ["jazz", "live music"],
            "venue": VENUE_EXAMPLE,
            "starts_at": "2027-06-12T19:30:00+02:00",
            "ends_at": "2027-06-12T23:00:00+02:00",
            "timezone": "Europe/Berlin",
            "capacity": 300,
            "currency": "EUR",
        }
    )

    title: Title
    description: Annotated[str, Field(max_length=50_000, description="Markdown")] = ""
    category_id: uuid.UUID | None = None
    tags: Annotated[list[Tag], Field(max_length=20)] = []
    venue: Venue | None = None
    online_url: HttpUrl | None = None
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    timezone: TimeZone
    visibility: Visibility = Visibility.public
    capacity: Annotated[int, Field(ge=0, le=1_000_000)]
    currency: Currency
    attendee_cancellation_hours: Annotated[int, Field(ge=0, le=8760)] | None = Field(
        default=24, description="Attendees may cancel until this many hours before the start"
    )
    attendee_names_required: bool = Field(
        default=False, description="Buyers must name the attendee of every ticket"
    )
    waitlist_offer_hours: Annotated[int, Field(ge=1, le=168)] = Field(
        default=24, description="How long freed seats are held for the next person waiting"
    )
    checkin_opens_minutes_before: Annotated[int, Field(ge=0, le=10_080)] = Field(
        default=360,
        description="Tickets are checked in at the door from this many minutes before the "
        "start (at most a week) until the end",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.venue is None and self.online_url is None:
            raise ValueError("an event needs a venue, an online_url, or both")
        return self


class EventUpdate(Patch):
    """Fields that may change; what may change after publishing is checked by the service."""

    model_config = example({"title": "Harbour Jazz Night: Summer Edition", "capacity": 350})

    clearable = frozenset({"category_id", "venue", "online_url", "attendee_cancellation_hours"})

    title: Title | None = None
    slug: Slug | None = None
    description: Annotated[str, Field(max_length=50_000)] | None = None
    category_id: uuid.UUID | None = None
    tags: Annotated[list[Tag], Field(max_length=20)] | None = None
    venue: Venue | None = None
    online_url: HttpUrl | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    timezone: TimeZone | None = None
    visibility: Visibility | None = None
    capacity: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    currency: Currency | None = None
    attendee_cancellation_hours: Annotated[int, Field(ge=0, le=8760)] | None = None
    attendee_names_required: bool | None = None
    waitlist_offer_hours: Annotated[int, Field(ge=1, le=168)] | None = None
    checkin_opens_minutes_before: Annotated[int, Field(ge=0, le=10_080)] | None = None


class EventOut(BaseModel):
    model_config = example(EVENT_EXAMPLE)

    id: uuid.UUID
    slug: str
    title: str
    description: str
    description_html: str
    category_id: uuid.UUID | None
    tags: list[str]
    organizer_id: uuid.UUID
    venue: Venue | None
    online_url: str | None
    starts_at: datetime
    ends_at: datetime
    timezone: str
    visibility: Visibility
    capacity: int
    currency: str
    status: EventStatus
    cancellation_reason: str | None
    attendee_cancellation_hours: int | None
    attendee_names_required: bool
    waitlist_offer_hours: int
    checkin_opens_minutes_before: int
    published_at: datetime | None
    cancelled_at: datetime | None
    created_at: datetime
    updated_at: datetime
    price_min_cents: int | None
    price_max_cents: int | None
    ticket_types: list[TicketTypeOut]
    highlights: dict[str, str] | None = Field(
        default=None,
        description="Searches only: title/description snippets, HTML with <mark> around the "
        "matched words and everything else escaped",
    )
    click_url: str | None = Field(
        default=None, description="Searches only: opens the event and records the click"
    )
    sales: EventSales | None = Field(
        default=None, description="Only in the organizer's own listing"
    )


class EventSales(BaseModel):
    confirmed_seats: int
    held_seats: int
    confirmed_cents: int


class EventPage(BaseModel):
    model_config = example(
        {
            "items": [EVENT_EXAMPLE],
            "next_cursor": "MjAyNy0wNi0xMlQxNzozMDowMFo",
            "total": 37,
        }
    )

    items: list[EventOut]
    next_cursor: str | None
    total: int
    facets: dict[str, dict[str, int]] | None = Field(
        default=None,
        description="Searches only: counts per category, city and price bucket "
        "(free, under_20, 20_to_50, 50_to_100, 100_and_more; cheapest ticket, minor units)",
    )
    search_id: uuid.UUID | None = Field(
        default=None, description="Searches only: send it with POST /search/clicks"
    )


class CancelRequest(_Strict):
    model_config = example({"reason": "The headliner is ill; every ticket is refunded in full."})

    reason: Annotated[str, Field(min_length=3, max_length=1000)]


class DuplicateRequest(_Strict):
    model_config = example({"shift_days": 7, "title": "Harbour Jazz Night: Encore"})

    shift_days: Annotated[int, Field(ge=-3650, le=3650, description="Move the copy's dates")] = 0
    title: Title | None = None


class MediaUpdate(Patch):
    model_config = example({"position": 0})

    position: (
        Annotated[
            int, Field(ge=0, le=100, description="Where among the event's images; 0 shows it first")
        ]
        | None
    ) = None
    alt_text: Annotated[str, Field(max_length=300)] | None = None


class MediaOut(BaseModel):
    model_config = example(
        {
            "id": "e4b7c2d9-0a1f-4e3b-8c6d-5f2a9b1e7c30",
            "event_id": EVENT_ID,
            "url": "https://media.tessera.example/events/3f1c6d2e/stage.webp",
            "content_type": "image/webp",
            "width": 1600,
            "height": 900,
            "size_bytes": 184320,
            "alt_text": "The band on stage at the Fischauktionshalle",
            "sort_order": 0,
            "created_at": "2027-02-19T11:02:00+01:00",
        }
    )

    id: uuid.UUID
    event_id: uuid.UUID
    url: str
    content_type: str
    width: int
    height: int
    size_bytes: int
    alt_text: str | None
    sort_order: int
    created_at: datetime


class EventSort(StrEnum):
    starts_at = "starts_at"
    price = "price"
    newest = "newest"
    relevance = "relevance"  # searches only (with `q` or a search-only filter)
    popularity = "popularity"  # searches only


class StaffGrantIn(Input):
    model_config = example({"email": "sam.door@example.com", "event_id": None})

    email: EmailStr
    event_id: uuid.UUID | None = None  # None: every event of the organizer, now and later


class StaffGrantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    event_id: uuid.UUID | None
    organizer_id: uuid.UUID
    created_at: datetime
