"""Reading bookings: who may see one, and what the other domains and the organizer's pages
ask of them (sales, holders, past customers, attendee lists)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, String, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.bookings.errors import BookingNotFound
from api.bookings.models import (
    ACTIVE_WAITLIST,
    Booking,
    BookingLine,
    BookingStatus,
    BookingTransition,
    Ticket,
    WaitlistEntry,
)
from api.db import utcnow
from api.events import other_events_of
from api.events import service as events_service
from api.users import service as users_service

if TYPE_CHECKING:
    from api.events import Event, TicketType
    from api.users import User


def effective_status(booking: Booking, now: datetime | None = None) -> BookingStatus:
    """A hold past its expiry is expired, whether or not the clean-up has run yet."""
    if (
        booking.status == BookingStatus.pending
        and booking.expires_at is not None
        and booking.expires_at <= (now or utcnow())
    ):
        return BookingStatus.expired
    return booking.status


async def get_visible_or_raise(
    session: AsyncSession, *, booking_id: uuid.UUID, viewer: User
) -> Booking:
    """A booking its owner, the event's organizer or an admin may see; 404 for anyone else."""
    booking = await session.get(Booking, booking_id)
    if booking is not None and (
        booking.user_id == viewer.id or viewer.role == users_service.Role.admin
    ):
        return booking
    if booking is not None and viewer.role == users_service.Role.organizer:
        event = await events_service.get_visible_or_raise(
            session, event_id=booking.event_id, viewer=viewer
        )
        if event.organizer_id == viewer.id:
            return booking
    raise BookingNotFound(f"No booking with id {booking_id}.", field="bookingId")


async def get(session: AsyncSession, *, booking_id: uuid.UUID) -> Booking | None:
    """A booking by id, for the platform's own jobs (no viewer check)."""
    return await session.get(Booking, booking_id)


async def list_for_user(
    session: AsyncSession, *, user: User, page: int, page_size: int
) -> tuple[list[Booking], int]:
    query = select(Booking).where(Booking.user_id == user.id)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(Booking.created_at.desc(), Booking.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return list(rows), total


async def booked_event_ids(session: AsyncSession, *, user_id: uuid.UUID) -> list[uuid.UUID]:
    """Events the user holds or has seats at (pending or confirmed), most recent first."""
    rows = await session.execute(
        select(Booking.event_id, func.max(Booking.created_at).label("latest"))
        .where(
            Booking.user_id == user_id,
            Booking.status.in_([BookingStatus.pending, BookingStatus.confirmed]),
        )
        .group_by(Booking.event_id)
        .order_by(func.max(Booking.created_at).desc())
    )
    return [row[0] for row in rows.all()]


async def has_ties(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    waiting_at: uuid.UUID,
    booked_any_of: frozenset[uuid.UUID],
) -> bool:
    """Whether the user waits for seats of event `waiting_at`, or holds or has seats at any of
    the events `booked_any_of` (one round trip: an event's page asks it on every view)."""
    waiting = select(WaitlistEntry.id).where(
        WaitlistEntry.event_id == waiting_at,
        WaitlistEntry.user_id == user_id,
        WaitlistEntry.status.in_(ACTIVE_WAITLIST),
    )
    booked = select(Booking.id).where(
        Booking.user_id == user_id,
        Booking.event_id.in_(booked_any_of),
        Booking.status.in_([BookingStatus.pending, BookingStatus.confirmed]),
    )
    either = waiting.exists() | booked.exists() if booked_any_of else waiting.exists()
    return bool(await session.scalar(select(either)))


async def sales_by_event(
    session: AsyncSession, *, event_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, int]]:
    """Per event: confirmed seats, seats on live holds, and their revenue in minor units."""
    now = utcnow()
    rows = await session.execute(
        select(
            Booking.event_id, Booking.status, Booking.expires_at, Booking.seats, Booking.total_cents
        ).where(
            Booking.event_id.in_(event_ids),
            Booking.status.in_((BookingStatus.pending, BookingStatus.confirmed)),
        )
    )
    sales = {
        event_id: {"confirmed_seats": 0, "held_seats": 0, "confirmed_cents": 0}
        for event_id in event_ids
    }
    for event_id, status, expires_at, seats, total in rows.all():
        if status == BookingStatus.confirmed:
            sales[event_id]["confirmed_seats"] += seats
            sales[event_id]["confirmed_cents"] += total
        elif expires_at is not None and expires_at > now:
            sales[event_id]["held_seats"] += seats
    return sales


async def sold_since(
    session: AsyncSession, *, event_ids: list[uuid.UUID], since: datetime
) -> dict[uuid.UUID, tuple[int, int]]:
    """Per event: seats and revenue (minor units) of the bookings confirmed since `since` and
    still standing (a sale later refunded or cancelled is not a sale of today)."""
    rows = await session.execute(
        select(Booking.event_id, func.sum(Booking.seats), func.sum(Booking.total_cents))
        .where(
            Booking.event_id.in_(event_ids),
            Booking.status == BookingStatus.confirmed,
            Booking.confirmed_at >= since,
        )
        .group_by(Booking.event_id)
    )
    found = dict.fromkeys(event_ids, (0, 0))
    for event_id, seats, cents in rows.all():
        found[event_id] = (int(seats or 0), int(cents or 0))
    return found


@dataclass(frozen=True)
class EventsWithSales:
    """A page of an organizer's events with the sales of each."""

    events: list[Event]
    sales: dict[uuid.UUID, dict[str, int]]
    next_cursor: str | None
    total: int


async def organizer_events(
    session: AsyncSession,
    *,
    organizer: User,
    filters: events_service.EventFilters,
    sort: events_service.EventSort,
    limit: int,
    cursor: str | None,
) -> EventsWithSales:
    """The organizer's own events in every status, a page at a time, with their sales."""
    events, next_cursor, total = await events_service.list_events(
        session, filters=filters, sort=sort, limit=limit, cursor=cursor, organizer=organizer
    )
    sales = await sales_by_event(session, event_ids=[e.id for e in events])
    return EventsWithSales(events=events, sales=sales, next_cursor=next_cursor, total=total)


@dataclass(frozen=True)
class Holder:
    booking_id: uuid.UUID
    user_id: uuid.UUID
    seats: int
    total_cents: int
    currency: str


async def holders(
    session: AsyncSession,
    *,
    event_id: uuid.UUID,
    statuses: tuple[BookingStatus, ...],
    cancelled_since: datetime | None = None,
) -> list[Holder]:
    """The bookings of an event in these states (and cancelled since then, if given) that had
    been confirmed: who to tell when the event changes."""
    query = select(
        Booking.id, Booking.user_id, Booking.seats, Booking.total_cents, Booking.currency
    ).where(
        Booking.event_id == event_id,
        Booking.status.in_(statuses),
        Booking.confirmed_at.is_not(None),
    )
    if cancelled_since is not None:
        query = query.where(Booking.cancelled_at >= cancelled_since)
    rows = await session.execute(query.order_by(Booking.created_at, Booking.id))
    return [Holder(*row) for row in rows.all()]


async def past_customers(
    session: AsyncSession, *, organizer_id: uuid.UUID, excluding_event: uuid.UUID
) -> list[uuid.UUID]:
    """People with a confirmed booking for another event of this organizer."""
    rows = await session.scalars(
        select(Booking.user_id)
        .where(
            Booking.event_id.in_(other_events_of(organizer_id, excluding=excluding_event)),
            Booking.status == BookingStatus.confirmed,
        )
        .distinct()
    )
    return sorted(rows.all())


@dataclass(frozen=True)
class AttendeeLine:
    """One line of a booking with what the attendee list shows of it."""

    booking: Booking
    line: BookingLine
    ticket_type: TicketType
    buyer: User
    tickets: list[Ticket]


async def history(session: AsyncSession, *, booking_id: uuid.UUID) -> list[BookingTransition]:
    """Every change of a booking's status, oldest first, with when and who."""
    rows = await session.scalars(
        select(BookingTransition)
        .where(BookingTransition.booking_id == booking_id)
        .order_by(BookingTransition.at, BookingTransition.id)
    )
    return list(rows)


def _found(text: str) -> ColumnElement[bool]:
    pattern = users_service.contains(text)
    named = select(Ticket.booking_id).where(
        func.lower(Ticket.attendee_name).like(pattern, escape="\\")
    )
    reference = text.lower().replace("-", "")
    matches = [Booking.user_id.in_(users_service.ids_matching(text)), Booking.id.in_(named)]
    if 4 <= len(reference) <= 32 and all(c in "0123456789abcdef" for c in reference):
        matches.append(func.lower(cast(Booking.id, String)).like(f"{reference[:8]}%"))
    return or_(*matches)


async def attendees(
    session: AsyncSession,
    *,
    event_id: uuid.UUID,
    statuses: list[BookingStatus],
    page: int | None,
    page_size: int,
    search: str | None = None,
) -> tuple[list[AttendeeLine], int]:
    """The event's bookings line by line, with buyer, ticket type and tickets; `page` None
    gives them all (the CSV export). `search` finds bookings by the buyer's name or email, an
    attendee's name, or the booking's reference (the first characters of its id)."""
    query = select(Booking).where(Booking.event_id == event_id)
    if statuses:
        query = query.where(Booking.status.in_(statuses))
    if search and search.strip():
        query = query.where(_found(search.strip()))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    query = query.order_by(Booking.created_at, Booking.id)
    if page is not None:
        query = query.offset((page - 1) * page_size).limit(page_size)
    bookings = list(await session.scalars(query))
    ids = [b.id for b in bookings]
    buyers = {
        u.id: u
        for u in await users_service.get_many(session, user_ids={b.user_id for b in bookings})
    }
    types = {t.id: t for t in await events_service.ticket_types_of(session, event_id=event_id)}
    by_line: dict[tuple[uuid.UUID, uuid.UUID], list[Ticket]] = {}
    for ticket in await session.scalars(
        select(Ticket).where(Ticket.booking_id.in_(ids)).order_by(Ticket.created_at, Ticket.id)
    ):
        by_line.setdefault((ticket.booking_id, ticket.ticket_type_id), []).append(ticket)
    rows = [
        AttendeeLine(
            booking=booking,
            line=line,
            ticket_type=types[line.ticket_type_id],
            buyer=buyers[booking.user_id],
            tickets=by_line.get((booking.id, line.ticket_type_id), []),
        )
        for booking in bookings
        for line in booking.lines
    ]
    return rows, total
