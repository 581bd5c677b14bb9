"""The storefront: the catalogue with search and filters, and an event's page. The catalogue is
the JSON API's own listing (`api.search.listing.public_page`): the same index, the same typo
tolerance, the same filters."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import BackgroundTasks, Path, Query, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from api.bookings import service as bookings_service
from api.config import Settings
from api.deps import SessionDep, SettingsDep, StorageDep
from api.errors import AppError
from api.events import Event, TicketType
from api.events import media as media_service
from api.events import service as events_service
from api.events.views import event_view
from api.notifications.causes import event_context as event_facts
from api.notifications.compose import calendar_entry
from api.pages.cache import Holed, SignedInPages
from api.pages.rendering import (
    attachment,
    fill_holes,
    finish,
    render,
    render_with_holes,
    shared_key,
)
from api.pages.routing import page_router
from api.pages.visitor import Visitor, visitor_key
from api.search import listing, recommendations
from api.search import service as search_service
from api.storage import Storage
from api.users import User

router = page_router()
PAGE_SIZE = 12
FEW_LEFT = 10


def _day_start(day: date | None, *, end: bool = False) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)


@dataclass(frozen=True)
class Offer:
    """A ticket type as a buyer sees it."""

    ticket_type: TicketType
    left: int
    on_sale: bool

    @property
    def sold_out(self) -> bool:
        return self.left <= 0

    @property
    def few_left(self) -> bool:
        return 0 < self.left <= FEW_LEFT

    @property
    def choices(self) -> range:
        """The quantities one order may take: within the type's limits and what is left."""
        most = min(self.ticket_type.max_per_order, self.left)
        return range(self.ticket_type.min_per_order, most + 1)


def _offers(event: Event, now: datetime) -> list[Offer]:
    offers = []
    for ticket_type in sorted(event.ticket_types, key=lambda t: (t.sort_order, t.price_cents)):
        starts, ends = ticket_type.sales_start, ticket_type.sales_end
        on_sale = (starts is None or starts <= now) and (ends is None or now < ends)
        left = max(ticket_type.quantity - ticket_type.reserved, 0)
        offers.append(Offer(ticket_type, left, on_sale))
    return offers


@router.get("/")
async def home(
    request: Request,
    visitor: Visitor,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
    q: Annotated[str, Query(max_length=200)] = "",
    city: Annotated[str, Query(max_length=100)] = "",
    category: uuid.UUID | None = None,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    max_price: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Upcoming events, or what a search found, a page at a time; a search is recorded (after
    the page has gone) as the JSON API's is."""
    shared = _signed_in_pages(request)
    key = shared_key(request, "home", request.url.query) if visitor is not None else ()
    if visitor is not None and not q and (kept := shared.get(key)) is not None:
        return fill_holes(request, kept.html)
    filters = events_service.EventFilters(
        category_id=category,
        city=city.strip() or None,
        starts_from=_day_start(date_from),
        starts_to=_day_start(date_to, end=True),
        price_max=max_price * 100 if max_price is not None else None,
    )
    page = await listing.public_page(
        session,
        settings,
        filters=filters,
        terms=listing.SearchTerms(text=q.strip()),
        sort=None,
        limit=PAGE_SIZE,
        cursor=cursor,
    )
    if page.search is not None:
        background.add_task(
            listing.record_search_apart,
            request.app.state.sessionmaker,
            page.search,
            user_id=visitor.id if visitor else None,
            visitor_id=visitor_key(request),
        )
    categories = await events_service.list_categories(session)
    asked = {
        "q": q,
        "city": city,
        "category": str(category) if category else "",
        "from": date_from.isoformat() if date_from else "",
        "to": date_to.isoformat() if date_to else "",
        "max_price": "" if max_price is None else str(max_price),
    }
    next_url = None
    if page.next_cursor:
        next_url = "/?" + urlencode(
            {k: v for k, v in asked.items() if v} | {"cursor": page.next_cursor}
        )
    # A search's results open through their click link (the click is recorded), as a path.
    opens = {
        listed.event.id: urlsplit(listed.click_url)._replace(scheme="", netloc="").geturl()
        for listed in page.items
        if listed.click_url
    }
    context = {
        "page": page,
        "opens": opens,
        "asked": asked,
        "categories": [category for category, _ in categories],
        "next_url": next_url,
        "searching": bool(asked["q"]),
    }
    if visitor is not None and not q:
        html = render_with_holes(request, "home.html", context)
        shared.keep(key, html)
        return fill_holes(request, html)
    return render(request, "home.html", context, shareable=not q)


@router.get("/event/{slug}")
async def event_page(
    request: Request,
    visitor: Visitor,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    slug: Annotated[str, Path(max_length=120)],
) -> Response:
    """An event: when and where in its own time zone, its tickets with what is left, the
    waitlist when they are gone, and events like it."""
    if visitor is not None:
        return await _signed_in_event_page(request, visitor, session, settings, storage, slug)
    event = await events_service.get_by_slug_or_raise(session, slug=slug, viewer=visitor)
    context = await event_context(session, event, viewer=visitor, storage=storage)
    context["similar"] = await _similar(session, settings, event, visitor)
    return render(request, "event.html", context, shareable=True)


def _signed_in_pages(request: Request) -> SignedInPages:
    pages: SignedInPages = request.app.state.signed_in_pages
    return pages


async def _signed_in_event_page(
    request: Request,
    visitor: User,
    session: AsyncSession,
    settings: Settings,
    storage: Storage,
    slug: str,
) -> Response:
    """An event's page for a signed-in visitor: the one every signed-in visitor sees
    (`api.pages.cache.SignedInPages`), unless they are on its waitlist or have booked an event
    it recommends (then the waitlist shows their places, and the recommendations leave out
    what they booked)."""
    shared = _signed_in_pages(request)
    key = shared_key(request, "event", slug)
    kept = shared.get(key)
    if kept is not None and await _fits(session, visitor, kept):
        return fill_holes(request, kept.html)
    event = await events_service.get_by_slug_or_raise(session, slug=slug, viewer=visitor)
    context = await event_context(session, event, viewer=visitor, storage=storage)
    if event.published_at is not None:  # anyone may see it
        similar = await _similar(session, settings, event, None)
        everyone = context | {"similar": similar, "waiting": {}}
        html = render_with_holes(request, "event.html", everyone)
        kept = shared.keep(
            key, html, event_id=event.id, shows=frozenset(f.event.id for f in similar)
        )
        if kept is not None and await _fits(session, visitor, kept):
            return fill_holes(request, html)
    context["similar"] = await _similar(session, settings, event, visitor)
    return render(request, "event.html", context)


async def _fits(session: AsyncSession, visitor: User, kept: Holed) -> bool:
    """Whether the page every signed-in visitor sees is this visitor's page too."""
    assert kept.event_id is not None
    return not await bookings_service.has_ties(
        session, user_id=visitor.id, waiting_at=kept.event_id, booked_any_of=kept.shows
    )


SIMILAR = 4


async def _similar(
    session: AsyncSession, settings: Settings, event: Event, visitor: User | None
) -> list[recommendations.Recommended]:
    """The API's `GET /events/{id}/similar`; the page goes on without them when search is down."""
    try:
        return await recommendations.similar(
            session,
            search_service.backend_for(settings),
            settings.snapshot_dir,
            event=event,
            viewer_id=visitor.id if visitor else None,
            limit=SIMILAR,
        )
    except AppError:
        return []


async def event_context(
    session: AsyncSession, event: Event, *, viewer: User | None, storage: Storage
) -> dict[str, Any]:
    """What an event's page shows; the booking form comes back to it with what was wrong."""
    offers = _offers(event, datetime.now(UTC))
    waiting = (
        await bookings_service.active_entries(session, event_id=event.id, user_id=viewer.id)
        if viewer is not None
        else []
    )
    images = [
        {"url": storage.url(m.storage_key), "alt": m.alt_text or "", "w": m.width, "h": m.height}
        for m in await media_service.list_media(session, event=event)
    ]
    return {
        "event": event,
        "offers": offers,
        "images": images,
        "sold_out": bool(offers) and all(o.sold_out for o in offers),
        "on_sale": event.status == events_service.EventStatus.published
        and any(o.on_sale and not o.sold_out for o in offers),
        "waitlist_open": event.status == events_service.EventStatus.published
        and event.starts_at > datetime.now(UTC),
        "waiting": {entry.ticket_type_id: entry for entry in waiting},
        "map_url": _map_url(event),
        # The API's own rendering of the Markdown, sanitised by nh3 (an allow-list).
        "description_html": Markup(event_view(event).description_html),  # noqa: S704
        "similar": [],
        "form_key": uuid.uuid4().hex,  # the booking form sent twice holds the seats once
        "errors": {},
        "chosen": {},
    }


def _map_url(event: Event) -> str | None:
    if event.latitude is not None and event.longitude is not None:
        return (
            "https://www.openstreetmap.org/?mlat="
            f"{event.latitude}&mlon={event.longitude}#map=16/{event.latitude}/{event.longitude}"
        )
    place = ", ".join(p for p in (event.venue_name, event.address, event.city) if p)
    return f"https://www.openstreetmap.org/search?{urlencode({'query': place})}" if place else None


# A transparent GIF of one pixel: the image an event's page loads to count its view.
SEEN = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)


@router.get("/event/{slug}/seen.gif")
async def event_seen(
    request: Request,
    visitor: Visitor,
    session: SessionDep,
    background: BackgroundTasks,
    slug: Annotated[str, Path(max_length=120)],
) -> Response:
    """Counts a view of an event's page, as `GET /events/{id}` counts the API's: the page
    loads this image, so a view is counted however the page itself was served (rendered, or
    shared from memory), and without JavaScript."""
    event = await events_service.get_by_slug_or_raise(session, slug=slug, viewer=visitor)
    background.add_task(
        events_service.record_view_apart,
        request.app.state.sessionmaker,
        event_id=event.id,
        user_id=visitor.id if visitor else None,
        visitor_id=None if visitor else visitor_key(request),
    )
    seen = Response(SEEN, media_type="image/gif", headers={"Cache-Control": "no-store"})
    return finish(request, seen)


@router.get("/event/{slug}/calendar.ics")
async def event_calendar(
    visitor: Visitor,
    session: SessionDep,
    settings: SettingsDep,
    slug: Annotated[str, Path(max_length=120)],
) -> Response:
    """The event for anyone's calendar (a booking's own entry is on the booking's page)."""
    event = await events_service.get_by_slug_or_raise(session, slug=slug, viewer=visitor)
    entry = calendar_entry(event_facts(settings, event), uid=f"{event.id}@tessera")
    return attachment(entry, "text/calendar", f"{event.slug}.ics")
