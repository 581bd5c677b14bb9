"""What a booking looks like on paper: its invoice lines and its tickets as a PDF."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.bookings import tickets
from api.bookings.models import Booking, TicketStatus
from api.config import Settings
from api.events import service as events_service
from api.users import service as users_service


async def invoice_lines(session: AsyncSession, *, booking_id: uuid.UUID) -> list[dict[str, Any]]:
    """A booking's lines as an invoice shows them, with the tax they were sold with."""
    booking = await session.get(Booking, booking_id)
    assert booking is not None
    event = await events_service.get(session, event_id=booking.event_id)
    assert event is not None
    names = {
        t.id: t.name
        for t in await events_service.ticket_types_of(session, event_id=booking.event_id)
    }
    return [
        {
            "description": f"{event.title}: {names.get(line.ticket_type_id, 'ticket')}",
            "event_starts_at": event.starts_at.isoformat(),
            "quantity": line.quantity,
            "unit_price_cents": line.unit_price_cents,
            "net_cents": line.net_cents,
            "tax_name": line.tax_name,
            "tax_rate_bps": line.tax_rate_bps,
            "tax_inclusive": line.tax_inclusive,
            "tax_cents": line.tax_cents,
            "gross_cents": line.gross_cents,
        }
        for line in booking.lines
    ]


async def tickets_pdf(
    session: AsyncSession, settings: Settings, *, booking_id: uuid.UUID
) -> bytes | None:
    """The valid tickets of a booking as a PDF, one page each with its QR code, in the buyer's
    locale."""
    booking = await session.get(Booking, booking_id)
    if booking is None:
        return None
    event = await events_service.get(session, event_id=booking.event_id)
    assert event is not None
    issued = [
        t
        for t in await tickets.list_for_booking(session, booking_id=booking_id)
        if t.status == TicketStatus.valid
    ]
    if not issued:
        return None
    names = {
        t.id: t.name
        for t in await events_service.ticket_types_of(session, event_id=booking.event_id)
    }
    buyer = await users_service.get(session, user_id=booking.user_id)
    return tickets.render_pdf(
        settings,
        event=event,
        issued=issued,
        type_names=names,
        booking=booking,
        locale=buyer.locale if buyer is not None else None,
    )
