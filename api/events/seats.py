"""A ticket type's seat counter: `ticket_types.reserved`, the seats of confirmed bookings and
pending holds. The bookings' seat ledger (`api/bookings/capacity.py`) calls these.

A reservation is one conditional UPDATE (`reserved + n <= quantity`), so the database, not
Python, decides who gets the last seat, on PostgreSQL (row lock) and SQLite (one writer) alike.
Rows are always touched in ticket-type id order, so concurrent transactions cannot deadlock.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.events.models import TicketType


async def reserve_seats(session: AsyncSession, *, ticket_type_id: uuid.UUID, quantity: int) -> bool:
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


async def release_seats(session: AsyncSession, seats: Iterable[tuple[uuid.UUID, int]]) -> None:
    """Return seats (ticket type id, count) to their ticket types."""
    for ticket_type_id, count in sorted(seats):
        await session.execute(
            update(TicketType)
            .where(TicketType.id == ticket_type_id)
            .values(reserved=TicketType.reserved - count)
            .execution_options(synchronize_session=False)
        )


async def lock_ticket_type(
    session: AsyncSession, *, ticket_type_id: uuid.UUID
) -> TicketType | None:
    """Lock a ticket type's row and read it again: who gets freed seats is decided one
    transaction at a time (SQLite has one writer anyway)."""
    return await session.scalar(
        select(TicketType)
        .where(TicketType.id == ticket_type_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def free_seats(session: AsyncSession, *, ticket_type_id: uuid.UUID) -> int:
    """Seats of a ticket type that no booking holds (lapsed holds still count as held)."""
    quantity, reserved = (
        await session.execute(
            select(TicketType.quantity, TicketType.reserved).where(TicketType.id == ticket_type_id)
        )
    ).one()
    return int(quantity) - int(reserved)
