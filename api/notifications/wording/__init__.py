"""The bundled wording of every trigger, kept as data: one TOML file per family of triggers
(`account.toml`, `bookings.toml`, `events.toml`), read into `TRIGGERS` here.

A file holds one table per trigger, named by it:
- `category`: what the message is about (preferences are kept per category and channel);
  `description`: what sets it off; `attachments` (optional): what an email carries (tickets,
  invoice, calendar).
- `sample` (optional): what a preview renders with. Booking and event messages start from
  `EVENT_SAMPLE`, which their `sample` adds to.
- One table per channel and locale (`[booking_confirmed.email.de]`) with its wording: `subject`
  (an email's subject, a push or inbox message's title; an SMS has none), `text`, and for an
  email an optional `html`. Each is a Jinja template rendered with the trigger's context.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
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
    "event_url": "http://127.0.0.1:8000/event/night-of-the-analytical-engine",
    "booking_id": "6f1c2f0e-1d2b-4c55-9a8e-2a7b9f1e0c11",
    "booking_reference": "6F1C2F0E",
    "booking_url": "http://127.0.0.1:8000/my/bookings/6f1c2f0e-1d2b-4c55-9a8e-2a7b9f1e0c11",
    "seats": 2,
    "total_cents": 5000,
    "currency": "GBP",
}

_TRIGGER_KEYS = frozenset({"category", "description", "attachments", "sample"})


def _wording(table: dict[str, str]) -> Wording:
    """A channel and locale's wording; an unknown key (a misspelt `subjet`) is refused."""
    return Wording(**({"subject": ""} | table))


def _trigger(table: dict[str, Any], base_sample: dict[str, Any]) -> Trigger:
    return Trigger(
        category=Category(table["category"]),
        description=table["description"],
        sample=base_sample | table.get("sample", {}),
        attachments=tuple(table.get("attachments", ())),
        wording={
            (Channel(channel), locale): _wording(wording)
            for channel, locales in table.items()
            if channel not in _TRIGGER_KEYS
            for locale, wording in locales.items()
        },
    )


def _load(file: str, base_sample: dict[str, Any] | None = None) -> dict[str, Trigger]:
    """The triggers of one wording file, in its order."""
    text = resources.files(__name__).joinpath(file).read_text(encoding="utf-8")
    return {name: _trigger(table, base_sample or {}) for name, table in tomllib.loads(text).items()}


TRIGGERS: dict[str, Trigger] = (
    _load("account.toml")
    | _load("bookings.toml", EVENT_SAMPLE)
    | _load("events.toml", EVENT_SAMPLE)
)
