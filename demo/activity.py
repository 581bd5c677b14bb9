"""Demo activity: people looking at events, booking and paying for them, over the months
before each event, made through the services with the clock set back, so the outbox (and
so the marts and dashboards) hold a realistic history.

Demand is skewed: a few events draw most of it and sell out, most sell a share of their
seats, with early-bird and last-minute peaks. About 4 % of card payments are declined.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from api.bookings import service as bookings_service
from api.bookings.schemas import BookingCreate, LineRequest
from api.config import Settings
from api.db import clock_at, utcnow
from api.errors import AppError
from api.events import service as events_service
from api.events.models import Event, EventStatus
from api.payments import workflows as payments_workflows
from api.payments.models import PaymentStatus
from api.payments.providers import PaymentProvider, close_providers, make_providers
from api.users.models import Role, User

DECLINED = "pm_card_chargeDeclined"
QUANTITIES = ([1, 2, 3, 4], [50, 35, 10, 5])
AVERAGE_QUANTITY = 1.7


@dataclass
class ActivityResult:
    bookings: int = 0
    paid: int = 0
    declined: int = 0
    views: int = 0
    refused: int = 0  # sold out or closed by the time of the attempt


def _moments(event: Event, count: int, now: datetime, rng: random.Random) -> list[datetime]:
    """When the bookings of an event happen: between its announcement and its start (or now),
    more of them near both ends."""
    opened = event.published_at or now
    closes = min(event.starts_at, now) - timedelta(minutes=5)
    span = (closes - opened).total_seconds()
    if span <= 0:
        return []
    return sorted(
        opened + timedelta(seconds=span * rng.betavariate(0.6, 0.5)) for _ in range(count)
    )


async def _pay(
    session: AsyncSession,
    settings: Settings,
    provider: PaymentProvider,
    *,
    booking_id: uuid.UUID,
    user: User,
    card: str,
) -> bool:
    """Pay through the same workflow as `POST /bookings/{id}/payments`."""
    payment = await payments_workflows.take_payment(
        session,
        settings,
        {provider.name: provider},
        booking_id=booking_id,
        payer=user,
        provider=provider.name,
        payment_method=card,
    )
    await session.commit()
    return payment.status == PaymentStatus.succeeded


async def seed_activity(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    bookings: int,
    rng: random.Random,
    progress: Callable[[int, int], None] | None = None,
) -> ActivityResult:
    """About `bookings` booking attempts over the published catalogue, with views around them."""
    now = utcnow()
    providers = make_providers(sessionmaker, settings)
    provider = providers["sandbox"]
    result = ActivityResult()
    async with sessionmaker() as session:
        people = list(
            await session.scalars(select(User).where(User.role == Role.attendee).limit(5000))
        )
        events = list(
            await session.scalars(
                select(Event)
                .options(selectinload(Event.ticket_types))
                .where(Event.status == EventStatus.published)
            )
        )
    if not people or not events:
        return result
    # Each event draws demand for a share of its seats: most sell part of them, a few more
    # than all (their last buyers are turned away). Scaled so the attempts add up to `bookings`.
    on_sale = [e for e in events if _moments(e, 1, now, rng)]  # had a day on sale by now
    demand = [
        t.quantity * min(1.3, rng.betavariate(1.2, 2.5) * 2) / AVERAGE_QUANTITY
        for t in (max(e.ticket_types, key=lambda t: t.quantity) for e in on_sale)
    ]
    scale = bookings / max(1.0, sum(demand))
    plan: list[tuple[datetime, Event]] = []
    for event, wanted in zip(on_sale, demand, strict=True):
        count = round(wanted * scale)
        plan.extend((moment, event) for moment in _moments(event, count, now, rng))
    plan.sort(key=lambda item: item[0])
    for done, (moment, event) in enumerate(plan):
        if progress is not None and done % 100 == 0:
            progress(done, len(plan))
        user = rng.choice(people)
        ticket = rng.choice(event.ticket_types)
        quantity = rng.choices(*QUANTITIES)[0]
        with clock_at(moment):
            async with sessionmaker() as session:
                for _ in range(rng.choice([1, 1, 2, 3])):
                    await events_service.record_view(
                        session, event_id=event.id, user_id=user.id, visitor_id=None
                    )
                    result.views += 1
                try:
                    async with session.begin_nested():  # a refusal keeps the views
                        booking = await bookings_service.create(
                            session,
                            user=user,
                            data=BookingCreate(
                                event_id=event.id,
                                lines=[LineRequest(ticket_type_id=ticket.id, quantity=quantity)],
                            ),
                            hold=timedelta(minutes=settings.booking_hold_minutes),
                        )
                    booking_id, free = booking.id, booking.total_cents == 0
                except AppError:  # sold out, or a line over its limits: refused
                    result.refused += 1
                    await session.commit()
                    continue
                await session.commit()
                result.bookings += 1
                if free:
                    continue
                card = DECLINED if rng.random() < 0.04 else "pm_card_visa"
                if await _pay(
                    session, settings, provider, booking_id=booking_id, user=user, card=card
                ):
                    result.paid += 1
                else:
                    result.declined += 1
    await close_providers(providers)
    if progress is not None:
        progress(len(plan), len(plan))
    return result
