"""Bookings: holding seats without ever overselling. Callers commit.

Capacity lives in `ticket_types.reserved`, the seats of confirmed bookings and pending holds.
A claim is one conditional UPDATE (`reserved + n <= quantity`), so the database, not Python,
decides who gets the last seat, on PostgreSQL (row lock) and SQLite (one writer) alike.
Expired holds give their seats back inside the same transaction as the claim that needs them,
so they stop counting at their expiry time without waiting for the periodic clean-up.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.bookings import tickets
from api.bookings.errors import (
    BookingNotFound,
    CancellationClosed,
    NotCancellable,
    NotOnSale,
    OrderLimit,
    SoldOut,
    UnknownTicketType,
)
from api.bookings.models import Booking, BookingLine, BookingStatus, BookingTransition
from api.bookings.schemas import BookingCreate
from api.db import utcnow
from api.events import service as events_service
from api.events.models import EventStatus, TicketType
from api.users.models import Role, User


async def _claim(session: AsyncSession, *, ticket_type_id: uuid.UUID, quantity: int) -> bool:
    result = await session.execute(
        update(TicketType)
        .where(
            TicketType.id == ticket_type_id,
            TicketType.reserved + quantity <= TicketType.quantity,
        )
        .values(reserved=TicketType.reserved + quantity)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def release_expired(
    session: AsyncSession, *, now: datetime, ticket_type_id: uuid.UUID | None = None
) -> int:
    """Expire lapsed holds (of one ticket type, or all) and give their seats back.

    The status change is conditional, so two transactions never release the same hold twice.
    """
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
    seats = await session.execute(
        select(BookingLine.ticket_type_id, func.sum(BookingLine.quantity))
        .where(BookingLine.booking_id.in_(expired))
        .group_by(BookingLine.ticket_type_id)
        .order_by(BookingLine.ticket_type_id)
    )
    for type_id, count in seats.all():
        await session.execute(
            update(TicketType)
            .where(TicketType.id == type_id)
            .values(reserved=TicketType.reserved - count)
            .execution_options(synchronize_session=False)
        )
    for booking_id in expired:
        booking = await session.get(Booking, booking_id, populate_existing=True)
        assert booking is not None
        session.add(
            BookingTransition(
                booking_id=booking_id,
                from_status=BookingStatus.pending,
                to_status=BookingStatus.expired,
                at=now,
                reason="hold lapsed",
            )
        )
        await outbox.record(session, "booking.expired", booking)
    return len(expired)


def _check_line(ticket_type: TicketType, quantity: int, now: datetime, index: int) -> None:
    field = f"lines.{index}.quantity"
    if ticket_type.sales_start is not None and now < ticket_type.sales_start:
        raise NotOnSale(
            f"{ticket_type.name} goes on sale at {ticket_type.sales_start}.", field=field
        )
    if ticket_type.sales_end is not None and now >= ticket_type.sales_end:
        raise NotOnSale(f"Sales of {ticket_type.name} have ended.", field=field)
    if not ticket_type.min_per_order <= quantity <= ticket_type.max_per_order:
        raise OrderLimit(
            f"{ticket_type.name}: between {ticket_type.min_per_order} and "
            f"{ticket_type.max_per_order} per order.",
            field=field,
        )


async def create(
    session: AsyncSession, *, user: User, data: BookingCreate, hold: timedelta
) -> Booking:
    """Hold every requested seat or none; free bookings are confirmed at once."""
    event = await events_service.get_visible_or_raise(session, event_id=data.event_id, viewer=user)
    if event.status != EventStatus.published:
        raise NotOnSale("This event is not on sale.", field="event_id")
    now = utcnow()
    types = {t.id: t for t in event.ticket_types}
    for index, line in enumerate(data.lines):
        ticket_type = types.get(line.ticket_type_id)
        if ticket_type is None:
            raise UnknownTicketType(
                "No such ticket type on this event.", field=f"lines.{index}.ticket_type_id"
            )
        _check_line(ticket_type, line.quantity, now, index)
    total = sum(types[line.ticket_type_id].price_cents * line.quantity for line in data.lines)
    free = total == 0
    booking = Booking(
        id=uuid.uuid4(),
        user_id=user.id,
        event_id=event.id,
        status=BookingStatus.confirmed if free else BookingStatus.pending,
        currency=event.currency,
        total_cents=total,
        seats=sum(line.quantity for line in data.lines),
        expires_at=None if free else now + hold,
        created_at=now,
        confirmed_at=now if free else None,
        lines=[
            BookingLine(
                ticket_type_id=line.ticket_type_id,
                quantity=line.quantity,
                unit_price_cents=types[line.ticket_type_id].price_cents,
            )
            for line in data.lines
        ],
    )
    session.add(booking)
    session.add(
        BookingTransition(
            booking_id=booking.id,
            from_status=None,
            to_status=booking.status,
            at=now,
            actor_id=user.id,
        )
    )
    await outbox.record(session, "booking.created", booking)
    if free:
        await outbox.record(session, "booking.confirmed", booking)
        await tickets.issue(session, booking=booking)
    await _claim_all(session, data=data, types=types, now=now)
    return booking


async def _claim_all(
    session: AsyncSession, *, data: BookingCreate, types: dict[uuid.UUID, TicketType], now: datetime
) -> None:
    """Take the seats last, just before the caller commits: the hot ticket-type rows stay
    locked for two round trips (claim, commit) instead of the whole transaction.
    A refusal raises, and the caller's rollback removes the booking written above."""
    # Claims in one order (by id) so concurrent multi-line bookings cannot deadlock.
    for index, line in sorted(enumerate(data.lines), key=lambda item: item[1].ticket_type_id):
        claimed = await _claim(session, ticket_type_id=line.ticket_type_id, quantity=line.quantity)
        if not claimed and await release_expired(
            session, now=now, ticket_type_id=line.ticket_type_id
        ):
            claimed = await _claim(
                session, ticket_type_id=line.ticket_type_id, quantity=line.quantity
            )
        if not claimed:
            name = types[line.ticket_type_id].name
            raise SoldOut(f"Not enough {name} tickets left.", field=f"lines.{index}.quantity")


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
    if booking is not None and (booking.user_id == viewer.id or viewer.role == Role.admin):
        return booking
    if booking is not None and viewer.role == Role.organizer:
        event = await events_service.get_visible_or_raise(
            session, event_id=booking.event_id, viewer=viewer
        )
        if event.organizer_id == viewer.id:
            return booking
    raise BookingNotFound(f"No booking with id {booking_id}.", field="bookingId")


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


async def _give_back(session: AsyncSession, booking: Booking) -> None:
    for line in sorted(booking.lines, key=lambda item: item.ticket_type_id):
        await session.execute(
            update(TicketType)
            .where(TicketType.id == line.ticket_type_id)
            .values(reserved=TicketType.reserved - line.quantity)
            .execution_options(synchronize_session=False)
        )


async def cancel(
    session: AsyncSession, *, booking: Booking, actor: User, reason: str | None
) -> Booking:
    """Cancel a held or confirmed booking and give its seats back; emits `booking.cancelled`.

    Attendees follow the event's policy; the organizer and admins may always cancel. The status
    change is conditional, so a booking is never cancelled (and its seats returned) twice.
    """
    now = utcnow()
    if effective_status(booking, now) not in (BookingStatus.pending, BookingStatus.confirmed):
        raise NotCancellable(
            f"A {effective_status(booking, now).value} booking cannot be cancelled."
        )
    event = await events_service.get_visible_or_raise(
        session, event_id=booking.event_id, viewer=actor
    )
    staff = actor.role == Role.admin or actor.id == event.organizer_id
    if not staff:
        hours = event.attendee_cancellation_hours
        if hours is None or now > event.starts_at - timedelta(hours=hours):
            raise CancellationClosed(
                "This event no longer accepts cancellations."
                if hours is not None
                else "This event does not accept cancellations by attendees."
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
    await _give_back(session, booking)
    await tickets.void_for_booking(session, booking_id=booking.id)
    await session.refresh(booking)
    session.add(
        BookingTransition(
            booking_id=booking.id,
            from_status=previous,
            to_status=BookingStatus.cancelled,
            at=now,
            actor_id=actor.id,
            reason=(reason or ("by organizer" if staff else "by attendee"))[:200],
        )
    )
    await outbox.record(session, "booking.cancelled", booking)
    return booking


async def cancel_all_for_event(session: AsyncSession, *, event_id: uuid.UUID, actor: User) -> int:
    """When an event is cancelled, every live booking of it is cancelled too."""
    live = await session.scalars(
        select(Booking).where(
            Booking.event_id == event_id,
            Booking.status.in_((BookingStatus.pending, BookingStatus.confirmed)),
        )
    )
    count = 0
    for booking in list(live):
        if effective_status(booking) in (BookingStatus.pending, BookingStatus.confirmed):
            await cancel(session, booking=booking, actor=actor, reason="event cancelled")
            count += 1
    return count


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
