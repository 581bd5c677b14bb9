"""The operations on events that change bookings too, as the events routes call them.

Cancelling an event cancels its bookings; changing a ticket type may give new seats to the
waitlist. Each is one function of the bookings domain, above this one (`api.bookings.workflows`,
which the pages call as well). The application hands that module to the events routes
(`app.state.event_workflows`, set in `api.main`), so they stay where the API lists them while
the events domain imports nothing of bookings.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from api.events.models import Event, TicketType
from api.events.schemas import TicketTypeUpdate

if TYPE_CHECKING:
    from api.users import User


class EventWorkflows(Protocol):
    async def cancel_event(
        self, session: AsyncSession, *, event_id: uuid.UUID, actor: User, reason: str
    ) -> Event:
        """Cancel the event and every live booking of it, in one transaction."""
        ...

    async def change_ticket_type(
        self,
        session: AsyncSession,
        *,
        event_id: uuid.UUID,
        ticket_type_id: uuid.UUID,
        actor: User,
        changes: TicketTypeUpdate,
    ) -> TicketType:
        """Change a ticket type; seats it gains go to the waitlist first."""
        ...
