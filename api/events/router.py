"""HTTP routes of the catalogue: categories, events and their ticket types."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Query, Request, Response, status

from api.auth.dependencies import AdminDep, MaybeUser, OrganizerDep
from api.bookings import service as bookings_service
from api.deps import VISITOR_COOKIE, Public, SessionDep, StorageDep, visitor_id
from api.errors import problem_responses
from api.events import media as media_service
from api.events import service
from api.events.errors import SortNeedsSearch
from api.events.models import Event
from api.events.schemas import (
    CancelRequest,
    CategoryCreate,
    CategoryOut,
    DuplicateRequest,
    EventCreate,
    EventOut,
    EventPage,
    EventSales,
    EventSort,
    EventUpdate,
    TicketTypeFields,
    TicketTypeOut,
    TicketTypeUpdate,
    event_view,
)
from api.inputs import Instant
from api.search import service as search_service
from api.search.errors import IncompleteGeoFilter
from api.users.models import User
from search.backend import GeoFilter

router = APIRouter(tags=["events"], responses=problem_responses(422))

MAX_PRICE = 100_000_000
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=500, description="next_cursor of the last page")]
WRITE_ERRORS = problem_responses(401, 403, 404, 409)


def _category_out(category: object, upcoming: int) -> CategoryOut:
    return CategoryOut.model_validate(
        {
            **{k: getattr(category, k) for k in ("id", "name", "slug", "description")},
            "upcoming_events": upcoming,
        }
    )


@router.post(
    "/categories",
    status_code=status.HTTP_201_CREATED,
    response_model=CategoryOut,
    tags=["categories"],
    responses=problem_responses(401, 403, 409),
)
async def create_category(
    body: CategoryCreate, _admin: AdminDep, session: SessionDep
) -> CategoryOut:
    """Add a category (admins)."""
    category = await service.create_category(session, name=body.name, description=body.description)
    await session.commit()
    return _category_out(category, 0)


@router.get(
    "/categories", response_model=list[CategoryOut], tags=["categories"], dependencies=[Public]
)
async def list_categories(session: SessionDep) -> list[CategoryOut]:
    """Every category with its number of published upcoming events."""
    return [_category_out(c, n) for c, n in await service.list_categories(session)]


def _filters(
    category_id: uuid.UUID | None = None,
    city: Annotated[str | None, Query(max_length=100)] = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
    starts_from: Instant | None = None,
    starts_to: Instant | None = None,
    price_min: Annotated[int | None, Query(ge=0, le=MAX_PRICE)] = None,
    price_max: Annotated[int | None, Query(ge=0, le=MAX_PRICE)] = None,
    free: bool | None = None,
    online: bool | None = None,
    organizer_id: uuid.UUID | None = None,
) -> service.EventFilters:
    return service.EventFilters(
        category_id=category_id,
        city=city,
        country=country,
        starts_from=starts_from,
        starts_to=starts_to,
        price_min=price_min,
        price_max=price_max,
        free=free,
        online=online,
        organizer_id=organizer_id,
    )


Filters = Annotated[service.EventFilters, Depends(_filters)]


async def _page(
    session: SessionDep,
    filters: service.EventFilters,
    *,
    sort: EventSort,
    limit: int,
    cursor: str | None,
    organizer: User | None = None,
) -> EventPage:
    events, next_cursor, total = await service.list_events(
        session, filters=filters, sort=sort, limit=limit, cursor=cursor, organizer=organizer
    )
    items = [event_view(e) for e in events]
    if organizer is not None:
        sales = await bookings_service.sales_by_event(session, event_ids=[e.id for e in events])
        for item in items:
            item.sales = EventSales.model_validate(sales[item.id])
    return EventPage(items=items, next_cursor=next_cursor, total=total)


@dataclass(frozen=True)
class SearchParams:
    text: str
    tags: tuple[str, ...]
    near: GeoFilter | None

    def wanted(self, sort: EventSort | None) -> bool:
        """A search rather than a plain listing: words, a search-only filter or sort."""
        return bool(self.text or self.tags or self.near) or sort in SEARCH_SORTS


SEARCH_SORTS = (EventSort.relevance, EventSort.popularity)


def _search_params(
    q: Annotated[
        str | None, Query(max_length=200, description="Words to search for (typos allowed)")
    ] = None,
    tags: Annotated[list[str] | None, Query(max_length=10, description="Search only")] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90, description="Search only")] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180, description="Search only")] = None,
    radius_km: Annotated[
        float | None, Query(gt=0, le=20_000, description="Search only: with lat and lon")
    ] = None,
) -> SearchParams:
    near_given = [value is not None for value in (lat, lon, radius_km)]
    if any(near_given) and not all(near_given):
        missing = next(
            n for n, v in zip(("lat", "lon", "radius_km"), near_given, strict=True) if not v
        )
        raise IncompleteGeoFilter(
            "A place filter needs lat, lon and radius_km together.", field=missing
        )
    near = (
        GeoFilter(lat=lat, lon=lon, radius_km=radius_km)
        if lat is not None and lon is not None and radius_km is not None
        else None
    )
    return SearchParams(text=(q or "").strip(), tags=tuple(tags or ()), near=near)


SearchParamsDep = Annotated[SearchParams, Depends(_search_params)]


async def _public_page(
    request: Request,
    response: Response,
    background: BackgroundTasks,
    session: SessionDep,
    user: User | None,
    filters: service.EventFilters,
    params: SearchParams,
    *,
    sort: EventSort | None,
    limit: int,
    cursor: str | None,
) -> EventPage:
    """A page of the public catalogue: from the database, or, for a search, from the index
    (the search is then recorded for the analytics after the response has gone)."""
    if not params.wanted(sort):
        return await _page(
            session, filters, sort=sort or EventSort.starts_at, limit=limit, cursor=cursor
        )
    if sort == EventSort.newest:
        raise SortNeedsSearch(
            "Searches sort by relevance, starts_at, price or popularity.", field="sort"
        )
    search = search_service.EventSearch(
        text=params.text,
        filters=filters,
        tags=params.tags,
        near=params.near,
        sort=sort if sort is not None else (None if params.text else EventSort.starts_at),
        page=search_service.decode_cursor(cursor),
        page_size=limit,
    )
    settings = request.app.state.settings
    found = await search_service.search_events(
        session, search_service.backend_for(settings), search
    )
    search_id = uuid.uuid4()
    base = settings.public_base_url.rstrip("/")
    items = []
    offset = (search.page - 1) * limit
    for position, event in enumerate(found.events, start=offset + 1):
        item = event_view(event)
        item.highlights = found.highlights.get(event.id) or None
        item.click_url = f"{base}/search/{search_id}/open/{event.id}?position={position}"
        items.append(item)
    visitor = _visitor(request, response)
    sessionmaker = request.app.state.sessionmaker
    user_id = user.id if user else None

    async def record() -> None:
        async with sessionmaker() as writer:
            await search_service.record_search(
                writer,
                search_id=search_id,
                text=search.text,
                filters=search_service.filters_given(search),
                sort=(search.sort or EventSort.relevance).value,
                page=search.page,
                total=found.total,
                result_ids=found.result_ids,
                user_id=user_id,
                visitor_id=visitor,
            )
            await writer.commit()

    background.add_task(record)
    return EventPage(
        items=items,
        next_cursor=search_service.encode_cursor(found.next_page) if found.next_page else None,
        total=found.total,
        facets=found.facets,
        search_id=search_id,
    )


@router.get(
    "/events", response_model=EventPage, dependencies=[Public], responses=problem_responses(503)
)
async def list_events(
    request: Request,
    response: Response,
    background: BackgroundTasks,
    user: MaybeUser,
    session: SessionDep,
    filters: Filters,
    search: SearchParamsDep,
    sort: Annotated[
        EventSort | None,
        Query(description="starts_at by default; relevance when searching with `q`"),
    ] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> EventPage:
    """Published public events that have not ended, filtered and sorted, a page at a time.

    With `q` (words, typos forgiven, the last word as a prefix), `tags`, a place
    (`lat`, `lon`, `radius_km`) or `sort=relevance|popularity`, the search index answers:
    the same page shape plus `facets`, per-event `highlights` and `click_url`, and a
    `search_id`."""
    return await _public_page(
        request,
        response,
        background,
        session,
        user,
        filters,
        search,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )


@router.get("/events/organizer", response_model=EventPage, responses=problem_responses(401, 403))
async def organizer_events(
    organizer: OrganizerDep,
    session: SessionDep,
    filters: Filters,
    sort: EventSort = EventSort.newest,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> EventPage:
    """The caller's own events in every status."""
    return await _page(session, filters, sort=sort, limit=limit, cursor=cursor, organizer=organizer)


@router.get(
    "/events/category/{categoryId}",
    response_model=EventPage,
    dependencies=[Public],
    responses=problem_responses(404, 503),
)
async def category_events(
    categoryId: uuid.UUID,
    request: Request,
    response: Response,
    background: BackgroundTasks,
    user: MaybeUser,
    session: SessionDep,
    filters: Filters,
    search: SearchParamsDep,
    sort: EventSort | None = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> EventPage:
    """Published public events of one category (searchable like `GET /events`)."""
    await service.get_category_or_raise(session, category_id=categoryId)
    filters = service.EventFilters(**{**filters.__dict__, "category_id": categoryId})
    return await _public_page(
        request,
        response,
        background,
        session,
        user,
        filters,
        search,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )


def _visitor(request: Request, response: Response) -> str:
    """The anonymous visitor id behaviour events carry (a year-long cookie)."""
    visitor = visitor_id(request)
    if visitor is None:
        visitor = uuid.uuid4().hex
        response.set_cookie(
            VISITOR_COOKIE, visitor, max_age=365 * 86400, httponly=True, samesite="lax"
        )
    return visitor


def _record_view(
    request: Request,
    response: Response,
    background: BackgroundTasks,
    event: Event,
    user: User | None,
) -> None:
    """Count the view after the response has gone, so the page is not slower for it."""
    visitor = _visitor(request, response)
    sessionmaker = request.app.state.sessionmaker
    event_id, user_id = event.id, user.id if user else None  # the request's session closes first

    async def record() -> None:
        async with sessionmaker() as session:
            await service.record_view(
                session, event_id=event_id, user_id=user_id, visitor_id=visitor
            )
            await session.commit()

    background.add_task(record)


@router.get("/events/slug/{slug}", response_model=EventOut, responses=problem_responses(404))
async def get_event_by_slug(
    slug: Annotated[str, Path(max_length=120)],
    user: MaybeUser,
    session: SessionDep,
    request: Request,
    response: Response,
    background: BackgroundTasks,
) -> EventOut:
    """An event by its slug; former slugs still resolve."""
    event = await service.get_by_slug_or_raise(session, slug=slug, viewer=user)
    _record_view(request, response, background, event, user)
    return event_view(event)


@router.get("/events/{eventId}", response_model=EventOut, responses=problem_responses(404))
async def get_event(
    eventId: uuid.UUID,
    user: MaybeUser,
    session: SessionDep,
    request: Request,
    response: Response,
    background: BackgroundTasks,
) -> EventOut:
    """One event; drafts only for their organizer and admins."""
    event = await service.get_visible_or_raise(session, event_id=eventId, viewer=user)
    _record_view(request, response, background, event, user)
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
    await session.commit()
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
    await session.commit()
    return event_view(event)


@router.delete("/events/{eventId}", status_code=status.HTTP_204_NO_CONTENT, responses=WRITE_ERRORS)
async def delete_event(eventId: uuid.UUID, actor: OrganizerDep, session: SessionDep) -> Response:
    """Delete a draft; published events are cancelled instead."""
    event = await service.get_managed_or_raise(session, event_id=eventId, actor=actor)
    await service.delete(session, event=event)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/events/{eventId}/publish", response_model=EventOut, responses=WRITE_ERRORS)
async def publish_event(eventId: uuid.UUID, actor: OrganizerDep, session: SessionDep) -> EventOut:
    """Put a draft on sale: it needs a ticket type and a start in the future."""
    event = await service.get_managed_or_raise(session, event_id=eventId, actor=actor)
    await service.publish(session, event=event)
    await session.commit()
    return event_view(event)


@router.post("/events/{eventId}/cancel", response_model=EventOut, responses=WRITE_ERRORS)
async def cancel_event(
    eventId: uuid.UUID,
    body: CancelRequest,
    actor: OrganizerDep,
    session: SessionDep,
) -> EventOut:
    """Cancel an event, with a reason; bookings and refunds follow from `event.cancelled`."""
    event = await service.get_managed_or_raise(session, event_id=eventId, actor=actor)
    await service.cancel(session, event=event, reason=body.reason)
    await bookings_service.cancel_all_for_event(session, event_id=event.id, actor=actor)
    await session.commit()
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
    copy = await service.duplicate(
        session, event=event, actor=actor, options=body or DuplicateRequest()
    )
    await media_service.copy_all(session, storage, source=event, target=copy, actor=actor)
    await session.commit()
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
    await session.commit()
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
) -> TicketTypeOut:
    """Change a ticket type."""
    event = await service.get_managed_or_raise(session, event_id=eventId, actor=actor)
    ticket_type = service.get_ticket_type_or_raise(event, ticketTypeId)
    await service.update_ticket_type(session, event=event, ticket_type=ticket_type, changes=body)
    await bookings_service.seats_added(session, ticket_type_id=ticket_type.id)
    await session.commit()
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
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
