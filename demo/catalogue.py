"""A demo catalogue loaded through the events service: categories, cities in several countries
and time zones, price tiers, past and upcoming events, a few drafts and cancellations."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.db import utcnow
from api.events import service as events
from api.events.schemas import EventCreate, TicketTypeFields, Venue
from api.users.models import Role, User

CATEGORIES = {
    "Music": [
        "Jazz Night",
        "Indie Showcase",
        "Symphony Evening",
        "Techno Warehouse",
        "Folk Session",
    ],
    "Conferences": ["Data Summit", "Product Days", "Open Source Forum", "Security Conference"],
    "Theatre": ["Improv Night", "Shakespeare in the Park", "New Writing Festival"],
    "Food & Drink": ["Street Food Market", "Wine Tasting", "Coffee Cupping", "Ramen Workshop"],
    "Workshops": ["Pottery for Beginners", "Intro to Python", "Film Photography Walk"],
    "Sports": ["City Half Marathon", "Bouldering Jam", "Sunrise Yoga"],
    "Comedy": ["Stand-up Open Mic", "Late Laughs"],
}


@dataclass(frozen=True)
class City:
    name: str
    country: str
    timezone: str
    currency: str
    latitude: float
    longitude: float
    venues: tuple[str, ...]


CITIES = (
    City("Berlin", "DE", "Europe/Berlin", "EUR", 52.52, 13.405, ("Kulturbrauerei", "Funkhaus")),
    City(
        "Hamburg",
        "DE",
        "Europe/Berlin",
        "EUR",
        53.551,
        9.994,
        ("Elbphilharmonie", "Uebel & Gefährlich"),
    ),
    City("Paris", "FR", "Europe/Paris", "EUR", 48.857, 2.352, ("La Cigale", "Station F")),
    City("Madrid", "ES", "Europe/Madrid", "EUR", 40.417, -3.704, ("Matadero", "Sala Clamores")),
    City(
        "Amsterdam",
        "NL",
        "Europe/Amsterdam",
        "EUR",
        52.368,
        4.904,
        ("Paradiso", "Pakhuis de Zwijger"),
    ),
    City("London", "GB", "Europe/London", "GBP", 51.507, -0.128, ("Barbican", "Roundhouse")),
    City(
        "New York",
        "US",
        "America/New_York",
        "USD",
        40.713,
        -74.006,
        ("Brooklyn Steel", "The Town Hall"),
    ),
    City(
        "San Francisco",
        "US",
        "America/Los_Angeles",
        "USD",
        37.775,
        -122.418,
        ("The Fillmore", "Moscone West"),
    ),
    City("Tokyo", "JP", "Asia/Tokyo", "JPY", 35.676, 139.65, ("Zepp Haneda", "Tokyo Big Sight")),
    City(
        "Sydney",
        "AU",
        "Australia/Sydney",
        "AUD",
        -33.869,
        151.209,
        ("Enmore Theatre", "ICC Sydney"),
    ),
)

# Prices in minor units per tier; JPY has no minor unit.
TIERS = [0, 1500, 2500, 4900, 9900]


def _price(tier: int, currency: str) -> int:
    return tier // 100 * 15 if currency == "JPY" else tier


def describe(category: str, kind: str, city: City) -> tuple[str, str, list[str]]:
    """Title, Markdown description and tags of a demo event of `kind` (e.g. "Jazz Night")."""
    title = f"{city.name} {kind}"
    description = (
        f"**{title}**: an evening of {category.lower()} in {city.name}.\n\n"
        "- Doors open 30 minutes before the start\n- Step-free access"
    )
    return title, description, [category.lower().split()[0], city.name.lower()]


async def seed_catalogue(
    session: AsyncSession, *, count: int, rng: random.Random, admin: User
) -> int:
    """Create `count` events; returns how many were created."""
    categories = {
        name: await events.create_category(session, name=name, description=f"{name} events")
        for name in CATEGORIES
    }
    organizers = list(
        await session.scalars(select(User).where(User.role == Role.organizer).limit(20))
    ) or [admin]
    now = utcnow()
    for index in range(count):
        category = rng.choice(list(CATEGORIES))
        city = rng.choice(CITIES)
        online = rng.random() < 0.12
        day = now + timedelta(days=rng.randint(-120, 180))
        local = datetime.combine(day.date(), time(rng.choice([10, 14, 18, 19, 20]))).replace(
            tzinfo=ZoneInfo(city.timezone)
        )
        starts_at = local.astimezone(now.tzinfo)
        capacity = rng.choice([40, 80, 150, 300, 800, 2000])
        title, description, tags = describe(category, rng.choice(CATEGORIES[category]), city)
        event = await events.create(
            session,
            organizer=rng.choice(organizers),
            data=EventCreate(
                title=title,
                description=description,
                category_id=categories[category].id,
                tags=tags,
                venue=None
                if online
                else Venue(
                    name=rng.choice(city.venues),
                    city=city.name,
                    country=city.country,
                    latitude=city.latitude,
                    longitude=city.longitude,
                ),
                online_url="https://stream.tessera.example.com/live" if online else None,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=rng.choice([2, 3, 4, 8])),
                timezone=city.timezone,
                capacity=capacity,
                currency=city.currency,
            ),
        )
        tier = rng.choice(TIERS)
        await events.add_ticket_type(
            session,
            event=event,
            data=TicketTypeFields(
                name="General admission" if tier else "Free entry",
                price_cents=_price(tier, city.currency),
                quantity=capacity * 9 // 10 if tier else capacity,
                max_per_order=10,
            ),
        )
        if tier and rng.random() < 0.6:
            await events.add_ticket_type(
                session,
                event=event,
                data=TicketTypeFields(
                    name="VIP",
                    price_cents=_price(tier * 3, city.currency),
                    quantity=capacity // 10,
                    max_per_order=4,
                    sort_order=1,
                ),
            )
        roll = rng.random()
        if roll < 0.08:
            continue  # stays a draft
        # On sale for weeks or months before the start, as events are.
        announced = min(
            now - timedelta(days=rng.randint(1, 120)),
            starts_at - timedelta(days=rng.randint(14, 60)),
        )
        await events.publish(session, event=event, now=announced)
        if roll > 0.95:
            await events.cancel(session, event=event, reason="The venue is no longer available.")
        if index % 50 == 49:
            await session.flush()
    return count
