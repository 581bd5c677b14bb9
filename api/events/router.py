"""HTTP routes of events and their ticket types.

Categories are in `categories_router`; the listings (`GET /events`, searchable, and an
organizer's own with sales) in `api.search.listing_router`, which `api.main` includes between
the two, where the API has always listed them. Cancelling an event and changing a ticket type
change bookings too: those routes call the bookings domain's workflows (`workflows`).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Request, Response, status

from api.auth.dependencies import MaybeUser, OrganizerDep, ensure_visitor
from api.deps import SessionDep, StorageDep
from api.errors import problem_responses
from api.events import media as media_service
from api.events import service
from api.events.models import Event
from api.events.schemas import (
    CancelRequest,
    DuplicateRequest,
    EventCreate,
    EventOut,
    EventUpdate,
    TicketTypeFields,
    TicketTypeOut,
    TicketTypeUpdate,
)
from api.events.views import event_view
from api.events.workflows import EventWorkflows

router = APIRouter(tags=["events"], responses=problem_responses(422))

WRITE_ERRORS = problem_responses(401, 403, 404, 409)


async def _event_workflows(request: Request) -> EventWorkflows:
    """What cancelling an event and changing a ticket type call in the bookings domain,
    handed over by the application (`api.main`)."""
    workflows: EventWorkflows = request.app.state.event_workflows
    return workflows


EventWorkflowsDep = Annotated[EventWorkflows, Depends(_event_workflows)]


class _Visit:
    """Who is looking at an event (signed in or not), and the view counted for them."""

    def __init__(
        self, user: MaybeUser, request: Request, response: Response, background: BackgroundTasks
    ) -> None:
        self.user = user
        self._request = request
        self._response = response
        self._background = background

    def count(self, event: Event) -> None:
        """Count the view after the response has gone, so the page is not slower for it."""
        self._background.add_task(
            service.record_view_apart,
            self._request.app.state.sessionmaker,
            event_id=event.id,
            user_id=self.user.id if self.user else None,
            visitor_id=ensure_visitor(self._request, self._response),
        )


async def _visit(
    user: MaybeUser, request: Request, response: Response, background: BackgroundTasks
) -> _Visit:
    return _Visit(user, request, response, background)  # built here, not in a worker thread


VisitDep = Annotated[_Visit, Depends(_visit)]


@router.get("/events/slug/{slug}", response_model=EventOut, responses=problem_responses(404))
async def get_event_by_slug(
    slug: Annotated[str, Path(max_length=120)], visit: VisitDep, session: SessionDep
) -> EventOut:
    """An event by its slug; former slugs still resolve."""
    event = await service.get_by_slug_or_raise(session, slug=slug, viewer=visit.user)
    visit.count(event)
    return event_view(event)


@router.get("/events/{eventId}", response_model=EventOut, responses=problem_responses(404))
async def get_event(eventId: uuid.UUID, visit: VisitDep, session: SessionDep) -> EventOut:
    """One event; drafts only for their organizer and admins."""
    event = await service.get_visible_or_raise(session, event_id=eventId, viewer=visit.user)
    visit.count(event)
    return event_view(event)


@router.post(
    "/events",
    status_code=status.HTTP_201_CREATED,
    response_model=EventOut,
    responses=problem_responses(401, 403, 404),
)
async def create_event(body: EventCreate, organizer: OrganizerDep, session: SessionDep) -> EventOut:
    """Create a draft event (organizers and admins)."""
    event = await service.create(session, organizer=organizer, data=body)
    return event_view(event)


@router.put("/events/{eventId}", response_model=EventOut, responses=WRITE_ERRORS)
async def update_event(
    eventId: uuid.UUID,
    body: EventUpdate,
    actor: OrganizerDep,
    session: SessionDep,
) -> EventOut:
    """Change an event (its organizer or an admin)."""
    event = await service.get_managed_or_raise(session, event_id=eventId, actor=actor)
    await service.update(session, event=event, changes=body)
    return event_view(event)


@router.delete("/events/{eventId}", status_code=status.HTTP_204_NO_CONTENT, responses=WRITE_ERRORS)
async def delete_event(eventId: uuid.UUID, actor: OrganizerDep, session: SessionDep) -> Response:
    """Delete a draft; published events are cancelled instead."""
    event = await service.get_managed_or_raise(session, event_id=eventId, actor=actor)
    await service.delete(session, event=event)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/events/{eventId}/publish", response_model=EventOut, responses=WRITE_ERRORS)
async def publish_event(eventId: uuid.UUID, actor: OrganizerDep, session: SessionDep) -> EventOut:
    """Put a draft on sale: it needs a ticket type and a start in the future."""
    event = await service.get_managed_or_raise(session, event_id=eventId, actor=actor)
    await service.publish(session, event=event)
    return event_view(event)


@router.post("/events/{eventId}/cancel", response_model=EventOut, responses=WRITE_ERRORS)
async def cancel_event(
    eventId: uuid.UUID,
    body: CancelRequest,
    actor: OrganizerDep,
    session: SessionDep,
    workflows: EventWorkflowsDep,
) -> EventOut:
    """Cancel an event, with a reason; bookings and refunds follow from `event.cancelled`."""
    event = await workflows.cancel_event(session, event_id=eventId, actor=actor, reason=body.reason)
    return event_view(event)


@router.post(
    "/events/{eventId}/duplicate",
    status_code=status.HTTP_201_CREATED,
    response_model=EventOut,
    responses=WRITE_ERRORS,
)
async def duplicate_event(
    eventId: uuid.UUID,
    actor: OrganizerDep,
    session: SessionDep,
    storage: StorageDep,
    body: DuplicateRequest | None = None,
) -> EventOut:
    """Copy an event, with its ticket types and images, into a new draft; dates may shift."""
    event = await service.get_managed_or_raise(session, event_id=eventId, actor=actor)
    copy = await media_service.duplicate_with_images(
        session, storage, event=event, actor=actor, options=body or DuplicateRequest()
    )
    return event_view(copy)


@router.get(
    "/events/{eventId}/ticket-types",
    response_model=list[TicketTypeOut],
    tags=["ticket types"],
    responses=problem_responses(404),
)
async def list_ticket_types(
    eventId: uuid.UUID,
    user: MaybeUser,
    session: SessionDep,
) -> list[TicketTypeOut]:
    """An event's ticket types in their display order."""
    event = await service.get_visible_or_raise(session, event_id=eventId, viewer=user)
    return [TicketTypeOut.model_validate(t) for t in event.ticket_types]


@router.post(
    "/events/{eventId}/ticket-types",
    status_code=status.HTTP_201_CREATED,
    response_model=TicketTypeOut,
    tags=["ticket types"],
    responses=WRITE_ERRORS,
)
async def add_ticket_type(
    eventId: uuid.UUID,
    body: TicketTypeFields,
    actor: OrganizerDep,
    session: SessionDep,
) -> TicketTypeOut:
    """Add a ticket type; all ticket types together may not exceed the capacity."""
    event = await service.get_managed_or_raise(session, event_id=eventId, actor=actor)
    ticket_type = await service.add_ticket_type(session, event=event, data=body)
    return TicketTypeOut.model_validate(ticket_type)


@router.put(
    "/events/{eventId}/ticket-types/{ticketTypeId}",
    response_model=TicketTypeOut,
    tags=["ticket types"],
    responses=WRITE_ERRORS,
)
async def update_ticket_type(
    eventId: uuid.UUID,
    ticketTypeId: uuid.UUID,
    body: TicketTypeUpdate,
    actor: OrganizerDep,
    session: SessionDep,
    workflows: EventWorkflowsDep,
) -> TicketTypeOut:
    """Change a ticket type."""
    ticket_type = await workflows.change_ticket_type(
        session, event_id=eventId, ticket_type_id=ticketTypeId, actor=actor, changes=body
    )
    return TicketTypeOut.model_validate(ticket_type)


@router.delete(
    "/events/{eventId}/ticket-types/{ticketTypeId}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["ticket types"],
    responses=WRITE_ERRORS,
)
async def delete_ticket_type(
    eventId: uuid.UUID,
    ticketTypeId: uuid.UUID,
    actor: OrganizerDep,
    session: SessionDep,
) -> Response:
    """Remove a ticket type."""
    event = await service.get_managed_or_raise(session, event_id=eventId, actor=actor)
    ticket_type = service.get_ticket_type_or_raise(event, ticketTypeId)
    await service.delete_ticket_type(session, event=event, ticket_type=ticket_type)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
