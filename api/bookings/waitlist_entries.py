"""People on the waitlist: joining the queue for a sold-out ticket type, leaving it, and
the queue as each viewer sees it, with everyone's place. Callers commit."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.bookings.cancellation import cancel
from api.bookings.errors import (
    AlreadyWaiting,
    NotOnSale,
    NotWaiting,
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
from api.bookings.queries import effective_status
from api.bookings.schemas import WaitlistJoin
from api.bookings.waitlist import check_attendee_names, move
from api.db import utcnow
from api.events import free_seats
from api.events import service as events_service

if TYPE_CHECKING:
    from api.events import Event
    from api.users import User


async def _free_seats(session: AsyncSession, ticket_type_id: uuid.UUID, now: datetime) -> int:
    """Seats nobody holds, counting holds that have lapsed but are not yet released."""
    unclaimed = await free_seats(session, ticket_type_id=ticket_type_id)
    lapsed = await session.scalar(
        select(func.coalesce(func.sum(BookingLine.quantity), 0))
        .join(Booking, Booking.id == BookingLine.booking_id)
        .where(
            BookingLine.ticket_type_id == ticket_type_id,
            Booking.status == BookingStatus.pending,
            Booking.expires_at <= now,
        )
    )
    return unclaimed + int(lapsed or 0)


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


async def leave_waitlist(
    session: AsyncSession, *, event_id: uuid.UUID, user: User, ticket_type_id: uuid.UUID | None
) -> int:
    """Leave the queue (of one ticket type, or all of the event's); an offer in hand is
    cancelled and its seats go to the next person."""
    entries = [
        entry
        for entry in await active_entries(session, event_id=event_id, user_id=user.id)
        if ticket_type_id is None or entry.ticket_type_id == ticket_type_id
    ]
    if not entries:
        raise NotWaiting("You are not on this event's waitlist.", field="eventId")
    now = utcnow()
    for entry in entries:
        offered = entry.booking_id if entry.status == WaitlistStatus.offered else None
        if not await move(
            session, entry, to=WaitlistStatus.left, only_from=ACTIVE_WAITLIST, closed_at=now
        ):
            continue  # settled meanwhile (offer lapsed or accepted)
        booking = await session.get(Booking, offered) if offered else None
        if booking is not None and effective_status(booking, now) == BookingStatus.pending:
            await cancel(session, booking=booking, actor=user, reason="left the waitlist")
    return len(entries)


async def join_and_place(
    session: AsyncSession, *, event: Event, user: User, data: WaitlistJoin
) -> tuple[WaitlistEntry, int | None]:
    """Join the queue; the new entry with its place in it."""
    entry = await join(session, event=event, user=user, data=data, now=utcnow())
    [placed], _ = await list_entries(
        session,
        event_id=event.id,
        user_id=None,
        entry_id=entry.id,
        statuses=[],
        page=1,
        page_size=1,
    )
    return placed


async def entries_seen_by(
    session: AsyncSession,
    *,
    event: Event,
    viewer: User,
    statuses: list[WaitlistStatus],
    page: int,
    page_size: int,
) -> tuple[list[tuple[WaitlistEntry, int | None]], int]:
    """The queue in order: all of it for the organizer and admins, the viewer's own entries
    for anyone else."""
    everyone = events_service.can_manage(event, viewer)
    return await list_entries(
        session,
        event_id=event.id,
        user_id=None if everyone else viewer.id,
        statuses=statuses,
        page=page,
        page_size=page_size,
    )


async def places_of(
    session: AsyncSession, *, user_id: uuid.UUID
) -> list[tuple[WaitlistEntry, int | None]]:
    """A person's open places on every event's waitlist, soonest event first, each with its
    place in its queue (None once an offer is in hand)."""
    entries = list(
        await session.scalars(
            select(WaitlistEntry)
            .where(WaitlistEntry.user_id == user_id, WaitlistEntry.status.in_(ACTIVE_WAITLIST))
            .order_by(WaitlistEntry.created_at)
        )
    )
    placed = []
    for entry in entries:
        position = None
        if entry.status == WaitlistStatus.waiting:
            ahead = await session.scalar(
                select(func.count()).where(
                    WaitlistEntry.ticket_type_id == entry.ticket_type_id,
                    WaitlistEntry.status == WaitlistStatus.waiting,
                    (WaitlistEntry.created_at < entry.created_at)
                    | (
                        (WaitlistEntry.created_at == entry.created_at)
                        & (WaitlistEntry.id < entry.id)
                    ),
                )
            )
            position = int(ahead or 0) + 1
        placed.append((entry, position))
    return placed
