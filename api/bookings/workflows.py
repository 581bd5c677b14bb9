"""Operations that change an event and its bookings together. Each is one function and one
transaction, committed here: the API calls them (the events routes through
`api.events.workflows`), and so will the pages."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from api.bookings import door, waitlist
from api.bookings.cancellation import cancel_all_for_event
from api.config import Settings
from api.events import service as events_service

if TYPE_CHECKING:
    from api.events import Event, TicketType, TicketTypeUpdate
    from api.users import User


async def cancel_event(
    session: AsyncSession, *, event_id: uuid.UUID, actor: User, reason: str
) -> Event:
    """Cancel an event (its organizer or an admin) and every live booking of it; refunds
    follow from `event.cancelled`."""
    event = await events_service.get_managed_or_raise(session, event_id=event_id, actor=actor)
    await events_service.cancel(session, event=event, reason=reason)
    await cancel_all_for_event(session, event_id=event.id, actor=actor)
    await session.commit()
    return event


async def change_ticket_type(
    session: AsyncSession,
    *,
    event_id: uuid.UUID,
    ticket_type_id: uuid.UUID,
    actor: User,
    changes: TicketTypeUpdate,
) -> TicketType:
    """Change a ticket type; seats it gains go to the waitlist first."""
    event = await events_service.get_managed_or_raise(session, event_id=event_id, actor=actor)
    ticket_type = events_service.get_ticket_type_or_raise(event, ticket_type_id)
    await events_service.update_ticket_type(
        session, event=event, ticket_type=ticket_type, changes=changes
    )
    await waitlist.seats_added(session, ticket_type_id=ticket_type.id)
    await session.commit()
    return ticket_type


async def check_in_ticket(
    session: AsyncSession,
    settings: Settings,
    *,
    event_id: uuid.UUID,
    scan: door.Scan,
    staff: User,
) -> tuple[Event, door.Decision]:
    """Scan a ticket at the door of an event the staff member works (its organizer, an admin,
    or door staff granted it): decided once under the scan's id. Returns the event too, for
    callers that show the answer in its time zone or its counters."""
    event = await events_service.get_staffed_or_raise(session, event_id=event_id, actor=staff)
    decision = await door.decide(
        session, settings, event=event, staff=staff, scan=scan, offline=False
    )
    await session.commit()
    return event, decision


async def check_in_offline(
    session: AsyncSession,
    settings: Settings,
    *,
    event_id: uuid.UUID,
    scans: list[door.Scan],
    staff: User,
) -> tuple[Event, list[door.Decision]]:
    """The scans a door device made while offline, in the order it made them, each decided
    once (the batch sent again gets the same answers) and committed on its own, so two doors'
    batches naming the same tickets in other orders never wait on each other. Returns the event
    too."""
    event = await events_service.get_staffed_or_raise(session, event_id=event_id, actor=staff)
    decisions = []
    for scan in scans:
        decisions.append(
            await door.decide(session, settings, event=event, staff=staff, scan=scan, offline=True)
        )
        await session.commit()
    return event, decisions
