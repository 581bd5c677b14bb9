"""The seat ledger: claiming and giving back seats, and recording what happened to a booking.

Capacity lives in `ticket_types.reserved`, the seats of confirmed bookings and pending holds.
A claim is one conditional UPDATE (`reserved + n <= quantity`), so the database, not Python,
decides who gets the last seat, on PostgreSQL (row lock) and SQLite (one writer) alike.
Rows are always touched in ticket-type id order, so concurrent transactions cannot deadlock.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.bookings.models import Booking, BookingLine, BookingStatus, BookingTransition
from api.bookings.money import price_line
from api.events.models import TicketType
from api.outbox import OutboxEvent


async def claim(session: AsyncSession, *, ticket_type_id: uuid.UUID, quantity: int) -> bool:
    """Take `quantity` seats if that many are free; says whether it did."""
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


async def give_back(session: AsyncSession, seats: Iterable[tuple[uuid.UUID, int]]) -> None:
    """Return seats (ticket type id, count) to their ticket types."""
    for ticket_type_id, count in sorted(seats):
        await session.execute(
            update(TicketType)
            .where(TicketType.id == ticket_type_id)
            .values(reserved=TicketType.reserved - count)
            .execution_options(synchronize_session=False)
        )


async def lock(session: AsyncSession, *, ticket_type_id: uuid.UUID) -> TicketType | None:
    """Lock a ticket type's row and read it again: who gets freed seats is decided one
    transaction at a time (SQLite has one writer anyway)."""
    return await session.scalar(
        select(TicketType)
        .where(TicketType.id == ticket_type_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def unclaimed(session: AsyncSession, *, ticket_type_id: uuid.UUID) -> int:
    """Seats of a ticket type that no booking holds (lapsed holds still count as held)."""
    quantity, reserved = (
        await session.execute(
            select(TicketType.quantity, TicketType.reserved).where(TicketType.id == ticket_type_id)
        )
    ).one()
    return int(quantity) - int(reserved)


def new_line(
    ticket_type: TicketType, quantity: int, attendee_names: list[str] | None
) -> BookingLine:
    """A line at the ticket type's current price and tax, its money rounded per line."""
    money = price_line(
        unit_price_cents=ticket_type.price_cents,
        quantity=quantity,
        tax_rate_bps=ticket_type.tax_rate_bps,
        tax_inclusive=ticket_type.tax_inclusive,
    )
    return BookingLine(
        ticket_type_id=ticket_type.id,
        quantity=quantity,
        unit_price_cents=ticket_type.price_cents,
        net_cents=money.net_cents,
        tax_cents=money.tax_cents,
        gross_cents=money.gross_cents,
        tax_name=ticket_type.tax_name,
        tax_rate_bps=ticket_type.tax_rate_bps,
        tax_inclusive=ticket_type.tax_inclusive,
        attendee_names=attendee_names,
    )


def seats_of(lines: Iterable[BookingLine]) -> list[tuple[uuid.UUID, int]]:
    return [(line.ticket_type_id, line.quantity) for line in lines]


def transition(
    session: AsyncSession,
    booking: Booking,
    *,
    from_status: BookingStatus | None,
    at: datetime,
    actor_id: uuid.UUID | None,
    reason: str | None = None,
) -> None:
    """Record a change of status, with when and who (None: the platform itself)."""
    session.add(
        BookingTransition(
            booking_id=booking.id,
            from_status=from_status,
            to_status=booking.status,
            at=at,
            actor_id=actor_id,
            reason=reason[:200] if reason else None,
        )
    )


async def announce(
    session: AsyncSession,
    event_type: str,
    booking: Booking,
    *,
    extra: dict[str, Any] | None = None,
) -> OutboxEvent:
    """The booking's outbox row, with its lines, so consumers see what was booked, and any
    `extra` facts of the change itself (who cancelled)."""
    return await outbox.record(
        session,
        event_type,
        booking,
        extra=(extra or {})
        | {
            "lines": [
                {
                    "ticket_type_id": str(line.ticket_type_id),
                    "quantity": line.quantity,
                    "unit_price_cents": line.unit_price_cents,
                    "net_cents": line.net_cents,
                    "tax_cents": line.tax_cents,
                    "gross_cents": line.gross_cents,
                    "tax_rate_bps": line.tax_rate_bps,
                    "attendee_names": line.attendee_names,
                }
                for line in booking.lines
            ]
        },
    )
