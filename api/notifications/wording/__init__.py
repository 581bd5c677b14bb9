"""The bundled wording of every trigger, one module per family: `account`, `bookings`,
`events`. `catalogue.TRIGGERS` puts them together."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.notifications.models import Category, Channel


@dataclass(frozen=True)
class Wording:
    subject: str  # the email subject, or the push and inbox title
    text: str
    html: str | None = None  # emails only; without it the text is shown as HTML paragraphs


@dataclass(frozen=True)
class Trigger:
    category: Category
    description: str
    sample: dict[str, Any]  # what a preview renders with
    attachments: tuple[str, ...] = ()  # emails: tickets, invoice, calendar
    wording: dict[tuple[Channel, str], Wording] = field(default_factory=dict)


EVENT_SAMPLE: dict[str, Any] = {
    "name": "Ada Lovelace",
    "event_title": "Night of the Analytical Engine",
    "starts_at": "2027-03-14T19:30:00+00:00",
    "timezone": "Europe/London",
    "venue": "Conway Hall, London",
    "event_url": "http://127.0.0.1:8000/events/night-of-the-analytical-engine",
    "booking_id": "6f1c2f0e-1d2b-4c55-9a8e-2a7b9f1e0c11",
    "booking_reference": "6F1C2F0E",
    "booking_url": "http://127.0.0.1:8000/bookings/6f1c2f0e-1d2b-4c55-9a8e-2a7b9f1e0c11",
    "seats": 2,
    "total_cents": 5000,
    "currency": "GBP",
}
