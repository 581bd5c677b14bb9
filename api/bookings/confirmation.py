"""Holds becoming bookings: confirmed when paid for (even just after the hold lapsed, if the
seats can be had again) or, for free offers, accepted; held longer while a bank transfer is
on its way; and refunded. What payments do to bookings. Callers commit."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from api.bookings import capacity, tickets, waitlist
from api.bookings.errors import BookingNotFound, NotConfirmable, PaymentRequired
from api.bookings.models import Booking, BookingStatus, WaitlistStatus
from api.bookings.queries import effective_status
from api.db import utcnow
from api.events import release_seats, reserve_seats
from api.events import service as events_service

if TYPE_CHECKING:
    from api.users import User


async def confirm(
    session: AsyncSession, *, booking: Booking, actor_id: uuid.UUID | None, reason: str | None
) -> Booking:
    """A held booking becomes confirmed (paid, or a free waitlist offer accepted): its tickets
    are issued and `booking.confirmed` announced. Refused once the hold has lapsed."""
    now = utcnow()
    if effective_status(booking, now) != BookingStatus.pending:
        raise NotConfirmable(
            f"A {effective_status(booking, now).value} booking cannot be confirmed."
        )
    changed = await session.execute(
        update(Booking)
        .where(
            Booking.id == booking.id,
            Booking.status == BookingStatus.pending,
            Booking.expires_at > now,
        )
        .values(
            status=BookingStatus.confirmed,
            confirmed_at=now,
            expires_at=None,
            version=Booking.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise NotConfirmable("This booking changed meanwhile; read it again.")
    await session.refresh(booking)
    capacity.transition(
        session,
        booking,
        from_status=BookingStatus.pending,
        at=now,
        actor_id=actor_id,
        reason=reason,
    )
    await capacity.announce(session, "booking.confirmed", booking)
    await tickets.issue(session, booking=booking)
    await waitlist.close_offer(
        session, booking_id=booking.id, status=WaitlistStatus.converted, now=now
    )
    return booking


async def accept_free(session: AsyncSession, *, booking: Booking, user: User) -> Booking:
    """The holder accepts a free hold (a waitlist offer of free tickets)."""
    if booking.user_id != user.id:
        raise BookingNotFound(f"No booking with id {booking.id}.", field="bookingId")
    if booking.total_cents != 0:
        raise PaymentRequired("This booking is confirmed by paying for it.")
    return await confirm(session, booking=booking, actor_id=user.id, reason="accepted")


async def confirm_paid(
    session: AsyncSession, *, booking_id: uuid.UUID, payment_started_at: datetime
) -> bool:
    """Payment for this booking succeeded: confirm it. A payment begun while the hold was live
    counts even if it lands after `expires_at`; if the seats were released meanwhile they are
    claimed again. Says False when they are gone (the payment must then be refunded)."""
    booking = await session.get(Booking, booking_id, populate_existing=True)
    assert booking is not None
    now = utcnow()
    if booking.status == BookingStatus.confirmed:
        return True
    if booking.status == BookingStatus.pending and (
        booking.expires_at is None or payment_started_at < booking.expires_at
    ):
        if booking.expires_at is not None and booking.expires_at <= now:
            # Still counted in `reserved` (not yet released): give it the time to be confirmed.
            await session.execute(
                update(Booking)
                .where(Booking.id == booking.id, Booking.status == BookingStatus.pending)
                .values(expires_at=now + timedelta(minutes=1), version=Booking.version + 1)
                .execution_options(synchronize_session=False)
            )
            await session.refresh(booking)
        await confirm(session, booking=booking, actor_id=None, reason="paid")
        return True
    if booking.status != BookingStatus.expired or payment_started_at >= (booking.expires_at or now):
        return False
    seats = sorted(capacity.seats_of(booking.lines))
    claimed: list[tuple[uuid.UUID, int]] = []
    for ticket_type_id, count in seats:
        if not await reserve_seats(session, ticket_type_id=ticket_type_id, quantity=count):
            await release_seats(session, claimed)
            return False
        claimed.append((ticket_type_id, count))
    await session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == BookingStatus.expired)
        .values(
            status=BookingStatus.pending,
            expires_at=now + timedelta(minutes=1),
            version=Booking.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    await session.refresh(booking)
    capacity.transition(
        session,
        booking,
        from_status=BookingStatus.expired,
        at=now,
        actor_id=None,
        reason="paid after the hold lapsed; seats claimed again",
    )
    await confirm(session, booking=booking, actor_id=None, reason="paid")
    return True


async def mark_refunded(
    session: AsyncSession, *, booking_id: uuid.UUID, actor_id: uuid.UUID | None
) -> None:
    """Its payment was refunded in full: a confirmed booking gives its seats back (to the
    waitlist first) and its tickets stop working; a cancelled one just records it."""
    booking = await session.get(Booking, booking_id, populate_existing=True)
    assert booking is not None
    previous = booking.status
    if previous not in (BookingStatus.confirmed, BookingStatus.cancelled):
        return
    now = utcnow()
    changed = await session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == previous)
        .values(status=BookingStatus.refunded, version=Booking.version + 1)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        return
    await session.refresh(booking)
    if previous == BookingStatus.confirmed:
        seats = capacity.seats_of(booking.lines)
        await release_seats(session, seats)
        await tickets.void_for_booking(session, booking_id=booking.id)
        await waitlist.offer(session, ticket_type_ids=[t for t, _ in seats], now=now)
    capacity.transition(
        session, booking, from_status=previous, at=now, actor_id=actor_id, reason="refunded"
    )
    await capacity.announce(session, "booking.refunded", booking)


async def extend_hold(session: AsyncSession, *, booking_id: uuid.UUID, until: datetime) -> None:
    """Hold a live booking longer (a bank transfer takes days), never past the event's start."""
    booking = await session.get(Booking, booking_id)
    assert booking is not None
    event = await events_service.get(session, event_id=booking.event_id)
    assert event is not None
    now = utcnow()
    await session.execute(
        update(Booking)
        .where(
            Booking.id == booking_id,
            Booking.status == BookingStatus.pending,
            Booking.expires_at > now,
            Booking.expires_at < min(until, event.starts_at),
        )
        .values(expires_at=min(until, event.starts_at), version=Booking.version + 1)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(booking)
