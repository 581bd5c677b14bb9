"""Booking: holding every requested seat or none, without ever overselling. Callers commit.

Seats are claimed through `capacity` (conditional updates of a counter), last, just before the
caller commits. Expired holds give their seats back inside the same transaction as the claim
that needs them, so they stop counting at their expiry time without waiting for the periodic
clean-up (`waitlist.release_expired`).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from api.bookings import capacity, tickets, waitlist
from api.bookings.errors import NotOnSale, OrderLimit, SoldOut, UnknownTicketType
from api.bookings.models import Booking, BookingStatus
from api.bookings.schemas import BookingCreate
from api.bookings.waitlist import release_expired
from api.db import utcnow
from api.events import EventStatus, reserve_seats
from api.events import service as events_service

if TYPE_CHECKING:
    from api.events import Event, TicketType
    from api.users import User


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


def plan(
    *, user_id: uuid.UUID, event: Event, data: BookingCreate, now: datetime, hold: timedelta
) -> Booking:
    """The booking `data` asks for, checked against the event's rules and priced, not yet
    written (no seats claimed): the one place a booking is made, for the service below and
    for the one-statement booking of `express`. Free bookings are confirmed, with tickets."""
    if event.status != EventStatus.published:
        raise NotOnSale("This event is not on sale.", field="event_id")
    types = {t.id: t for t in event.ticket_types}
    for index, line in enumerate(data.lines):
        ticket_type = types.get(line.ticket_type_id)
        if ticket_type is None:
            raise UnknownTicketType(
                "No such ticket type on this event.", field=f"lines.{index}.ticket_type_id"
            )
        _check_line(ticket_type, line.quantity, now, index)
        waitlist.check_attendee_names(
            event, line.attendees, line.quantity, f"lines.{index}.attendees"
        )
    lines = [
        capacity.new_line(types[line.ticket_type_id], line.quantity, line.attendees)
        for line in data.lines
    ]
    total = sum(line.gross_cents for line in lines)
    free = total == 0
    return Booking(
        id=uuid.uuid4(),
        user_id=user_id,
        event_id=event.id,
        status=BookingStatus.confirmed if free else BookingStatus.pending,
        currency=event.currency,
        total_cents=total,
        tax_cents=sum(line.tax_cents for line in lines),
        seats=sum(line.quantity for line in data.lines),
        expires_at=None if free else now + hold,
        created_at=now,
        confirmed_at=now if free else None,
        cancelled_at=None,
        version=1,
        lines=lines,
    )


async def create(
    session: AsyncSession, *, user: User, data: BookingCreate, hold: timedelta
) -> Booking:
    """Hold every requested seat or none; free bookings are confirmed at once."""
    event = await events_service.get_visible_or_raise(session, event_id=data.event_id, viewer=user)
    now = utcnow()
    booking = plan(user_id=user.id, event=event, data=data, now=now, hold=hold)
    session.add(booking)
    capacity.transition(session, booking, from_status=None, at=now, actor_id=user.id)
    await capacity.announce(session, "booking.created", booking)
    if booking.status == BookingStatus.confirmed:
        await capacity.announce(session, "booking.confirmed", booking)
        await tickets.issue(session, booking=booking)
    types = {t.id: t for t in event.ticket_types}
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
        claimed = await reserve_seats(
            session, ticket_type_id=line.ticket_type_id, quantity=line.quantity
        )
        if not claimed and await release_expired(
            session, now=now, ticket_type_id=line.ticket_type_id
        ):
            claimed = await reserve_seats(
                session, ticket_type_id=line.ticket_type_id, quantity=line.quantity
            )
        if not claimed:
            raise sold_out(types[line.ticket_type_id].name, index)


def sold_out(name: str, index: int) -> SoldOut:
    """The refusal when the seats asked for on line `index` are gone."""
    return SoldOut(f"Not enough {name} tickets left.", field=f"lines.{index}.quantity")
