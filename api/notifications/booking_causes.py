"""Messages about one booking: confirmed, cancelled, refunded, reminders, waitlist offers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.bookings import BookingStatus
from api.bookings import service as bookings_service
from api.config import Settings
from api.events import Event
from api.notifications import catalogue
from api.notifications.causes import (
    Cause,
    base_context,
    booking_context,
    event_context,
    event_of,
)
from api.outbox import OutboxEvent
from api.users import service as users_service


async def booking_message(
    session: AsyncSession, settings: Settings, row: OutboxEvent, *, trigger: str | None = None
) -> list[Cause]:
    payload = row.payload
    booking_id = uuid.UUID(payload.get("booking_id") or payload["id"])
    booking = await bookings_service.get(session, booking_id=booking_id)
    if booking is None:
        return []
    event = await event_of(session, booking.event_id)
    user = await users_service.get(session, user_id=booking.user_id)
    if event is None or user is None:
        return []
    name = (
        trigger
        or {
            "booking.confirmed": "booking_confirmed",
            "booking.cancelled": "booking_cancelled",
            "booking.refunded": "booking_refunded",
        }[row.event_type]
    )
    if name == "booking_cancelled":
        if payload.get("confirmed_at") is None:
            return []  # a hold that lapsed or was dropped: nothing was bought
        if _cancelled_with_event(payload, event):
            return []  # the event's cancellation message says it all
    if name.startswith("reminder_") and booking.status != BookingStatus.confirmed:
        return []
    spec = catalogue.TRIGGERS[name]
    return [
        Cause(
            trigger=name,
            user=user,
            key=f"{name}:{row.event_id}",
            context=base_context(settings, user)
            | event_context(settings, event)
            | booking_context(
                settings,
                booking.id,
                seats=booking.seats,
                total_cents=int(payload.get("total_cents", booking.total_cents)),
                currency=booking.currency,
            ),
            event_id=event.id,
            booking_id=booking.id,
            source_event_id=row.event_id,
            attachments=spec.attachments,
        )
    ]


def _cancelled_with_event(payload: dict[str, Any], event: Event) -> bool:
    """Whether the event's cancellation cancelled this booking, as its `booking.cancelled` row
    recorded it: a holder who cancelled first (even moments before the event was) is told
    about their own cancellation. Rows written before `cancelled_by` was recorded fall back to
    the rule `event_causes.event_cancelled` uses: cancelled at or after the event."""
    if "cancelled_by" in payload:
        return bool(payload["cancelled_by"] == "event")
    cancelled_at = payload.get("cancelled_at")
    return (
        event.cancelled_at is not None
        and cancelled_at is not None
        and datetime.fromisoformat(cancelled_at) >= event.cancelled_at
    )


async def waitlist_offer(
    session: AsyncSession, settings: Settings, row: OutboxEvent
) -> list[Cause]:
    payload = row.payload
    user = await users_service.get(session, user_id=uuid.UUID(payload["user_id"]))
    event = await event_of(session, uuid.UUID(payload["event_id"]))
    if user is None or event is None or not payload.get("booking_id"):
        return []
    booking_id = uuid.UUID(payload["booking_id"])
    return [
        Cause(
            trigger="waitlist_offer",
            user=user,
            key=f"waitlist_offer:{row.event_id}",
            context=base_context(settings, user)
            | event_context(settings, event)
            | booking_context(
                settings,
                booking_id,
                seats=int(payload["quantity"]),
                offer_expires_at=payload.get("offer_expires_at"),
            ),
            event_id=event.id,
            booking_id=booking_id,
            source_event_id=row.event_id,
        )
    ]
