"""Checking tickets in at the door, inside the event's check-in window. Callers commit."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.bookings import tickets
from api.bookings.errors import CheckInClosed, CheckInNotOpen
from api.bookings.models import Booking, Ticket
from api.config import Settings
from api.db import utcnow

if TYPE_CHECKING:
    from api.events import Event
    from api.users import User


def check_in_window(event: Event) -> tuple[datetime, datetime]:
    """When door staff may check tickets in: from `checkin_opens_minutes_before` the start
    until the event's end."""
    return event.starts_at - timedelta(minutes=event.checkin_opens_minutes_before), event.ends_at


async def check_in(
    session: AsyncSession, settings: Settings, *, event: Event, payload: str, staff: User
) -> tickets.CheckIn:
    """Admit a ticket at the door, inside the event's check-in window (outside it the ticket
    is left as it is). The ticket's booking is locked first, as `cancel` does, so a scan and a
    cancellation racing each other never both succeed."""
    code = tickets.code_from_payload(settings, payload)
    now = utcnow()
    opens, closes = check_in_window(event)
    if now < opens:
        raise CheckInNotOpen(f"Check-in for this event opens at {opens.isoformat()}.")
    if now > closes:
        raise CheckInClosed(f"Check-in for this event closed at {closes.isoformat()}.")
    booking_id = await session.scalar(select(Ticket.booking_id).where(Ticket.code == code))
    if booking_id is not None:
        await session.execute(
            select(Booking.id).where(Booking.id == booking_id).with_for_update(key_share=True)
        )
    return await tickets.check_in(
        session, settings, event_id=event.id, payload=payload, staff=staff
    )
