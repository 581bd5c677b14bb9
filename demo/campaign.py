"""A demo A/B test: two wordings of the "new event" email, sent when some of the catalogue's
events were announced, so the notifications dashboard has a campaign to show.

It goes through the product's own paths: the admin creates the variants, people opt in through
their preferences, the planner chooses the recipients and their variant, and the worker sends
the emails (as .eml files), each at the moment its event was announced."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.config import Settings
from api.db import clock_at, utcnow
from api.events.models import Event, EventStatus
from api.notifications import planner, worker
from api.notifications import service as notifications
from api.notifications.channels import make_providers
from api.notifications.models import Category, Channel
from api.outbox import OutboxEvent
from api.users.models import Role, User

VARIANTS = (
    (
        "A",
        "New from {{ organizer_name }}: {{ event_title }}",
        "Hello {{ name }},\n\n{{ organizer_name }} just announced {{ event_title }} on "
        "{{ starts_at | when(timezone) }}.\n\nTickets: {{ event_url }}\n",
    ),
    (
        "B",
        "{{ name }}, tickets for {{ event_title }} are on sale",
        "Hello {{ name }},\n\nyou went to an event by {{ organizer_name }}: their next one, "
        "{{ event_title }}, is on {{ starts_at | when(timezone) }}. Seats go fast; get yours "
        "now:\n\n{{ event_url }}\n",
    ),
)


async def seed_campaign(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    admin_id: uuid.UUID,
    rng: random.Random,
    opt_in_share: float = 0.35,
    announcements: int = 8,
) -> int:
    """Run the demo campaign; the number of emails it sent."""
    now = utcnow()
    async with sessionmaker() as session:
        for variant, subject, text in VARIANTS:
            await notifications.create_template(
                session,
                draft=notifications.TemplateDraft(
                    trigger="new_event",
                    channel=Channel.email,
                    locale="en",
                    variant=variant,
                    weight=1,
                    active=True,
                    subject=subject,
                    text_body=text,
                    html_body=None,
                ),
                actor_id=admin_id,
            )
        people = list(await session.scalars(select(User.id).where(User.role == Role.attendee)))
        for user_id in people:
            if rng.random() < opt_in_share:
                await notifications.set_preferences(
                    session,
                    user_id=user_id,
                    changes=[(Category.marketing, Channel.email, True)],
                )
        candidates = list(
            await session.scalars(
                select(Event)
                .where(
                    Event.status.in_((EventStatus.published, EventStatus.completed)),
                    Event.published_at.is_not(None),
                    Event.published_at < now - timedelta(days=10),
                )
                .order_by(Event.published_at)
            )
        )
        await session.commit()
    providers = make_providers(settings)
    sent = 0
    try:
        for event in rng.sample(candidates, min(announcements, len(candidates))):
            assert event.published_at is not None
            moment = event.published_at + timedelta(minutes=10)
            async with sessionmaker() as session:
                row = await session.scalar(
                    select(OutboxEvent)
                    .where(
                        OutboxEvent.event_type == "event.published",
                        OutboxEvent.entity_id == str(event.id),
                    )
                    .limit(1)
                )
                if row is None:
                    continue
                with clock_at(moment):
                    planned = [n.id for n in await planner.plan(session, settings, row)]
                    await session.commit()
            if planned:
                with clock_at(moment):
                    done = await worker.deliver_due(
                        sessionmaker, settings, providers, now=moment, only=planned, batch=10_000
                    )
                sent += done.sent
    finally:
        await providers.aclose()
    return sent
