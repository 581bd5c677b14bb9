"""Tickets: issued per confirmed seat, carried as a signed QR payload, checked in once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import segno
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from api import outbox, pdf
from api.bookings.models import Booking, Ticket, TicketStatus
from api.config import Settings
from api.db import utcnow
from api.errors import Conflict, NotFound, Unprocessable
from api.formatting import format_moment, format_money
from api.inputs import same_text
from api.users import service as users_service

if TYPE_CHECKING:
    from api.users import User

PREFIX = "TSR1"


class TicketSignatureInvalid(Unprocessable):
    code = "ticket.invalid_signature"


class TicketUnknown(NotFound):
    code = "ticket.unknown"


class TicketWrongEvent(Conflict):
    code = "ticket.wrong_event"


class TicketVoid(Conflict):
    code = "ticket.cancelled"


def _signature(settings: Settings, code: str) -> str:
    digest = hmac.new(settings.derived_key("ticket-qr"), code.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode().rstrip("=")


def qr_payload(settings: Settings, ticket: Ticket) -> str:
    """What the QR code holds: the code and an HMAC, so a scanner can check it offline."""
    return f"{PREFIX}.{ticket.code}.{_signature(settings, ticket.code)}"


def qr_svg(payload: str) -> str:
    out = io.BytesIO()
    segno.make(payload, error="m").save(out, kind="svg", scale=4, xmldecl=False)
    return out.getvalue().decode()


CODE_LENGTH = 22  # secrets.token_urlsafe(16)


def code_from_payload(settings: Settings, payload: str) -> str:
    """The ticket code of a scanned payload, or of a ticket code typed at the door (printed
    under the QR code); refuses forged or mangled payloads."""
    typed = payload.strip()
    if len(typed) == CODE_LENGTH and "." not in typed:
        return typed
    parts = typed.split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise TicketSignatureInvalid("This is not a Tessera ticket.", field="payload")
    if not same_text(parts[2], _signature(settings, parts[1])):
        raise TicketSignatureInvalid("This ticket's signature is not valid.", field="payload")
    return parts[1]


def new_for(booking: Booking, *, at: datetime) -> list[Ticket]:
    """One ticket per seat of a confirmed booking, not yet written."""
    return [
        Ticket(
            id=uuid.uuid4(),
            booking_id=booking.id,
            event_id=booking.event_id,
            ticket_type_id=line.ticket_type_id,
            code=secrets.token_urlsafe(16),
            status=TicketStatus.valid,
            created_at=at,
            attendee_name=line.attendee_names[seat] if line.attendee_names else None,
        )
        for line in booking.lines
        for seat in range(line.quantity)
    ]


async def issue(session: AsyncSession, *, booking: Booking) -> list[Ticket]:
    """One ticket per seat of a confirmed booking."""
    tickets = new_for(booking, at=utcnow())
    session.add_all(tickets)
    await session.flush()
    return tickets


async def void_for_booking(session: AsyncSession, *, booking_id: uuid.UUID) -> None:
    await session.execute(
        update(Ticket)
        .where(Ticket.booking_id == booking_id)
        .values(status=TicketStatus.void)
        .execution_options(synchronize_session=False)
    )


async def list_for_booking(session: AsyncSession, *, booking_id: uuid.UUID) -> list[Ticket]:
    rows = await session.scalars(
        select(Ticket).where(Ticket.booking_id == booking_id).order_by(Ticket.created_at, Ticket.id)
    )
    return list(rows)


@dataclass(frozen=True)
class CheckIn:
    ticket: Ticket
    first_checked_in_at: datetime
    already_checked_in: bool
    buyer_name: str | None = None  # the booking's buyer, read with the ticket


async def check_in(
    session: AsyncSession, *, event_id: uuid.UUID, code: str, staff: User, at: datetime
) -> CheckIn:
    """Admit a ticket once (as of `at`, when it was scanned); a repeat scan is answered with
    when it was first scanned.

    One statement reads the ticket with its buyer's name and locks its booking, as `cancel`
    locks it, so a scan and a cancellation racing each other never both succeed; the admission
    itself is a conditional update, so two doors scanning the same ticket admit it once."""
    found = (
        await session.execute(
            select(Ticket, users_service.public_name_of(Booking.user_id))
            .join(Booking, Booking.id == Ticket.booking_id)
            .where(Ticket.code == code)
            .with_for_update(key_share=True, of=Booking)
        )
    ).one_or_none()
    if found is None:
        raise TicketUnknown("No such ticket.", field="payload")
    ticket, buyer_name = found
    if ticket.event_id != event_id:
        raise TicketWrongEvent("This ticket is for another event.", field="payload")
    first = False
    if ticket.status == TicketStatus.valid and ticket.checked_in_at is None:
        admitted = await session.execute(
            update(Ticket)
            .where(
                Ticket.id == ticket.id,
                Ticket.checked_in_at.is_(None),
                Ticket.status == TicketStatus.valid,
            )
            .values(checked_in_at=at, checked_in_by=staff.id)
            .execution_options(synchronize_session=False)
        )
        first = admitted.rowcount == 1  # type: ignore[attr-defined]
        if first:
            set_committed_value(ticket, "checked_in_at", at)
            set_committed_value(ticket, "checked_in_by", staff.id)
        else:  # another door (or a cancellation) changed it since it was read
            await session.refresh(ticket)
    if ticket.status != TicketStatus.valid:
        raise TicketVoid("This ticket was cancelled.", field="payload")
    if first:
        await outbox.record(session, "ticket.checked_in", ticket)
    assert ticket.checked_in_at is not None
    return CheckIn(
        ticket=ticket,
        first_checked_in_at=ticket.checked_in_at,
        already_checked_in=not first,
        buyer_name=buyer_name,
    )


def render_pdf(
    settings: Settings,
    *,
    event: Any,
    issued: list[Ticket],
    type_names: dict[uuid.UUID, str],
    booking: Booking | None = None,
    locale: str | None = None,
) -> bytes:
    """One A6-sized page per ticket: the event (its start in the event's own time zone, in the
    buyer's `locale`), the ticket type, the holder, what the booking cost and the QR code."""
    out = pdf.document((105, 148))  # A6
    out.set_auto_page_break(auto=False)
    starts = format_moment(event.starts_at, locale=locale, timezone=event.timezone)
    paid = (
        f"Booking {booking.id.hex[:8].upper()}: {booking.seats} ticket(s), "
        f"{format_money(booking.total_cents, booking.currency, locale)}"
        if booking is not None
        else ""
    )
    for ticket in issued:
        out.add_page()
        out.set_font("Helvetica", "B", 13)
        out.multi_cell(0, 6, pdf.text(event.title), new_x="LMARGIN", new_y="NEXT")
        out.set_font("Helvetica", "", 9)
        lines = [
            starts,
            ", ".join(p for p in (event.venue_name, event.city) if p) or (event.online_url or ""),
            type_names.get(ticket.ticket_type_id, "Ticket"),
            ticket.attendee_name or "",
            paid,
        ]
        for line in lines:
            if line:
                out.cell(0, 5, pdf.text(line), new_x="LMARGIN", new_y="NEXT")
        image = io.BytesIO()
        segno.make(qr_payload(settings, ticket), error="m").save(image, kind="png", scale=6)
        image.seek(0)
        out.image(image, x=22, y=out.get_y() + 3, w=60)
        out.set_y(out.get_y() + 66)
        out.set_font("Courier", "B", 11)
        out.cell(0, 6, ticket.code, align="C", new_x="LMARGIN", new_y="NEXT")
    return bytes(out.output())
