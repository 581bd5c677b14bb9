"""What the planner makes of an outbox event before fanning it out: one `Cause` per person to
tell, with the context its wording renders with."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.config import Settings
from api.events import Event
from api.events import service as events_service
from api.notifications.models import Channel
from api.users import User


@dataclass
class Cause:
    """One reason to tell one person something."""

    trigger: str
    user: User | None  # None: somebody without an account, at `recipient` on `channels`
    key: str  # unique per cause and person; the channel is added per notification
    context: dict[str, Any]
    event_id: uuid.UUID | None = None
    booking_id: uuid.UUID | None = None
    source_event_id: uuid.UUID | None = None
    attachments: tuple[str, ...] = ()
    channels: tuple[Channel, ...] | None = None  # None: every channel the person allows
    recipient: str | None = None  # an address or number given by the request itself
    sealed: str | None = None


async def event_of(session: AsyncSession, event_id: uuid.UUID) -> Event | None:
    """The event, whatever its state."""
    found = await events_service.get_many(session, event_ids=[event_id])
    return found[0] if found else None


def base_context(settings: Settings, user: User) -> dict[str, Any]:
    return {
        "base_url": settings.public_base_url.rstrip("/"),
        "name": user.public_name,
        "timezone": user.timezone or "UTC",
        "locale": user.locale or "en",  # amounts and times in the reader's format
    }


def event_context(settings: Settings, event: Event) -> dict[str, Any]:
    venue = ", ".join(p for p in (event.venue_name, event.city) if p) or event.online_url
    base = settings.public_base_url.rstrip("/")
    return {
        "event_id": str(event.id),
        "event_title": event.title,
        "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
        "venue": venue or "",
        "event_url": f"{base}/event/{event.slug}",  # the storefront's event page
    }


def booking_context(settings: Settings, booking_id: uuid.UUID, **facts: Any) -> dict[str, Any]:
    base = settings.public_base_url.rstrip("/")
    return {
        "booking_id": str(booking_id),
        "booking_reference": booking_id.hex[:8].upper(),
        "booking_url": f"{base}/my/bookings/{booking_id}",  # the buyer's booking page
    } | facts
