"""Checking tickets in at the door, inside the event's check-in window. Callers commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.bookings import tickets
from api.bookings.errors import CheckInClosed, CheckInNotOpen
from api.bookings.models import Booking
from api.config import Settings
from api.db import utcnow
from api.users import service as users_service

if TYPE_CHECKING:
    from api.events import Event
    from api.users import User


def check_in_window(event: Event) -> tuple[datetime, datetime]:
    """When door staff may check tickets in: from `checkin_opens_minutes_before` the start
    until the event's end."""
    return event.starts_at - timedelta(minutes=event.checkin_opens_minutes_before), event.ends_at


async def check_in(
    session: AsyncSession,
    settings: Settings,
    *,
    event: Event,
    payload: str,
    staff: User,
    at: datetime | None = None,
) -> tickets.CheckIn:
    """Admit a ticket at the door, inside the event's check-in window as of `at` (when it was
    scanned; now unless a device scanned it offline), else leave it as it is (`tickets.check_in`
    locks the ticket's booking as `cancel` does)."""
    code = tickets.code_from_payload(settings, payload)
    when = at or utcnow()
    opens, closes = check_in_window(event)
    if when < opens:
        raise CheckInNotOpen(f"Check-in for this event opens at {opens.isoformat()}.")
    if when > closes:
        raise CheckInClosed(f"Check-in for this event closed at {closes.isoformat()}.")
    return await tickets.check_in(session, event_id=event.id, code=code, staff=staff, at=when)


@dataclass(frozen=True)
class DoorAnswer:
    """What the door shows for a scan: the ticket's holder and type, and on a repeat scan when
    and by whom it was first scanned."""

    check_in: tickets.CheckIn
    holder_name: str
    ticket_type_name: str
    first_checked_in_by: str | None


async def door_answer(
    session: AsyncSession, *, event: Event, result: tickets.CheckIn
) -> DoorAnswer:
    """The names the door shows: the attendee's on the ticket (else the buyer's), the ticket
    type's, and who scanned it first (on a repeat scan)."""
    ticket = result.ticket
    names = {t.id: t.name for t in event.ticket_types}
    holder = ticket.attendee_name or result.buyer_name
    if not holder:
        buyer_id = await session.scalar(
            select(Booking.user_id).where(Booking.id == ticket.booking_id)
        )
        buyer = await users_service.get(session, user_id=buyer_id) if buyer_id else None
        holder = buyer.public_name if buyer is not None else ""
    first_by = None
    if result.already_checked_in and ticket.checked_in_by is not None:
        scanner = await users_service.get(session, user_id=ticket.checked_in_by)
        first_by = scanner.public_name if scanner is not None else None
    return DoorAnswer(result, holder, names.get(ticket.ticket_type_id, ""), first_by)
