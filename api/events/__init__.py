"""Events: the catalogue, its lifecycle and ticket types.

What other domains may use of it: the entities its service hands out (`Event`, `TicketType`)
with their `EventStatus` and `Visibility`, the `EventOut` and `TicketTypeUpdate` bodies, a
ticket type's seat counter (`reserve_seats`, `release_seats`, `lock_ticket_type`,
`free_seats`), and selections of events to embed in a statement of their own
(`other_events_of`, `published_starting`). They call its other functions through
`api.events.service`. Its models, schemas, errors and seats modules are its own
(`.importlinter`).
"""

from api.events.joins import other_events_of, published_starting
from api.events.models import Event, EventStatus, TicketType, Visibility
from api.events.schemas import EventOut, TicketTypeUpdate
from api.events.seats import free_seats, lock_ticket_type, release_seats, reserve_seats

__all__ = [
    "Event",
    "EventOut",
    "EventStatus",
    "TicketType",
    "TicketTypeUpdate",
    "Visibility",
    "free_seats",
    "lock_ticket_type",
    "other_events_of",
    "published_starting",
    "release_seats",
    "reserve_seats",
]
