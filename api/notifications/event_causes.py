"""Messages about an event to the people it concerns: its ticket holders when it changes or is
cancelled, an organizer's past customers (who opted in) when it is published."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.bookings import BookingStatus
from api.bookings import service as bookings_service
from api.config import Settings
from api.events import Event, EventStatus, Visibility
from api.notifications import catalogue
from api.notifications.causes import (
    Cause,
    base_context,
    booking_context,
    event_context,
    event_of,
)
from api.notifications.models import Category
from api.notifications.preferences import enabled_for
from api.outbox import OutboxEvent
from api.users import service as users_service

# What makes an event.updated worth telling ticket holders about.
_CHANGES = {
    "time": ("starts_at", "ends_at"),
    "venue": ("venue_name", "address", "city", "country", "online_url"),
}


async def _previous_image(session: AsyncSession, row: OutboxEvent) -> dict[str, Any] | None:
    previous = await session.scalar(
        select(OutboxEvent.payload)
        .where(
            OutboxEvent.entity == row.entity,
            OutboxEvent.entity_id == row.entity_id,
            OutboxEvent.id < row.id,
            OutboxEvent.event_type.like("event.%"),
        )
        .order_by(OutboxEvent.id.desc())
        .limit(1)
    )
    return dict(previous) if previous is not None else None


async def _holders_of(
    session: AsyncSession,
    settings: Settings,
    row: OutboxEvent,
    event: Event,
    trigger: str,
    holders: list[bookings_service.Holder],
    extra: dict[str, Any],
) -> list[Cause]:
    causes = []
    for holder in holders:
        user = await users_service.get(session, user_id=holder.user_id)
        if user is None:
            continue
        causes.append(
            Cause(
                trigger=trigger,
                user=user,
                key=f"{trigger}:{row.event_id}:{holder.booking_id}",
                context=base_context(settings, user)
                | event_context(settings, event)
                | booking_context(
                    settings,
                    holder.booking_id,
                    seats=holder.seats,
                    total_cents=holder.total_cents,
                    currency=holder.currency,
                )
                | extra,
                event_id=event.id,
                booking_id=holder.booking_id,
                source_event_id=row.event_id,
            )
        )
    return causes


async def event_changed(session: AsyncSession, settings: Settings, row: OutboxEvent) -> list[Cause]:
    event = await event_of(session, uuid.UUID(row.entity_id))
    before = await _previous_image(session, row)
    if event is None or before is None or event.status != EventStatus.published:
        return []
    after = row.payload
    changes = [
        what
        for what, columns in _CHANGES.items()
        if any(before.get(c) != after.get(c) for c in columns)
    ]
    if not changes:
        return []
    holders = await bookings_service.holders(
        session, event_id=event.id, statuses=(BookingStatus.confirmed,)
    )
    return await _holders_of(
        session, settings, row, event, "event_changed", holders, {"changes": changes}
    )


async def event_cancelled(
    session: AsyncSession, settings: Settings, row: OutboxEvent
) -> list[Cause]:
    event = await event_of(session, uuid.UUID(row.entity_id))
    if event is None or event.cancelled_at is None:
        return []
    holders = await bookings_service.holders(
        session,
        event_id=event.id,
        statuses=(BookingStatus.cancelled, BookingStatus.refunded),
        cancelled_since=event.cancelled_at,
    )
    return await _holders_of(
        session,
        settings,
        row,
        event,
        "event_cancelled",
        holders,
        {"reason": event.cancellation_reason or ""},
    )


async def new_event(session: AsyncSession, settings: Settings, row: OutboxEvent) -> list[Cause]:
    event = await event_of(session, uuid.UUID(row.entity_id))
    if event is None or event.visibility != Visibility.public:
        return []
    organizer = await users_service.get(session, user_id=event.organizer_id)
    customers = await bookings_service.past_customers(
        session, organizer_id=event.organizer_id, excluding_event=event.id
    )
    opted_in: set[uuid.UUID] = set()
    for channel in catalogue.CATEGORIES[Category.marketing].channels:
        opted_in |= await enabled_for(
            session, user_ids=customers, category=Category.marketing, channel=channel
        )
    causes = []
    for user_id in customers:
        if user_id not in opted_in or user_id == event.organizer_id:
            continue
        user = await users_service.get(session, user_id=user_id)
        if user is None:
            continue
        causes.append(
            Cause(
                trigger="new_event",
                user=user,
                # Announced once per person, however often the event is republished.
                key=f"new_event:{event.id}",
                context=base_context(settings, user)
                | event_context(settings, event)
                | {"organizer_name": organizer.public_name if organizer else ""},
                event_id=event.id,
                source_event_id=row.event_id,
            )
        )
    return causes


async def staff_invited(session: AsyncSession, settings: Settings, row: OutboxEvent) -> list[Cause]:
    """Tell an address an organizer gave the door of an event (or of all their events), by
    email, whether or not it has an account yet."""
    payload = row.payload
    email = payload["email"]
    organizer = await users_service.get(session, user_id=uuid.UUID(payload["organizer_id"]))
    user = await users_service.get_by_email(session, email=email)
    event = await event_of(session, uuid.UUID(payload["event_id"])) if payload["event_id"] else None
    context = {
        "base_url": settings.public_base_url.rstrip("/"),
        "name": user.public_name if user is not None else email,
        "locale": (user.locale if user is not None else None) or "en",
        "organizer": organizer.public_name if organizer is not None else "An organizer",
        "event_title": event.title if event is not None else None,
    }
    return [
        Cause(
            trigger="staff_invited",
            user=user,
            key=str(row.event_id),
            context=context,
            event_id=event.id if event is not None else None,
            source_event_id=row.event_id,
            channels=(catalogue.channels_of("staff_invited")[0],),
            recipient=email,
        )
    ]
