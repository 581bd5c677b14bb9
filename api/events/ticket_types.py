"""Ticket types: what an event sells, within its capacity."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.events.errors import BelowReserved, NoTicketTypes, TicketTypeInvalid, TicketTypeNotFound
from api.events.lifecycle import check_capacity, require_editable
from api.events.models import Event, EventStatus, TicketType
from api.events.schemas import TicketTypeFields, TicketTypeUpdate, ticket_type_conflict


def get_ticket_type_or_raise(event: Event, ticket_type_id: uuid.UUID) -> TicketType:
    for ticket_type in event.ticket_types:
        if ticket_type.id == ticket_type_id:
            return ticket_type
    raise TicketTypeNotFound(
        f"No ticket type {ticket_type_id} on this event.", field="ticketTypeId"
    )


async def add_ticket_type(
    session: AsyncSession, *, event: Event, data: TicketTypeFields
) -> TicketType:
    require_editable(event)
    ticket_type = TicketType(id=uuid.uuid4(), **data.model_dump())
    check_capacity(event, event.capacity, [*event.ticket_types, ticket_type])
    event.ticket_types.append(ticket_type)
    await outbox.record(session, "ticket_type.created", ticket_type)
    return ticket_type


async def update_ticket_type(
    session: AsyncSession, *, event: Event, ticket_type: TicketType, changes: TicketTypeUpdate
) -> TicketType:
    require_editable(event)
    values = {
        **{name: getattr(ticket_type, name) for name in TicketTypeFields.model_fields},
        **changes.model_dump(exclude_unset=True),
    }
    conflict = ticket_type_conflict(
        min_per_order=values["min_per_order"],
        max_per_order=values["max_per_order"],
        sales_start=values["sales_start"],
        sales_end=values["sales_end"],
    )
    if conflict is not None:
        raise TicketTypeInvalid(f"{conflict[1]}.", field=conflict[0])
    merged = TicketTypeFields.model_validate(values)
    others = [t for t in event.ticket_types if t.id != ticket_type.id]
    check_capacity(event, event.capacity, [*others, TicketType(quantity=merged.quantity)])
    await session.refresh(ticket_type, ["reserved"])
    if merged.quantity < ticket_type.reserved:
        raise BelowReserved(
            f"{ticket_type.reserved} of these tickets are sold or held; the quantity cannot "
            "go below that.",
            field="quantity",
        )
    for name, value in merged.model_dump().items():
        setattr(ticket_type, name, value)
    try:
        async with session.begin_nested():  # a sale between the check and here hits the CHECK
            await session.flush()
    except IntegrityError as exc:
        raise BelowReserved("Tickets were sold meanwhile; try again.", field="quantity") from exc
    await outbox.record(session, "ticket_type.updated", ticket_type)
    return ticket_type


async def delete_ticket_type(
    session: AsyncSession, *, event: Event, ticket_type: TicketType
) -> None:
    require_editable(event)
    if event.status == EventStatus.published and len(event.ticket_types) == 1:
        raise NoTicketTypes("A published event keeps at least one ticket type.")
    await session.refresh(ticket_type, ["reserved"])
    if ticket_type.reserved > 0:
        raise BelowReserved("Tickets of this type are sold or held; it cannot be removed.")
    await outbox.record(session, "ticket_type.deleted", ticket_type)
    event.ticket_types.remove(ticket_type)
    await session.flush()
