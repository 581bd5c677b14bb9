"""Demo data loaded through the service layer, so it obeys the same rules as real data."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from faker import Faker
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth.passwords import hasher
from api.config import Settings
from api.db import utcnow
from api.events import service as events_service
from api.notifications import service as notifications_service
from api.users import service as users
from api.users.models import Role
from demo.activity import seed_activity
from demo.campaign import seed_campaign
from demo.catalogue import seed_catalogue

DEMO_PASSWORD = "tessera-demo-2026"  # noqa: S105 - the demo accounts' published password
DEMO_ACCOUNTS = [
    ("admin@tessera.example.com", "Ada Admin", Role.admin),
    ("organizer@tessera.example.com", "Olu Organizer", Role.organizer),
    ("finance@tessera.example.com", "Fen Finance", Role.finance),
    ("analyst@tessera.example.com", "Ana Analyst", Role.analyst),
    ("attendee@tessera.example.com", "Ari Attendee", Role.attendee),
]
_ROLE_WEIGHTS = [(Role.attendee, 85), (Role.organizer, 12), (Role.finance, 2), (Role.admin, 1)]


@dataclass(frozen=True)
class SeedResult:
    created: int
    skipped: bool
    events: int = 0
    bookings: int = 0
    paid: int = 0
    campaign_emails: int = 0


Progress = Callable[[int, int], None]


async def seed_demo(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    users: int,
    events: int,
    bookings: int,
) -> SeedResult:
    """What `tessera seed` loads: the demo accounts, `users` more people, `events` events and
    about `bookings` booking attempts, with nothing of that history left to be mailed but its
    latest confirmations (with their tickets), not months of messages."""
    return await seed_users(sessionmaker, settings, count=users, events=events, bookings=bookings)


async def seed_users(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    count: int,
    events: int = 0,
    days: int = 120,
    bookings: int = 0,
    random_seed: int = 2026,
) -> SeedResult:
    """The demo accounts plus `count` realistic users signed up over the last `days` days,
    `events` events, and (with `bookings`) their history as `seed_history` loads it."""
    fake = Faker(["en_GB", "de_DE", "fr_FR", "es_ES", "nl_NL"])
    fake.seed_instance(random_seed)
    rng = random.Random(random_seed)  # noqa: S311 - demo data, not security
    password_hash = hasher(settings).hash(DEMO_PASSWORD)
    async with sessionmaker() as session:
        if await users.get_by_email(session, email=DEMO_ACCOUNTS[0][0]) is not None:
            return SeedResult(created=0, skipped=True)
        demo = []
        for email, name, role in DEMO_ACCOUNTS:
            demo.append(
                await users.create(
                    session,
                    email=email,
                    full_name=name,
                    password_hash=password_hash,
                    role=role,
                    email_verified=True,
                    created_at=utcnow() - timedelta(days=days),
                )
            )
        roles = [role for role, _ in _ROLE_WEIGHTS]
        weights = [weight for _, weight in _ROLE_WEIGHTS]
        seen: set[str] = set()
        for index in range(count):
            name = fake.name()
            email = f"{fake.user_name()}{index}@{fake.free_email_domain()}".lower()
            if email in seen:
                continue
            seen.add(email)
            await users.create(
                session,
                email=email,
                full_name=name,
                password_hash=password_hash,
                role=rng.choices(roles, weights)[0],
                email_verified=rng.random() < 0.8,
                locale=rng.choice(["en", "de", "fr", "es", "nl"]),
                created_at=utcnow() - timedelta(days=days * rng.random() ** 1.5),
            )
        created_events = await seed_catalogue(session, count=events, rng=rng, admin=demo[0])
        await notifications_service.skip_history(session)  # no mail for the demo's sign-ups
        await session.commit()
    result = SeedResult(
        created=len(DEMO_ACCOUNTS) + len(seen), skipped=False, events=created_events
    )
    if not bookings:
        return result
    history = await seed_history(sessionmaker, settings, bookings=bookings, rng=rng)
    return SeedResult(
        created=result.created,
        skipped=False,
        events=created_events,
        bookings=history.bookings,
        paid=history.paid,
        campaign_emails=history.campaign_emails,
    )


async def seed_history(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    bookings: int,
    rng: random.Random | None = None,
    progress: Progress | None = None,
) -> SeedResult:
    """The months before now over the catalogue: about `bookings` booking attempts with their
    views and payments, an A/B-tested announcement, ended events completed; of all that, only
    the latest confirmations are left to be mailed. `progress(done, planned)` hears of the
    bookings, and `progress(-1, 0)` of the campaign starting;
    `rng` goes on from the catalogue's when both load in one go."""
    rng = rng or random.Random(2027)  # noqa: S311 - demo data, not security
    async with sessionmaker() as session:
        admin = await users.get_by_email(session, email=DEMO_ACCOUNTS[0][0])
    assert admin is not None, "seed_users first"
    activity = await seed_activity(
        sessionmaker, settings, bookings=bookings, rng=rng, progress=progress
    )
    if progress is not None:
        progress(-1, 0)  # the announcement campaign next
    campaign = await seed_campaign(sessionmaker, settings, admin_id=admin.id, rng=rng)
    async with sessionmaker() as session:
        await events_service.complete_ended(session)
        await notifications_service.skip_history(session, keep_confirmations=20)
        await session.commit()
    return SeedResult(
        created=0,
        skipped=False,
        bookings=activity.bookings,
        paid=activity.paid,
        campaign_emails=campaign,
    )
