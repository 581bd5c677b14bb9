"""An event as the API shows it."""

from __future__ import annotations

from api.events.markdown import render as render_markdown
from api.events.models import Event
from api.events.schemas import EventOut, TicketTypeOut, Venue


def event_view(event: Event) -> EventOut:
    prices = [t.price_cents for t in event.ticket_types]
    venue = (
        Venue(
            name=event.venue_name or "",
            address=event.address,
            city=event.city,
            country=event.country,
            latitude=event.latitude,
            longitude=event.longitude,
        )
        if event.city and event.country
        else None
    )
    return EventOut(
        id=event.id,
        slug=event.slug,
        title=event.title,
        description=event.description,
        description_html=render_markdown(event.description),
        category_id=event.category_id,
        tags=list(event.tags),
        organizer_id=event.organizer_id,
        venue=venue,
        online_url=event.online_url,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        timezone=event.timezone,
        visibility=event.visibility,
        capacity=event.capacity,
        currency=event.currency,
        status=event.status,
        cancellation_reason=event.cancellation_reason,
        attendee_cancellation_hours=event.attendee_cancellation_hours,
        attendee_names_required=event.attendee_names_required,
        waitlist_offer_hours=event.waitlist_offer_hours,
        checkin_opens_minutes_before=event.checkin_opens_minutes_before,
        published_at=event.published_at,
        cancelled_at=event.cancelled_at,
        created_at=event.created_at,
        updated_at=event.updated_at,
        price_min_cents=min(prices) if prices else None,
        price_max_cents=max(prices) if prices else None,
        ticket_types=[TicketTypeOut.model_validate(t) for t in event.ticket_types],
    )
