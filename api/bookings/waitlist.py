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
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.bookings import capacity
from api.bookings.errors import (
    AlreadyWaiting,
    AttendeeNames,
    NotOnSale,
    OrderLimit,
    SeatsAvailable,
    UnknownTicketType,
    WaitlistClosed,
)
from api.bookings.models import (
    ACTIVE_WAITLIST,
    Booking,
    BookingLine,
    BookingStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from api.bookings.schemas import WaitlistJoin
from api.db import utcnow
from api.events import service as events_service
from api.events.models import TicketType

if TYPE_CHECKING:
    from api.events.models import Event
    from api.users.models import User


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
        ticket_type = await session.scalar(
            select(TicketType)
            .where(TicketType.id == ticket_type_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
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
            if not await capacity.claim(
                session, ticket_type_id=ticket_type_id, quantity=entry.quantity
            ):
                too_big = entry.quantity
                continue
            if await _offer_to(session, entry=entry, event=event, ticket_type=ticket_type, now=now):
                made += 1
            else:  # the person left meanwhile
                await capacity.give_back(session, [(ticket_type_id, entry.quantity)])
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
    await capacity.give_back(session, [(type_id, int(count)) for type_id, count in seats])
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


async def _free_seats(session: AsyncSession, ticket_type_id: uuid.UUID, now: datetime) -> int:
    """Seats nobody holds, counting holds that have lapsed but are not yet released."""
    quantity, reserved = (
        await session.execute(
            select(TicketType.quantity, TicketType.reserved).where(TicketType.id == ticket_type_id)
        )
    ).one()
    lapsed = await session.scalar(
        select(func.coalesce(func.sum(BookingLine.quantity), 0))
        .join(Booking, Booking.id == BookingLine.booking_id)
        .where(
            BookingLine.ticket_type_id == ticket_type_id,
            Booking.status == BookingStatus.pending,
            Booking.expires_at <= now,
        )
    )
    return int(quantity) - int(reserved) + int(lapsed or 0)


async def join(
    session: AsyncSession, *, event: Event, user: User, data: WaitlistJoin, now: datetime
) -> WaitlistEntry:
    """Queue for seats of a sold-out ticket type."""
    if event.status != events_service.EventStatus.published or event.starts_at <= now:
        raise WaitlistClosed("This event takes no waitlist.", field="eventId")
    ticket_type = next((t for t in event.ticket_types if t.id == data.ticket_type_id), None)
    if ticket_type is None:
        raise UnknownTicketType("No such ticket type on this event.", field="ticket_type_id")
    if ticket_type.sales_end is not None and now >= ticket_type.sales_end:
        raise NotOnSale(f"Sales of {ticket_type.name} have ended.", field="ticket_type_id")
    if not ticket_type.min_per_order <= data.quantity <= ticket_type.max_per_order:
        raise OrderLimit(
            f"{ticket_type.name}: between {ticket_type.min_per_order} and "
            f"{ticket_type.max_per_order} per order.",
            field="quantity",
        )
    check_attendee_names(event, data.attendees, data.quantity, "attendees")
    if await _free_seats(session, ticket_type.id, now) >= data.quantity:
        raise SeatsAvailable(
            f"{data.quantity} {ticket_type.name} ticket(s) are available: book them instead.",
            field="quantity",
        )
    entry = WaitlistEntry(
        id=uuid.uuid4(),
        event_id=event.id,
        ticket_type_id=ticket_type.id,
        user_id=user.id,
        quantity=data.quantity,
        attendee_names=data.attendees,
        status=WaitlistStatus.waiting,
        created_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(entry)
    except IntegrityError:
        raise AlreadyWaiting(
            "You are already on the waitlist for this ticket type.", field="ticket_type_id"
        ) from None
    await outbox.record(session, "waitlist.joined", entry)
    return entry


async def active_entries(
    session: AsyncSession, *, event_id: uuid.UUID, user_id: uuid.UUID
) -> list[WaitlistEntry]:
    rows = await session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.event_id == event_id,
            WaitlistEntry.user_id == user_id,
            WaitlistEntry.status.in_(ACTIVE_WAITLIST),
        )
        .order_by(WaitlistEntry.ticket_type_id)
    )
    return list(rows)


async def list_entries(
    session: AsyncSession,
    *,
    event_id: uuid.UUID,
    user_id: uuid.UUID | None,
    statuses: list[WaitlistStatus],
    entry_id: uuid.UUID | None = None,
    page: int,
    page_size: int,
) -> tuple[list[tuple[WaitlistEntry, int | None]], int]:
    """Entries in queue order with their position among those waiting (None if not waiting)."""
    query = select(WaitlistEntry).where(WaitlistEntry.event_id == event_id)
    if user_id is not None:
        query = query.where(WaitlistEntry.user_id == user_id)
    if statuses:
        query = query.where(WaitlistEntry.status.in_(statuses))
    if entry_id is not None:
        query = query.where(WaitlistEntry.id == entry_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    entries = list(
        await session.scalars(
            query.order_by(WaitlistEntry.created_at, WaitlistEntry.id)
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
    )
    # Everyone's place in their ticket type's queue, in one query.
    positions: dict[uuid.UUID, int] = dict(
        (
            await session.execute(
                select(
                    WaitlistEntry.id,
                    func.row_number().over(
                        partition_by=WaitlistEntry.ticket_type_id,
                        order_by=(WaitlistEntry.created_at, WaitlistEntry.id),
                    ),
                ).where(
                    WaitlistEntry.event_id == event_id,
                    WaitlistEntry.status == WaitlistStatus.waiting,
                )
            )
        ).all()
    )
    return [(entry, positions.get(entry.id)) for entry in entries], total


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
