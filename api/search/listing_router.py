"""HTTP routes of the catalogue's listings: the public one, searchable, from the database or
the index, and an organizer's own with its sales. They read events, search and bookings, so
they live above all three; `api.main` includes them between the categories and the events
routes, where the API has always listed them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response

from api.auth.dependencies import MaybeUser, OrganizerDep, ensure_visitor
from api.bookings import service as bookings_service
from api.deps import Public, SessionDep
from api.errors import problem_responses
from api.events import service as events_service
from api.events.schemas import EventPage, EventSales, EventSort
from api.events.views import event_view
from api.inputs import Instant
from api.search import listing
from api.search.errors import IncompleteGeoFilter
from search.backend import GeoFilter

router = APIRouter(tags=["events"], responses=problem_responses(422))

MAX_PRICE = 100_000_000
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=500, description="next_cursor of the last page")]


async def _filters(
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
) -> events_service.EventFilters:
    return events_service.EventFilters(
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


Filters = Annotated[events_service.EventFilters, Depends(_filters)]


async def _search_params(
    q: Annotated[
        str | None, Query(max_length=200, description="Words to search for (typos allowed)")
    ] = None,
    tags: Annotated[list[str] | None, Query(max_length=10, description="Search only")] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90, description="Search only")] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180, description="Search only")] = None,
    radius_km: Annotated[
        float | None, Query(gt=0, le=20_000, description="Search only: with lat and lon")
    ] = None,
) -> listing.SearchTerms:
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
    return listing.SearchTerms(text=(q or "").strip(), tags=tuple(tags or ()), near=near)


SearchParamsDep = Annotated[listing.SearchTerms, Depends(_search_params)]


class _PublicListing:
    """A request for a page of the public catalogue: who asks, and what they search for."""

    def __init__(
        self,
        request: Request,
        response: Response,
        background: BackgroundTasks,
        user: MaybeUser,
        session: SessionDep,
        search: SearchParamsDep,
    ) -> None:
        self._request = request
        self._response = response
        self._background = background
        self._user = user
        self._session = session
        self._terms = search

    async def page(
        self,
        filters: events_service.EventFilters,
        *,
        sort: EventSort | None,
        limit: int,
        cursor: str | None,
    ) -> EventPage:
        """A page of the public catalogue; a search is recorded after the response has gone."""
        request, user = self._request, self._user
        page = await listing.public_page(
            self._session,
            request.app.state.settings,
            filters=filters,
            terms=self._terms,
            sort=sort,
            limit=limit,
            cursor=cursor,
        )
        items = []
        for listed in page.items:
            item = event_view(listed.event)
            item.highlights = listed.highlights
            item.click_url = listed.click_url
            items.append(item)
        if page.search is None:
            return EventPage(items=items, next_cursor=page.next_cursor, total=page.total)
        self._background.add_task(
            listing.record_search_apart,
            request.app.state.sessionmaker,
            page.search,
            user_id=user.id if user else None,
            visitor_id=ensure_visitor(request, self._response),
        )
        return EventPage(
            items=items,
            next_cursor=page.next_cursor,
            total=page.total,
            facets=page.facets,
            search_id=page.search.search_id,
        )


async def _public_listing(
    request: Request,
    response: Response,
    background: BackgroundTasks,
    user: MaybeUser,
    session: SessionDep,
    search: SearchParamsDep,
) -> _PublicListing:
    return _PublicListing(request, response, background, user, session, search)  # no thread


PublicListingDep = Annotated[_PublicListing, Depends(_public_listing)]


@router.get(
    "/events", response_model=EventPage, dependencies=[Public], responses=problem_responses(503)
)
async def list_events(
    filters: Filters,
    catalogue: PublicListingDep,
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
    return await catalogue.page(filters, sort=sort, limit=limit, cursor=cursor)


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
    page = await bookings_service.organizer_events(
        session, organizer=organizer, filters=filters, sort=sort, limit=limit, cursor=cursor
    )
    items = []
    for event in page.events:
        item = event_view(event)
        item.sales = EventSales.model_validate(page.sales[event.id])
        items.append(item)
    return EventPage(items=items, next_cursor=page.next_cursor, total=page.total)


@router.get(
    "/events/category/{categoryId}",
    response_model=EventPage,
    dependencies=[Public],
    responses=problem_responses(404, 503),
)
async def category_events(
    categoryId: uuid.UUID,
    session: SessionDep,
    filters: Filters,
    catalogue: PublicListingDep,
    sort: EventSort | None = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> EventPage:
    """Published public events of one category (searchable like `GET /events`)."""
    await events_service.get_category_or_raise(session, category_id=categoryId)
    filters = events_service.EventFilters(**{**filters.__dict__, "category_id": categoryId})
    return await catalogue.page(filters, sort=sort, limit=limit, cursor=cursor)
