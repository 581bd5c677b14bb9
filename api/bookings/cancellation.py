"""Cancelling bookings: by their holder within the event's policy, by staff any time, and all
of them when their event is cancelled. Seats come back to the waitlist first. Callers commit."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.bookings import capacity, tickets, waitlist
from api.bookings.errors import CancellationClosed, NotCancellable, TicketUsed
from api.bookings.models import Booking, BookingStatus, Ticket, WaitlistStatus
from api.bookings.queries import effective_status
from api.db import utcnow
from api.events import release_seats
from api.events import service as events_service
from api.users import service as users_service

if TYPE_CHECKING:
    from api.events import Event
    from api.users import User


async def _lock(session: AsyncSession, booking: Booking) -> None:
    """Lock the booking's row and read it again. Cancelling and checking in take this lock
    first, so one waits for the other and then sees what it did (a ticket checked in, or
    voided); SQLite's single writer gives the same order."""
    await session.execute(
        select(Booking)
        .where(Booking.id == booking.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )


async def _has_checked_in_ticket(session: AsyncSession, *, booking_id: uuid.UUID) -> bool:
    used = await session.scalar(
        select(exists().where(Ticket.booking_id == booking_id, Ticket.checked_in_at.is_not(None)))
    )
    return bool(used)


def attendee_deadline(event: Event) -> datetime | None:
    """Until when attendees may cancel their own bookings of `event` (None: they may not)."""
    hours = event.attendee_cancellation_hours
    return None if hours is None else event.starts_at - timedelta(hours=hours)


async def cancel(
    session: AsyncSession,
    *,
    booking: Booking,
    actor: User,
    reason: str | None,
    event_cancelled: bool = False,
) -> Booking:
    """Cancel a held or confirmed booking and give its seats back; emits `booking.cancelled`.

    Attendees follow the event's policy and cannot cancel once a ticket was checked in; the
    organizer and admins may always cancel. The status change is conditional, so a booking is
    never cancelled (and its seats returned) twice. The outbox row says who cancelled
    (`cancelled_by`: attendee, staff or event), so its consumers need not guess from later state.
    """
    await _lock(session, booking)
    now = utcnow()
    if effective_status(booking, now) not in (BookingStatus.pending, BookingStatus.confirmed):
        raise NotCancellable(
            f"A {effective_status(booking, now).value} booking cannot be cancelled."
        )
    event = await events_service.get_visible_or_raise(
        session, event_id=booking.event_id, viewer=actor
    )
    staff = actor.role == users_service.Role.admin or actor.id == event.organizer_id
    if not staff:
        deadline = attendee_deadline(event)
        if deadline is None or now > deadline:
            raise CancellationClosed(
                "This event no longer accepts cancellations."
                if deadline is not None
                else "This event does not accept cancellations by attendees."
            )
        if await _has_checked_in_ticket(session, booking_id=booking.id):
            raise TicketUsed(
                "A ticket of this booking was checked in at the door; it cannot be cancelled "
                "any more. The organizer can refund it."
            )
    previous = booking.status
    changed = await session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == previous)
        .values(status=BookingStatus.cancelled, cancelled_at=now, version=Booking.version + 1)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise NotCancellable("This booking changed meanwhile; read it again.")
    seats = capacity.seats_of(booking.lines)
    await release_seats(session, seats)
    await tickets.void_for_booking(session, booking_id=booking.id)
    await session.refresh(booking)
    capacity.transition(
        session,
        booking,
        from_status=previous,
        at=now,
        actor_id=actor.id,
        reason=reason or ("by organizer" if staff else "by attendee"),
    )
    by = "event" if event_cancelled else "staff" if staff else "attendee"
    await capacity.announce(session, "booking.cancelled", booking, extra={"cancelled_by": by})
    if previous == BookingStatus.pending:
        await waitlist.close_offer(
            session, booking_id=booking.id, status=WaitlistStatus.declined, now=now
        )
    if event.status == events_service.EventStatus.published:
        await waitlist.offer(session, ticket_type_ids=[t for t, _ in seats], now=now)
    return booking


async def cancel_all_for_event(session: AsyncSession, *, event_id: uuid.UUID, actor: User) -> int:
    """When an event is cancelled, every live booking of it is cancelled too (one its holder
    cancelled meanwhile is left as it is)."""
    await waitlist.close_for_event(session, event_id=event_id, now=utcnow())
    # All of them locked before any seat is given back, so a holder's own cancellation (one
    # booking, then its ticket types) waits for this one or goes first, never deadlocks with it.
    live = await session.scalars(
        select(Booking)
        .where(
            Booking.event_id == event_id,
            Booking.status.in_((BookingStatus.pending, BookingStatus.confirmed)),
        )
        .order_by(Booking.created_at, Booking.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    count = 0
    for booking in list(live):
        if effective_status(booking) in (BookingStatus.pending, BookingStatus.confirmed):
            try:
                await cancel(
                    session,
                    booking=booking,
                    actor=actor,
                    reason="event cancelled",
                    event_cancelled=True,
                )
            except NotCancellable:  # cancelled by its holder meanwhile: nothing written yet
                continue
            count += 1
    return count
