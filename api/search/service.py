"""Search over the index the pipelines keep, with what it records for the behaviour marts
(every search and every click go to the outbox), and recommendations from the marts.

The index is read-only here: `search/` answers queries, the OLTP database has the last word
on what may be shown (an event cancelled a second ago is left out even if the index lags).
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import outbox
from api.config import Settings
from api.db import utcnow
from api.events import service as events_service
from api.search.errors import InvalidSearchCursor, SearchNotFound, SearchUnavailable
from search.backend import (
    GeoFilter,
    SearchBackend,
    SearchFilters,
    SearchQuery,
    SearchResult,
    SortOrder,
    Suggestion,
)
from search.backend import SearchUnavailable as BackendUnavailable
from search.factory import make_backend

if TYPE_CHECKING:
    from api.events import Event

T = TypeVar("T")
_BACKENDS: dict[tuple[Any, ...], SearchBackend] = {}
_SPACES = re.compile(r"\s+")

SORTS = {
    events_service.EventSort.relevance: SortOrder.RELEVANCE,
    events_service.EventSort.starts_at: SortOrder.STARTS_AT,
    events_service.EventSort.price: SortOrder.PRICE_ASC,
    events_service.EventSort.popularity: SortOrder.POPULARITY,
}


def backend_for(settings: Settings) -> SearchBackend:
    """The process's backend for these settings (opened once, shared by requests)."""
    key = (
        settings.search_backend,
        str(settings.search_dir),
        settings.opensearch_url,
        settings.opensearch_alias,
    )
    if key not in _BACKENDS:
        _BACKENDS[key] = make_backend(
            settings.search_backend,
            index_dir=settings.search_dir,
            opensearch_url=settings.opensearch_url,
            alias=settings.opensearch_alias,
        )
    return _BACKENDS[key]


async def call_backend(function: Callable[[], T]) -> T:
    """Run a (blocking) backend call off the event loop; a backend that cannot answer is a
    503 the client may retry, never a 500."""
    try:
        return await asyncio.to_thread(function)
    except (BackendUnavailable, OSError) as exc:
        raise SearchUnavailable(
            "Search is not available right now; try again shortly.",
            headers={"Retry-After": "5"},
        ) from exc


def normalize(text: str) -> str:
    """How queries are grouped in the analytics: lower case, single spaces."""
    return _SPACES.sub(" ", text).strip().lower()


def encode_cursor(page: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"p": page}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if cursor is None:
        return 1
    try:
        page = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["p"]
        if not isinstance(page, int) or not 1 <= page <= 10_000:
            raise ValueError(page)
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidSearchCursor(
            "This cursor is not valid for this search.", field="cursor"
        ) from exc
    return page


@dataclass(frozen=True)
class EventSearch:
    """A search of the catalogue as the API takes it."""

    text: str
    filters: events_service.EventFilters
    tags: tuple[str, ...] = ()
    near: GeoFilter | None = None
    sort: events_service.EventSort | None = None
    page: int = 1
    page_size: int = 20


@dataclass
class EventSearchPage:
    events: list[Event]
    total: int
    facets: dict[str, dict[str, int]]
    highlights: dict[uuid.UUID, dict[str, str]]
    next_page: int | None
    result_ids: list[str] = field(default_factory=list)


async def _search_filters(session: AsyncSession, request: EventSearch) -> SearchFilters:
    f = request.filters
    categories: tuple[str, ...] = ()
    if f.category_id is not None:
        names = await events_service.category_names(session, category_ids=[f.category_id])
        categories = tuple(names) or ("\x00no such category",)
    return SearchFilters(
        categories=categories,
        tags=request.tags,
        city=f.city,
        country=f.country,
        starts_after=f.starts_from,
        starts_before=f.starts_to,
        price_min_cents=f.price_min,
        price_max_cents=f.price_max,
        free=f.free,
        online=f.online,
        near=request.near,
        organizer_id=str(f.organizer_id) if f.organizer_id else None,
    )


async def search_events(
    session: AsyncSession, backend: SearchBackend, request: EventSearch
) -> EventSearchPage:
    """One page of the catalogue from the index, as listed events (same shape as the SQL
    listing), with facets and highlights."""
    sort = SORTS[request.sort] if request.sort is not None else SortOrder.RELEVANCE
    query = SearchQuery(
        text=request.text,
        filters=await _search_filters(session, request),
        sort=sort,
        page=request.page,
        page_size=request.page_size,
    )
    result: SearchResult = await call_backend(lambda: backend.search(query))
    ids = [uuid.UUID(hit.document.id) for hit in result.hits]
    events = await events_service.listed_in_order(session, event_ids=ids)
    highlights = {uuid.UUID(hit.document.id): dict(hit.highlights) for hit in result.hits}
    shown = request.page * request.page_size
    return EventSearchPage(
        events=events,
        total=result.total,
        facets={name: dict(counts) for name, counts in result.facets.items()},
        highlights=highlights,
        next_page=request.page + 1 if shown < result.total else None,
        result_ids=[str(event_id) for event_id in ids],
    )


@dataclass(frozen=True)
class RecordedSearch:
    """What the analytics learn of a search (`search.performed`)."""

    search_id: uuid.UUID
    text: str
    filters: dict[str, Any]
    sort: str
    page: int
    total: int
    result_ids: list[str]


async def record_search(
    session: AsyncSession,
    search: RecordedSearch,
    *,
    user_id: uuid.UUID | None,
    visitor_id: str | None,
) -> None:
    """A behaviour event for the search analytics (`search.performed`)."""
    search_id = str(search.search_id)
    await outbox.emit(
        session,
        "search.performed",
        entity="search",
        entity_id=search_id,
        payload={
            "search_id": search_id,
            "query": search.text,
            "normalized_query": normalize(search.text),
            "filters": search.filters,
            "sort": search.sort,
            "page": search.page,
            "result_count": search.total,
            "result_ids": search.result_ids,
            "user_id": str(user_id) if user_id else None,
            "visitor_id": visitor_id,
            "searched_at": utcnow().isoformat(),
        },
    )


async def record_click(
    session: AsyncSession,
    *,
    search_id: uuid.UUID,
    event_id: uuid.UUID,
    position: int,
    user_id: uuid.UUID | None,
    visitor_id: str | None,
) -> uuid.UUID:
    """A result of a recorded search was opened (`search.clicked`)."""
    known = await session.scalar(
        select(outbox.OutboxEvent.id).where(
            outbox.OutboxEvent.entity == "search",
            outbox.OutboxEvent.entity_id == str(search_id),
        )
    )
    if known is None:
        raise SearchNotFound(f"No search {search_id} was recorded.", field="search_id")
    await events_service.get_visible_or_raise(session, event_id=event_id, viewer=None)
    click_id = uuid.uuid4()
    await outbox.emit(
        session,
        "search.clicked",
        entity="search_click",
        entity_id=str(click_id),
        payload={
            "click_id": str(click_id),
            "search_id": str(search_id),
            "event_id": str(event_id),
            "position": position,
            "user_id": str(user_id) if user_id else None,
            "visitor_id": visitor_id,
            "clicked_at": utcnow().isoformat(),
        },
    )
    return click_id


async def record_click_apart(
    sessions: async_sessionmaker[AsyncSession],
    *,
    search_id: uuid.UUID,
    event_id: uuid.UUID,
    position: int,
    user_id: uuid.UUID | None,
    visitor_id: str | None,
) -> uuid.UUID:
    """Record a click in a transaction of its own, before the browser is sent on."""
    async with sessions() as session:
        click_id = await record_click(
            session,
            search_id=search_id,
            event_id=event_id,
            position=position,
            user_id=user_id,
            visitor_id=visitor_id,
        )
        await session.commit()
    return click_id


async def suggest(backend: SearchBackend, *, prefix: str, limit: int) -> list[Suggestion]:
    if not prefix.strip():
        return []
    return await call_backend(lambda: backend.suggest(prefix, limit))


def filters_given(request: EventSearch) -> dict[str, Any]:
    """The filters a search was made with, for the analytics (only those given)."""
    given: dict[str, Any] = {
        key: outbox.to_json(value)
        for key, value in request.filters.__dict__.items()
        if value is not None
    }
    if request.tags:
        given["tags"] = list(request.tags)
    if request.near is not None:
        given["near"] = {
            "lat": request.near.lat,
            "lon": request.near.lon,
            "radius_km": request.near.radius_km,
        }
    return given
