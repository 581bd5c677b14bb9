"""Writing events: creating, changing and deleting them, and their lifecycle from draft to
published, cancelled or completed."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from slugify import slugify
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import outbox
from api.db import utcnow
from api.events.categories import get_category_or_raise
from api.events.errors import (
    CapacityExceeded,
    CurrencyLocked,
    InvalidTransition,
    NotEditable,
    NoTicketTypes,
    SlugTaken,
    StartsInPast,
)
from api.events.models import Event, EventSlug, EventStatus, TicketType
from api.events.schemas import DuplicateRequest, EventCreate, EventUpdate
from api.users import service as users_service

if TYPE_CHECKING:
    from api.users import User


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


def require_editable(event: Event) -> None:
    if event.status in (EventStatus.cancelled, EventStatus.completed):
        raise NotEditable(f"A {event.status.value} event cannot be changed.")


def check_capacity(event: Event, capacity: int, ticket_types: list[TicketType]) -> None:
    planned = sum(t.quantity for t in ticket_types)
    if planned > capacity:
        raise CapacityExceeded(
            f"Ticket types offer {planned} tickets but the capacity is {capacity}.",
            field="capacity",
        )


async def update(session: AsyncSession, *, event: Event, changes: EventUpdate) -> Event:
    """Change an event; once published the currency is fixed. Capacity covers ticket types."""
    require_editable(event)
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
        check_capacity(event, changes.capacity, event.ticket_types)
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
    """Cancel a draft or published event. Its bookings are cancelled with it by the bookings
    domain (`api.bookings.workflows.cancel_event`); refunds follow from `event.cancelled`."""
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
        organizer_id=event.organizer_id if actor.role == users_service.Role.admin else actor.id,
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


async def record_view_apart(
    sessions: async_sessionmaker[AsyncSession],
    *,
    event_id: uuid.UUID,
    user_id: uuid.UUID | None,
    visitor_id: str | None,
) -> None:
    """Record a view in a transaction of its own (after the page has gone out)."""
    async with sessions() as session:
        await record_view(session, event_id=event_id, user_id=user_id, visitor_id=visitor_id)
        await session.commit()
