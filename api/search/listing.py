"""The public catalogue a page at a time: from the database, or from the index for a search
(words, tags, a place, or a sort only the index knows). A search is recorded for the behaviour
marts, apart from the page, so the page is not slower for it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.config import Settings
from api.events import service as events_service
from api.search.service import (
    EventSearch,
    RecordedSearch,
    backend_for,
    decode_cursor,
    encode_cursor,
    filters_given,
    record_search,
    search_events,
)
from search.backend import GeoFilter

if TYPE_CHECKING:
    from api.events import Event


@dataclass(frozen=True)
class SearchTerms:
    """What only the index answers: words, tags and a place."""

    text: str = ""
    tags: tuple[str, ...] = ()
    near: GeoFilter | None = None

    def wanted(self, sort: events_service.EventSort | None) -> bool:
        """A search rather than a plain listing: words, a search-only filter or sort."""
        return bool(self.text or self.tags or self.near) or sort in events_service.SEARCH_ONLY_SORTS


@dataclass(frozen=True)
class ListedEvent:
    event: Event
    highlights: dict[str, str] | None = None
    click_url: str | None = None


@dataclass(frozen=True)
class CataloguePage:
    items: list[ListedEvent]
    next_cursor: str | None
    total: int
    facets: dict[str, dict[str, int]] | None = None
    search: RecordedSearch | None = None


async def public_page(
    session: AsyncSession,
    settings: Settings,
    *,
    filters: events_service.EventFilters,
    terms: SearchTerms,
    sort: events_service.EventSort | None,
    limit: int,
    cursor: str | None,
) -> CataloguePage:
    """Published public events that have not ended, filtered and sorted; for a search, from
    the index, with facets, highlights and a link per result that records the click."""
    if not terms.wanted(sort):
        events, next_cursor, total = await events_service.list_events(
            session,
            filters=filters,
            sort=sort or events_service.EventSort.starts_at,
            limit=limit,
            cursor=cursor,
        )
        return CataloguePage([ListedEvent(e) for e in events], next_cursor, total)
    search = EventSearch(
        text=terms.text,
        filters=filters,
        tags=terms.tags,
        near=terms.near,
        sort=events_service.search_sort(sort, text=terms.text),
        page=decode_cursor(cursor),
        page_size=limit,
    )
    found = await search_events(session, backend_for(settings), search)
    search_id = uuid.uuid4()
    base = settings.public_base_url.rstrip("/")
    offset = (search.page - 1) * limit
    items = [
        ListedEvent(
            event,
            highlights=found.highlights.get(event.id) or None,
            click_url=f"{base}/search/{search_id}/open/{event.id}?position={position}",
        )
        for position, event in enumerate(found.events, start=offset + 1)
    ]
    return CataloguePage(
        items,
        next_cursor=encode_cursor(found.next_page) if found.next_page else None,
        total=found.total,
        facets=found.facets,
        search=RecordedSearch(
            search_id=search_id,
            text=search.text,
            filters=filters_given(search),
            sort=(search.sort or events_service.EventSort.relevance).value,
            page=search.page,
            total=found.total,
            result_ids=found.result_ids,
        ),
    )


async def record_search_apart(
    sessions: async_sessionmaker[AsyncSession],
    search: RecordedSearch,
    *,
    user_id: uuid.UUID | None,
    visitor_id: str | None,
) -> None:
    """Record a search in a transaction of its own (after the page has gone out)."""
    async with sessions() as session:
        await record_search(session, search, user_id=user_id, visitor_id=visitor_id)
        await session.commit()
