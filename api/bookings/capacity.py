"""The booking ledger: a booking's lines and what happened to it (transitions, outbox rows).

The seats themselves are counted on the ticket type (`api/events/seats.py`: one conditional
UPDATE per claim, so the database decides who gets the last seat); bookings reserve and
release them through `api.events`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.bookings.models import Booking, BookingLine, BookingStatus, BookingTransition
from api.bookings.money import price_line
from api.events import TicketType
from api.outbox import OutboxEvent


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


def booking_payload(booking: Booking, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A booking's outbox payload: its row, its lines, so consumers see what was booked, and
    any `extra` facts of the change itself (who cancelled)."""
    return (
        outbox.row_image(booking)
        | (extra or {})
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
        }
    )


async def announce(
    session: AsyncSession,
    event_type: str,
    booking: Booking,
    *,
    extra: dict[str, Any] | None = None,
) -> OutboxEvent:
    """The booking's outbox row (`booking_payload`), written after a flush so the version is
    current."""
    await session.flush()
    return await outbox.emit(
        session,
        event_type,
        entity=Booking.__outbox_entity__,
        entity_id=str(booking.id),
        version=booking.version,
        payload=booking_payload(booking, extra),
    )
