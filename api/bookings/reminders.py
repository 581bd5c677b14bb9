"""Reminders before an event starts: announced once each through the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.bookings.models import Booking, BookingReminder, BookingStatus
from api.events import published_starting

REMINDERS = (("24h", timedelta(hours=24)), ("1h", timedelta(hours=1)))


async def announce_reminders(session: AsyncSession, *, now: datetime, limit: int = 500) -> int:
    """Announce `booking.reminder_due` for confirmed bookings of events starting within 24 h
    and within 1 h, once each (the reminder's key says so). A booking made after a reminder
    was due does not get it: its confirmation just went out."""
    announced = 0
    for kind, lead in REMINDERS:
        starting = published_starting(after=now, until=now + lead)
        start: ColumnElement[datetime] = starting.c.starts_at
        due = await session.execute(
            select(Booking, start)
            .join(starting, starting.c.id == Booking.event_id)
            .outerjoin(
                BookingReminder,
                (BookingReminder.booking_id == Booking.id) & (BookingReminder.kind == kind),
            )
            .where(
                Booking.status == BookingStatus.confirmed,
                BookingReminder.booking_id.is_(None),
            )
            .order_by(start, Booking.id)
            .limit(limit)
        )
        for booking, starts_at in due.all():
            due_at = starts_at - lead
            late = booking.confirmed_at is not None and booking.confirmed_at > due_at
            session.add(
                BookingReminder(
                    booking_id=booking.id, kind=kind, due_at=due_at, announced_at=now, skipped=late
                )
            )
            if not late:
                await outbox.emit(
                    session,
                    "booking.reminder_due",
                    entity="booking",
                    entity_id=str(booking.id),
                    payload={
                        "booking_id": str(booking.id),
                        "user_id": str(booking.user_id),
                        "event_id": str(booking.event_id),
                        "kind": kind,
                        "starts_at": starts_at.isoformat(),
                        "due_at": due_at.isoformat(),
                    },
                )
                announced += 1
        await session.flush()
    return announced
