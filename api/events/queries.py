"""Reading events: who may see or change one, and the catalogue a page at a time."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from api.db import utcnow
from api.events.errors import EventNotFound, InvalidCursor, NotEventOwner, SortNeedsSearch
from api.events.models import Event, EventSlug, EventStatus, TicketType, Visibility
from api.events.schemas import EventSort
from api.users import service as users_service

if TYPE_CHECKING:
    from api.users import User

SEARCH_ONLY_SORTS = (EventSort.relevance, EventSort.popularity)


def publicly_listed(now: datetime) -> list[Any]:
    return [
        Event.status == EventStatus.published,
        Event.visibility == Visibility.public,
        Event.ends_at >= now,
    ]


def can_manage(event: Event, user: User | None) -> bool:
    return user is not None and (
        user.id == event.organizer_id or user.role == users_service.Role.admin
    )


def _visible(event: Event, viewer: User | None) -> bool:
    """Anyone with the link sees a published (or once-published) event, unlisted included."""
    return event.published_at is not None or can_manage(event, viewer)


async def get(session: AsyncSession, *, event_id: uuid.UUID) -> Event | None:
    """An event by id, for the platform's own jobs (no viewer check)."""
    return await session.get(Event, event_id)


async def get_visible_or_raise(
    session: AsyncSession, *, event_id: uuid.UUID, viewer: User | None
) -> Event:
    # With its ticket types in the same round trip (most callers need them).
    event = await session.get(Event, event_id, options=[joinedload(Event.ticket_types)])
    if event is None or not _visible(event, viewer):
        raise EventNotFound(f"No event with id {event_id}.", field="eventId")
    return event


async def find_published(session: AsyncSession, *, event_id: uuid.UUID) -> Event | None:
    """An event anyone may see (published, now or once), with its ticket types; else None."""
    event = await session.get(Event, event_id, options=[joinedload(Event.ticket_types)])
    return event if event is not None and _visible(event, None) else None


async def get_by_slug_or_raise(session: AsyncSession, *, slug: str, viewer: User | None) -> Event:
    """The event a slug, current or former, points to."""
    event_id = await session.scalar(select(EventSlug.event_id).where(EventSlug.slug == slug))
    if event_id is None:
        raise EventNotFound(f"No event with slug {slug!r}.", field="slug")
    return await get_visible_or_raise(session, event_id=event_id, viewer=viewer)


async def get_managed_or_raise(session: AsyncSession, *, event_id: uuid.UUID, actor: User) -> Event:
    """An event the actor may change: its organizer's, or any for an admin."""
    event = await get_visible_or_raise(session, event_id=event_id, viewer=actor)
    if not can_manage(event, actor):
        raise NotEventOwner("Only the event's organizer or an admin may change it.")
    return event


@dataclass(frozen=True)
class EventFilters:
    category_id: uuid.UUID | None = None
    city: str | None = None
    country: str | None = None
    starts_from: datetime | None = None
    starts_to: datetime | None = None
    price_min: int | None = None
    price_max: int | None = None
    free: bool | None = None
    online: bool | None = None
    organizer_id: uuid.UUID | None = None


def _min_price() -> Any:
    return (
        select(func.coalesce(func.min(TicketType.price_cents), 0))
        .where(TicketType.event_id == Event.id)
        .correlate(Event)
        .scalar_subquery()
    )


def _filtered(query: Select[Any], filters: EventFilters) -> Select[Any]:
    price = _min_price()
    conditions: list[Any] = []
    if filters.category_id is not None:
        conditions.append(Event.category_id == filters.category_id)
    if filters.city:
        conditions.append(func.lower(Event.city) == filters.city.lower())
    if filters.country:
        conditions.append(Event.country == filters.country.upper())
    if filters.starts_from is not None:
        conditions.append(Event.starts_at >= filters.starts_from)
    if filters.starts_to is not None:
        conditions.append(Event.starts_at <= filters.starts_to)
    if filters.price_min is not None:
        conditions.append(price >= filters.price_min)
    if filters.price_max is not None:
        conditions.append(price <= filters.price_max)
    if filters.free is not None:
        conditions.append(price == 0 if filters.free else price > 0)
    if filters.online is not None:
        conditions.append(
            Event.online_url.is_not(None) if filters.online else Event.online_url.is_(None)
        )
    if filters.organizer_id is not None:
        conditions.append(Event.organizer_id == filters.organizer_id)
    return query.where(*conditions)


def _encode_cursor(key: Any, event_id: uuid.UUID) -> str:
    value = key.isoformat() if isinstance(key, datetime) else key
    raw = json.dumps({"k": value, "id": str(event_id)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: EventSort) -> tuple[Any, uuid.UUID]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key = data["k"]
        key = int(key) if sort == EventSort.price else datetime.fromisoformat(key)
        if isinstance(key, datetime) and key.tzinfo is None:
            raise ValueError("naive time in cursor")
        if isinstance(key, int) and not 0 <= key <= 2**53:
            raise ValueError("price out of range")
        return key, uuid.UUID(data["id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidCursor("This cursor is not valid for this listing.", field="cursor") from exc


def search_sort(sort: EventSort | None, *, text: str) -> EventSort | None:
    """The order of a search of the catalogue: what was asked for, else relevance for words
    (None) and the start time without. The index has no creation time to sort by."""
    if sort == EventSort.newest:
        raise SortNeedsSearch(
            "Searches sort by relevance, starts_at, price or popularity.", field="sort"
        )
    if sort is not None:
        return sort
    return None if text else EventSort.starts_at


async def list_events(
    session: AsyncSession,
    *,
    filters: EventFilters,
    sort: EventSort,
    limit: int,
    cursor: str | None,
    organizer: User | None = None,
) -> tuple[list[Event], str | None, int]:
    """A page of events in a stable order (keyset on the sort key and id), and the total.

    Without `organizer` only published, public, not yet ended events are listed; with it,
    that organizer's events in every status.
    """
    if sort in SEARCH_ONLY_SORTS:
        raise SortNeedsSearch(
            f"Sorting by {sort.value} needs a search: send `q` (public listings only).",
            field="sort",
        )
    now = utcnow()
    base = select(Event)
    if organizer is None:
        base = base.where(*publicly_listed(now))
    else:
        base = base.where(Event.organizer_id == organizer.id)
    base = _filtered(base, filters)
    total = await session.scalar(select(func.count()).select_from(base.subquery())) or 0

    key_column: Any = {
        EventSort.starts_at: Event.starts_at,
        EventSort.newest: Event.created_at,
        EventSort.price: _min_price(),
    }[sort]
    descending = sort == EventSort.newest
    query = base.add_columns(key_column.label("sort_key"))
    if cursor is not None:
        key, last_id = _decode_cursor(cursor, sort)
        if descending:
            query = query.where(or_(key_column < key, and_(key_column == key, Event.id < last_id)))
        else:
            query = query.where(or_(key_column > key, and_(key_column == key, Event.id > last_id)))
    order = (key_column.desc(), Event.id.desc()) if descending else (key_column, Event.id)
    rows = (await session.execute(query.order_by(*order).limit(limit + 1))).all()
    events = [row[0] for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        sort_key = last.sort_key
        if isinstance(sort_key, datetime) and sort_key.tzinfo is None:
            sort_key = sort_key.replace(tzinfo=now.tzinfo)
        next_cursor = _encode_cursor(sort_key, last[0].id)
    return events, next_cursor, total


async def listed_in_order(
    session: AsyncSession, *, event_ids: list[uuid.UUID], now: datetime | None = None
) -> list[Event]:
    """The events of `event_ids` that are publicly listed now, in the order given (a search
    index may lag behind a cancellation by a few seconds; those are left out)."""
    if not event_ids:
        return []
    rows = await session.scalars(
        select(Event)
        .options(joinedload(Event.ticket_types))
        .where(Event.id.in_(event_ids), *publicly_listed(now or utcnow()))
    )
    found = {event.id: event for event in rows.unique()}
    return [found[event_id] for event_id in event_ids if event_id in found]


async def get_many(session: AsyncSession, *, event_ids: list[uuid.UUID]) -> list[Event]:
    """The events of `event_ids` whatever their state (unknown ids are left out)."""
    if not event_ids:
        return []
    return list(await session.scalars(select(Event).where(Event.id.in_(event_ids))))


async def seats_left(session: AsyncSession, *, event_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Seats not yet held or sold per event, over its ticket types."""
    if not event_ids:
        return {}
    rows = await session.execute(
        select(TicketType.event_id, func.sum(TicketType.quantity - TicketType.reserved))
        .where(TicketType.event_id.in_(event_ids))
        .group_by(TicketType.event_id)
    )
    return {event_id: int(left or 0) for event_id, left in rows.all()}


async def ticket_types_of(session: AsyncSession, *, event_id: uuid.UUID) -> list[TicketType]:
    """An event's ticket types, whatever the event's state."""
    return list(await session.scalars(select(TicketType).where(TicketType.event_id == event_id)))
