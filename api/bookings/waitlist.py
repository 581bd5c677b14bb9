"""Seats coming free, and who gets them first: the waitlist. Callers commit.

Whenever seats come back (a hold lapses, a booking is cancelled, the organizer adds seats),
the same transaction offers them to the people waiting for that ticket type, first come first
served: the earliest entry whose quantity fits gets a hold in its name for the event's
`waitlist_offer_hours`, announced as `waitlist.offered`. An entry that does not fit keeps its
place and the seats go to the next one that does, so freed seats are never left idle while
somebody who could use them waits. An offer that lapses passes the seats on the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.bookings import capacity
from api.bookings.errors import (
    AttendeeNames,
)
from api.bookings.models import (
    ACTIVE_WAITLIST,
    Booking,
    BookingLine,
    BookingStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from api.db import utcnow
from api.events import lock_ticket_type, release_seats, reserve_seats
from api.events import service as events_service

if TYPE_CHECKING:
    from api.events import Event, TicketType


def check_attendee_names(event: Event, names: list[str] | None, quantity: int, field: str) -> None:
    """Names are one per seat when given, and required when the event asks for them."""
    if names is None:
        if event.attendee_names_required:
            raise AttendeeNames(
                "This event needs the name of every attendee: one per ticket.", field=field
            )
        return
    if len(names) != quantity:
        raise AttendeeNames(f"Give one attendee name per ticket ({quantity}).", field=field)


def offer_expiry(event: Event, ticket_type: TicketType, now: datetime) -> datetime:
    """An offer lasts the event's offer window, but never past the end of sales or the start."""
    ends = [now + timedelta(hours=event.waitlist_offer_hours), event.starts_at]
    if ticket_type.sales_end is not None:
        ends.append(ticket_type.sales_end)
    return min(ends)


async def offer(
    session: AsyncSession, *, ticket_type_ids: Iterable[uuid.UUID], now: datetime
) -> int:
    """Offer free seats of these ticket types to the people waiting; returns offers made."""
    made = 0
    for ticket_type_id in sorted(set(ticket_type_ids)):
        queue = (
            select(WaitlistEntry)
            .where(
                WaitlistEntry.ticket_type_id == ticket_type_id,
                WaitlistEntry.status == WaitlistStatus.waiting,
            )
            .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
        )
        if await session.scalar(queue.limit(1)) is None:
            continue
        # Offers of one ticket type are made one transaction at a time (the row lock; SQLite
        # has one writer anyway), and the queue is read again under it, so two transactions
        # never offer to the same entry.
        ticket_type = await lock_ticket_type(session, ticket_type_id=ticket_type_id)
        waiting = list(
            await session.scalars(queue.limit(500).execution_options(populate_existing=True))
        )
        if not waiting:
            continue
        event = await events_service.get(session, event_id=waiting[0].event_id)
        assert ticket_type is not None
        assert event is not None
        if event.status != events_service.EventStatus.published or event.starts_at <= now:
            continue
        too_big: int | None = None  # the smallest quantity already refused
        for entry in waiting:
            if too_big is not None and entry.quantity >= too_big:
                continue
            if not await reserve_seats(
                session, ticket_type_id=ticket_type_id, quantity=entry.quantity
            ):
                too_big = entry.quantity
                continue
            if await _offer_to(session, entry=entry, event=event, ticket_type=ticket_type, now=now):
                made += 1
            else:  # the person left meanwhile
                await release_seats(session, [(ticket_type_id, entry.quantity)])
    return made


async def move(
    session: AsyncSession,
    entry: WaitlistEntry,
    *,
    to: WaitlistStatus,
    only_from: tuple[WaitlistStatus, ...],
    announce: bool = True,
    **values: object,
) -> bool:
    """Change an entry's status if it is still in one of `only_from`: a conditional update, so
    a concurrent change (the person leaves as seats are offered) wins cleanly, not with an
    error. Says whether it changed, and announces the change."""
    changed = await session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.id == entry.id, WaitlistEntry.status.in_(only_from))
        .values(status=to, version=WaitlistEntry.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(entry)
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    if announce:
        await outbox.record(session, f"waitlist.{to.value}", entry)
    return True


async def _offer_to(
    session: AsyncSession,
    *,
    entry: WaitlistEntry,
    event: Event,
    ticket_type: TicketType,
    now: datetime,
) -> bool:
    expires = offer_expiry(event, ticket_type, now)
    if not await move(
        session,
        entry,
        to=WaitlistStatus.offered,
        only_from=(WaitlistStatus.waiting,),
        announce=False,
        offered_at=now,
        offer_expires_at=expires,
    ):
        return False
    line = capacity.new_line(ticket_type, entry.quantity, entry.attendee_names)
    booking = Booking(
        id=uuid.uuid4(),
        user_id=entry.user_id,
        event_id=entry.event_id,
        status=BookingStatus.pending,
        currency=event.currency,
        total_cents=line.gross_cents,
        tax_cents=line.tax_cents,
        seats=entry.quantity,
        expires_at=expires,
        created_at=now,
        lines=[line],
    )
    session.add(booking)
    capacity.transition(
        session, booking, from_status=None, at=now, actor_id=None, reason="waitlist offer"
    )
    await capacity.announce(session, "booking.created", booking)
    entry.booking_id = booking.id  # the entry is ours now: nobody else moves an offered entry
    await outbox.record(session, "waitlist.offered", entry)
    return True


async def close_offer(
    session: AsyncSession, *, booking_id: uuid.UUID, status: WaitlistStatus, now: datetime
) -> None:
    """The offered booking was confirmed, cancelled or lapsed: settle its waitlist entry."""
    entry = await session.scalar(
        select(WaitlistEntry).where(
            WaitlistEntry.booking_id == booking_id,
            WaitlistEntry.status == WaitlistStatus.offered,
        )
    )
    if entry is not None:
        await move(session, entry, to=status, only_from=(WaitlistStatus.offered,), closed_at=now)


async def release_expired(
    session: AsyncSession, *, now: datetime, ticket_type_id: uuid.UUID | None = None
) -> int:
    """Expire lapsed holds (of one ticket type, or all), give their seats back and offer them
    to the waitlist. The status change is conditional, so no hold is released twice."""
    query = update(Booking).where(
        Booking.status == BookingStatus.pending, Booking.expires_at <= now
    )
    if ticket_type_id is not None:
        query = query.where(
            Booking.id.in_(
                select(BookingLine.booking_id).where(BookingLine.ticket_type_id == ticket_type_id)
            )
        )
    expired = list(
        (
            await session.execute(
                query.values(status=BookingStatus.expired, version=Booking.version + 1)
                .returning(Booking.id)
                .execution_options(synchronize_session=False)
            )
        ).scalars()
    )
    if not expired:
        return 0
    seats = (
        await session.execute(
            select(BookingLine.ticket_type_id, func.sum(BookingLine.quantity))
            .where(BookingLine.booking_id.in_(expired))
            .group_by(BookingLine.ticket_type_id)
        )
    ).all()
    await release_seats(session, [(type_id, int(count)) for type_id, count in seats])
    lapsed = await session.scalars(
        select(Booking)
        .where(Booking.id.in_(expired))
        .order_by(Booking.id)
        .execution_options(populate_existing=True)
    )
    for booking in list(lapsed):
        capacity.transition(
            session,
            booking,
            from_status=BookingStatus.pending,
            at=now,
            actor_id=None,
            reason="hold lapsed",
        )
        await capacity.announce(session, "booking.expired", booking)
        await close_offer(session, booking_id=booking.id, status=WaitlistStatus.lapsed, now=now)
    await offer(session, ticket_type_ids=[type_id for type_id, _ in seats], now=now)
    return len(expired)


async def close_for_event(session: AsyncSession, *, event_id: uuid.UUID, now: datetime) -> None:
    """The event was cancelled: nobody waits any more."""
    entries = await session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.event_id == event_id, WaitlistEntry.status.in_(ACTIVE_WAITLIST)
        )
    )
    for entry in list(entries):
        await move(
            session, entry, to=WaitlistStatus.closed, only_from=ACTIVE_WAITLIST, closed_at=now
        )


async def seats_added(session: AsyncSession, *, ticket_type_id: uuid.UUID) -> int:
    """A ticket type may have more seats: the waitlist gets them first."""
    return await offer(session, ticket_type_ids=[ticket_type_id], now=utcnow())
