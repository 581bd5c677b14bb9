"""An event's attendees for its organizer, admins and its door staff: one row per seat, found
by name, email or booking reference, a page at a time, with the CSV download and the waitlist.
The same query and rows as the JSON API's `GET /events/{id}/bookings`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path, Query, Request
from fastapi.responses import Response

from api.bookings import attendee_list
from api.bookings import service as bookings_service
from api.bookings.models import WaitlistStatus
from api.deps import SessionDep
from api.events import service as events_service
from api.pages.rendering import render
from api.pages.routing import page_router
from api.pages.visitor import SignedIn
from api.users import service as users_service

router = page_router()
EventId = Annotated[uuid.UUID, Path()]
PAGE_SIZE = 50


@router.get("/organizer/events/{event_id}/attendees")
async def attendees(
    request: Request,
    event_id: EventId,
    user: SignedIn,
    session: SessionDep,
    q: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Who is coming: a seat per row with its booking, buyer, ticket type, attendee and whether
    they are in; and who waits for seats."""
    event = await events_service.get_staffed_or_raise(session, event_id=event_id, actor=user)
    lines, total = await bookings_service.attendees(
        session, event_id=event.id, statuses=[], page=page, page_size=PAGE_SIZE, search=q
    )
    waiting, _ = await bookings_service.entries_seen_by(  # the whole queue for its managers
        session,
        event=event,
        viewer=user,
        statuses=[WaitlistStatus.waiting, WaitlistStatus.offered],
        page=1,
        page_size=200,
    )
    names = {t.id: t.name for t in event.ticket_types}
    people = {
        u.id: u.public_name
        for u in await users_service.get_many(session, user_ids={e.user_id for e, _ in waiting})
    }
    context = {
        "event": event,
        "rows": attendee_list.rows(lines),
        "total": total,
        "q": q,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "waiting": [
            (entry, position, names.get(entry.ticket_type_id, ""), people.get(entry.user_id, ""))
            for entry, position in waiting
        ],
        "manages": events_service.can_manage(event, user),
    }
    return render(request, "organizer_attendees.html", context)


@router.get("/organizer/events/{event_id}/attendees.csv")
async def attendees_csv(
    event_id: EventId,
    user: SignedIn,
    session: SessionDep,
    q: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """Every matching row as a spreadsheet-safe CSV file (the API's `format=csv`)."""
    event = await events_service.get_staffed_or_raise(session, event_id=event_id, actor=user)
    lines, _ = await bookings_service.attendees(
        session, event_id=event.id, statuses=[], page=None, page_size=PAGE_SIZE, search=q
    )
    return attendee_list.csv_file(attendee_list.rows(lines), event)
