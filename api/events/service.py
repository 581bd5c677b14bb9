"""Events: the catalogue, its lifecycle and ticket types. Callers commit."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slugify import slugify
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from api import outbox
from api.db import utcnow
from api.events.errors import (
    BelowReserved,
    CapacityExceeded,
    CategoryExists,
    CategoryNotFound,
    CurrencyLocked,
    EventNotFound,
    InvalidCursor,
    InvalidTransition,
    NotEditable,
    NotEventOwner,
    NoTicketTypes,
    SlugTaken,
    SortNeedsSearch,
    StartsInPast,
    TicketTypeInvalid,
    TicketTypeNotFound,
)
from api.events.models import Category, Event, EventSlug, EventStatus, TicketType, Visibility
from api.events.schemas import (
    DuplicateRequest,
    EventCreate,
    EventSort,
    EventUpdate,
    TicketTypeFields,
    TicketTypeUpdate,
    ticket_type_conflict,
)
from api.users.models import Role, User

# ---- categories -------------------------------------------------------------------------


async def create_category(session: AsyncSession, *, name: str, description: str | None) -> Category:
    slug = slugify(name, max_length=120) or uuid.uuid4().hex[:8]
    category = Category(name=name.strip(), slug=slug, description=description)
    try:
        async with session.begin_nested():
            session.add(category)
            await session.flush()
    except IntegrityError as exc:
        raise CategoryExists(f"A category named {name!r} exists already.", field="name") from exc
    await outbox.record(session, "category.created", category)
    return category


async def get_category_or_raise(session: AsyncSession, *, category_id: uuid.UUID) -> Category:
    category = await session.get(Category, category_id)
    if category is None:
        raise CategoryNotFound(f"No category with id {category_id}.", field="category_id")
    return category


async def list_categories(session: AsyncSession) -> list[tuple[Category, int]]:
    """Categories by name, each with its number of published, public, upcoming events."""
    upcoming = (
        select(func.count(Event.id))
        .where(Event.category_id == Category.id, *_publicly_listed(utcnow()))
        .correlate(Category)
        .scalar_subquery()
    )
    rows = await session.execute(select(Category, upcoming).order_by(Category.name))
    return [(row[0], int(row[1])) for row in rows.all()]


# ---- reading events ---------------------------------------------------------------------


def _publicly_listed(now: datetime) -> list[Any]:
    return [
        Event.status == EventStatus.published,
        Event.visibility == Visibility.public,
        Event.ends_at >= now,
    ]


def can_manage(event: Event, user: User | None) -> bool:
    return user is not None and (user.id == event.organizer_id or user.role == Role.admin)


def _visible(event: Event, viewer: User | None) -> bool:
    """Anyone with the link sees a published (or once-published) event, unlisted included."""
    return event.published_at is not None or can_manage(event, viewer)


async def get_visible_or_raise(
    session: AsyncSession, *, event_id: uuid.UUID, viewer: User | None
) -> Event:
    # With its ticket types in the same round trip (most callers need them).
    event = await session.get(Event, event_id, options=[joinedload(Event.ticket_types)])
    if event is None or not _visible(event, viewer):
        raise EventNotFound(f"No event with id {event_id}.", field="eventId")
    return event


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
    if sort in (EventSort.relevance, EventSort.popularity):
        raise SortNeedsSearch(
            f"Sorting by {sort.value} needs a search: send `q` (public listings only).",
            field="sort",
        )
    now = utcnow()
    base = select(Event)
    if organizer is None:
        base = base.where(*_publicly_listed(now))
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
        .where(Event.id.in_(event_ids), *_publicly_listed(now or utcnow()))
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


async def category_names(session: AsyncSession, *, category_ids: list[uuid.UUID]) -> list[str]:
    if not category_ids:
        return []
    return list(await session.scalars(select(Category.name).where(Category.id.in_(category_ids))))


# ---- writing events ---------------------------------------------------------------------


async def _claim_slug(session: AsyncSession, *, base: str, event_id: uuid.UUID) -> str:
    """The first free slug of `base`, `base-2`, ...; a unique index settles concurrent claims."""
    base = (slugify(base, max_length=100) or "event").strip("-")
    for attempt in range(1, 50):
        candidate = base if attempt == 1 else f"{base}-{attempt}"
        try:
            async with session.begin_nested():
                session.add(EventSlug(slug=candidate, event_id=event_id))
                await session.flush()
            return candidate
        except IntegrityError:
            continue
    candidate = f"{base}-{uuid.uuid4().hex[:8]}"
    session.add(EventSlug(slug=candidate, event_id=event_id))
    await session.flush()
    return candidate


def _apply_venue(event: Event, venue: Any) -> None:
    event.venue_name = venue.name if venue else None
    event.address = venue.address if venue else None
    event.city = venue.city if venue else None
    event.country = venue.country if venue else None
    event.latitude = venue.latitude if venue else None
    event.longitude = venue.longitude if venue else None


async def create(session: AsyncSession, *, organizer: User, data: EventCreate) -> Event:
    if data.category_id is not None:
        await get_category_or_raise(session, category_id=data.category_id)
    event = Event(
        id=uuid.uuid4(),
        slug="",
        title=data.title,
        description=data.description,
        category_id=data.category_id,
        tags=list(dict.fromkeys(data.tags)),
        organizer_id=organizer.id,
        online_url=str(data.online_url) if data.online_url else None,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        timezone=data.timezone,
        visibility=data.visibility,
        capacity=data.capacity,
        currency=data.currency,
        attendee_cancellation_hours=data.attendee_cancellation_hours,
        attendee_names_required=data.attendee_names_required,
        waitlist_offer_hours=data.waitlist_offer_hours,
        checkin_opens_minutes_before=data.checkin_opens_minutes_before,
        status=EventStatus.draft,
        ticket_types=[],
    )
    _apply_venue(event, data.venue)
    session.add(event)
    await session.flush()
    event.slug = await _claim_slug(session, base=data.title, event_id=event.id)
    await outbox.record(session, "event.created", event)
    return event


def _require_editable(event: Event) -> None:
    if event.status in (EventStatus.cancelled, EventStatus.completed):
        raise NotEditable(f"A {event.status.value} event cannot be changed.")


def _check_capacity(event: Event, capacity: int, ticket_types: list[TicketType]) -> None:
    planned = sum(t.quantity for t in ticket_types)
    if planned > capacity:
        raise CapacityExceeded(
            f"Ticket types offer {planned} tickets but the capacity is {capacity}.",
            field="capacity",
        )


async def update(session: AsyncSession, *, event: Event, changes: EventUpdate) -> Event:
    """Change an event; once published the currency is fixed. Capacity covers ticket types."""
    _require_editable(event)
    fields = changes.model_fields_set
    if not fields:
        return event
    if (
        "currency" in fields
        and changes.currency != event.currency
        and event.status != EventStatus.draft
    ):
        raise CurrencyLocked(
            "The currency cannot change once the event is published.", field="currency"
        )
    if "category_id" in fields and changes.category_id is not None:
        await get_category_or_raise(session, category_id=changes.category_id)
    if "capacity" in fields and changes.capacity is not None:
        _check_capacity(event, changes.capacity, event.ticket_types)
    if "slug" in fields and changes.slug and changes.slug != event.slug:
        event.slug = await _take_custom_slug(session, event=event, slug=changes.slug)
    if "attendee_cancellation_hours" in fields:
        event.attendee_cancellation_hours = changes.attendee_cancellation_hours
    if changes.attendee_names_required is not None:
        event.attendee_names_required = changes.attendee_names_required
    if changes.waitlist_offer_hours is not None:
        event.waitlist_offer_hours = changes.waitlist_offer_hours
    if changes.checkin_opens_minutes_before is not None:
        event.checkin_opens_minutes_before = changes.checkin_opens_minutes_before
    simple = (
        "title",
        "description",
        "category_id",
        "starts_at",
        "ends_at",
        "timezone",
        "visibility",
        "capacity",
        "currency",
    )
    for name in simple:
        value = getattr(changes, name)
        if name in fields and (value is not None or name == "category_id"):
            setattr(event, name, value)
    if "tags" in fields and changes.tags is not None:
        event.tags = list(dict.fromkeys(changes.tags))
    if "venue" in fields:
        _apply_venue(event, changes.venue)
    if "online_url" in fields:
        event.online_url = str(changes.online_url) if changes.online_url else None
    if event.ends_at <= event.starts_at:
        raise InvalidTransition(
            "ends_at must be after starts_at.", field="ends_at", code="event.invalid_dates"
        )
    if event.online_url is None and event.city is None:
        raise InvalidTransition(
            "An event needs a venue or an online_url.", field="venue", code="event.no_location"
        )
    await outbox.record(session, "event.updated", event)
    return event


async def _take_custom_slug(session: AsyncSession, *, event: Event, slug: str) -> str:
    owner = await session.scalar(select(EventSlug.event_id).where(EventSlug.slug == slug))
    if owner is not None and owner != event.id:
        raise SlugTaken(f"The slug {slug!r} is taken.", field="slug")
    if owner is None:
        try:
            async with session.begin_nested():
                session.add(EventSlug(slug=slug, event_id=event.id))
                await session.flush()
        except IntegrityError as exc:
            raise SlugTaken(f"The slug {slug!r} is taken.", field="slug") from exc
    return slug


async def delete(session: AsyncSession, *, event: Event) -> None:
    if event.status != EventStatus.draft:
        raise InvalidTransition("Only a draft can be deleted; cancel a published event instead.")
    await outbox.record(session, "event.deleted", event)
    await session.delete(event)
    await session.flush()


async def publish(session: AsyncSession, *, event: Event, now: datetime | None = None) -> Event:
    """Put a draft on sale; `now` lets demo data publish as of an earlier day."""
    now = now or utcnow()
    if event.status != EventStatus.draft:
        raise InvalidTransition(f"A {event.status.value} event cannot be published.")
    if not event.ticket_types:
        raise NoTicketTypes("Add at least one ticket type before publishing.")
    if event.starts_at <= now:
        raise StartsInPast("An event that has started cannot be published.", field="starts_at")
    event.status = EventStatus.published
    event.published_at = now
    await outbox.record(session, "event.published", event)
    return event


async def cancel(session: AsyncSession, *, event: Event, reason: str) -> Event:
    """Cancel a draft or published event; `event.cancelled` lets bookings and refunds react."""
    if event.status not in (EventStatus.draft, EventStatus.published):
        raise InvalidTransition(f"A {event.status.value} event cannot be cancelled.")
    event.status = EventStatus.cancelled
    event.cancellation_reason = reason
    event.cancelled_at = utcnow()
    await outbox.record(session, "event.cancelled", event)
    return event


async def complete_ended(session: AsyncSession, *, now: datetime | None = None) -> int:
    """Mark published events whose end has passed as completed."""
    now = now or utcnow()
    ended = await session.scalars(
        select(Event).where(Event.status == EventStatus.published, Event.ends_at < now).limit(500)
    )
    count = 0
    for event in ended:
        event.status = EventStatus.completed
        await outbox.record(session, "event.completed", event)
        count += 1
    return count


async def duplicate(
    session: AsyncSession, *, event: Event, actor: User, options: DuplicateRequest
) -> Event:
    """A new draft with the same details and ticket types, under a new slug."""
    shift = timedelta(days=options.shift_days)
    copy = Event(
        id=uuid.uuid4(),
        slug="",
        title=options.title or event.title,
        description=event.description,
        category_id=event.category_id,
        tags=list(event.tags),
        organizer_id=event.organizer_id if actor.role == Role.admin else actor.id,
        venue_name=event.venue_name,
        address=event.address,
        city=event.city,
        country=event.country,
        latitude=event.latitude,
        longitude=event.longitude,
        online_url=event.online_url,
        starts_at=event.starts_at + shift,
        ends_at=event.ends_at + shift,
        timezone=event.timezone,
        visibility=event.visibility,
        capacity=event.capacity,
        currency=event.currency,
        attendee_cancellation_hours=event.attendee_cancellation_hours,
        attendee_names_required=event.attendee_names_required,
        waitlist_offer_hours=event.waitlist_offer_hours,
        checkin_opens_minutes_before=event.checkin_opens_minutes_before,
        status=EventStatus.draft,
        ticket_types=[
            TicketType(
                name=t.name,
                description=t.description,
                price_cents=t.price_cents,
                quantity=t.quantity,
                sales_start=t.sales_start + shift if t.sales_start else None,
                sales_end=t.sales_end + shift if t.sales_end else None,
                min_per_order=t.min_per_order,
                max_per_order=t.max_per_order,
                sort_order=t.sort_order,
                tax_name=t.tax_name,
                tax_rate_bps=t.tax_rate_bps,
                tax_inclusive=t.tax_inclusive,
                tax_country=t.tax_country,
            )
            for t in event.ticket_types
        ],
    )
    session.add(copy)
    await session.flush()
    copy.slug = await _claim_slug(session, base=copy.title, event_id=copy.id)
    await outbox.record(session, "event.created", copy)
    for ticket_type in copy.ticket_types:
        await outbox.record(session, "ticket_type.created", ticket_type)
    return copy


async def record_view(
    session: AsyncSession, *, event_id: uuid.UUID, user_id: uuid.UUID | None, visitor_id: str | None
) -> None:
    """A behaviour event for the funnel: someone looked at an event page."""
    await outbox.emit(
        session,
        "event.viewed",
        entity="event_view",
        entity_id=str(uuid.uuid4()),
        payload={
            "event_id": str(event_id),
            "user_id": str(user_id) if user_id else None,
            "visitor_id": visitor_id,
            "viewed_at": utcnow().isoformat(),
        },
    )


# ---- ticket types -----------------------------------------------------------------------


def get_ticket_type_or_raise(event: Event, ticket_type_id: uuid.UUID) -> TicketType:
    for ticket_type in event.ticket_types:
        if ticket_type.id == ticket_type_id:
            return ticket_type
    raise TicketTypeNotFound(
        f"No ticket type {ticket_type_id} on this event.", field="ticketTypeId"
    )


async def add_ticket_type(
    session: AsyncSession, *, event: Event, data: TicketTypeFields
) -> TicketType:
    _require_editable(event)
    ticket_type = TicketType(id=uuid.uuid4(), **data.model_dump())
    _check_capacity(event, event.capacity, [*event.ticket_types, ticket_type])
    event.ticket_types.append(ticket_type)
    await outbox.record(session, "ticket_type.created", ticket_type)
    return ticket_type


async def update_ticket_type(
    session: AsyncSession, *, event: Event, ticket_type: TicketType, changes: TicketTypeUpdate
) -> TicketType:
    _require_editable(event)
    values = {
        **{name: getattr(ticket_type, name) for name in TicketTypeFields.model_fields},
        **changes.model_dump(exclude_unset=True),
    }
    conflict = ticket_type_conflict(
        min_per_order=values["min_per_order"],
        max_per_order=values["max_per_order"],
        sales_start=values["sales_start"],
        sales_end=values["sales_end"],
    )
    if conflict is not None:
        raise TicketTypeInvalid(f"{conflict[1]}.", field=conflict[0])
    merged = TicketTypeFields.model_validate(values)
    others = [t for t in event.ticket_types if t.id != ticket_type.id]
    _check_capacity(event, event.capacity, [*others, TicketType(quantity=merged.quantity)])
    await session.refresh(ticket_type, ["reserved"])
    if merged.quantity < ticket_type.reserved:
        raise BelowReserved(
            f"{ticket_type.reserved} of these tickets are sold or held; the quantity cannot "
            "go below that.",
            field="quantity",
        )
    for name, value in merged.model_dump().items():
        setattr(ticket_type, name, value)
    try:
        async with session.begin_nested():  # a sale between the check and here hits the CHECK
            await session.flush()
    except IntegrityError as exc:
        raise BelowReserved("Tickets were sold meanwhile; try again.", field="quantity") from exc
    await outbox.record(session, "ticket_type.updated", ticket_type)
    return ticket_type


async def delete_ticket_type(
    session: AsyncSession, *, event: Event, ticket_type: TicketType
) -> None:
    _require_editable(event)
    if event.status == EventStatus.published and len(event.ticket_types) == 1:
        raise NoTicketTypes("A published event keeps at least one ticket type.")
    await session.refresh(ticket_type, ["reserved"])
    if ticket_type.reserved > 0:
        raise BelowReserved("Tickets of this type are sold or held; it cannot be removed.")
    await outbox.record(session, "ticket_type.deleted", ticket_type)
    event.ticket_types.remove(ticket_type)
    await session.flush()
