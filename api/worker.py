"""The worker: what no request waits for, done in turn by one loop.

Each round refunds cancelled paid bookings, lets the payment sandbox settle later outcomes and
deliver its webhooks, marks ended events completed, expires lapsed holds (their seats go to the
waitlist), announces reminders, then plans and sends the notifications all that calls for.
Like `api/main.py`, this module composes the domains' services and holds no rule of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.bookings import service as bookings_service
from api.config import Settings
from api.db import make_engine, make_sessionmaker, utcnow
from api.events import service as events_service
from api.notifications.channels import Providers as NotificationProviders
from api.notifications.channels import make_providers as make_notification_providers
from api.notifications.worker import Pass as NotificationPass
from api.notifications.worker import run_once as notifications_round
from api.payments import service as payments_service
from api.payments.providers import (
    PaymentProvider,
    SandboxProvider,
    close_providers,
    make_providers,
)


@dataclass(frozen=True)
class Round:
    """What one round did."""

    completed: int  # ended events marked completed
    notified: NotificationPass

    @property
    def idle(self) -> bool:
        """Nothing was sent, retried or dead-lettered: the next round may wait."""
        return self.notified.sent + self.notified.retrying + self.notified.dead == 0


@dataclass(frozen=True)
class Connections:
    """What a worker holds open between rounds."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    payment_providers: dict[str, PaymentProvider]
    notification_providers: NotificationProviders
    http: httpx.AsyncClient  # delivers the payment sandbox's webhooks


@contextlib.asynccontextmanager
async def connect(settings: Settings) -> AsyncIterator[Connections]:
    """Open the database and the providers for a worker; close them when it ends."""
    engine = make_engine(settings.database_url)
    sessionmaker = make_sessionmaker(engine)
    providers = make_providers(sessionmaker, settings)
    http = httpx.AsyncClient(timeout=10)
    notification_providers = make_notification_providers(settings)
    try:
        yield Connections(settings, sessionmaker, providers, notification_providers, http)
    finally:
        await http.aclose()
        await notification_providers.aclose()
        await close_providers(providers)
        await engine.dispose()


async def run_once(worker: Connections) -> Round:
    """One round of every job, in order."""
    settings, sessionmaker = worker.settings, worker.sessionmaker
    await payments_service.refund_cancelled_bookings(sessionmaker, worker.payment_providers)
    sandbox = worker.payment_providers.get("sandbox")
    if isinstance(sandbox, SandboxProvider):
        await sandbox.advance()
        await sandbox.deliver_events(
            worker.http,
            f"{settings.public_base_url.rstrip('/')}/payments/webhooks/sandbox",
            settings.sandbox_webhook_secret.get_secret_value(),
        )
    async with sessionmaker() as session:
        completed = await events_service.complete_ended(session)
        await bookings_service.release_expired(session, now=utcnow())
        await bookings_service.announce_reminders(session, now=utcnow())
        await session.commit()
    notified = await notifications_round(sessionmaker, settings, worker.notification_providers)
    return Round(completed=completed, notified=notified)


def _never() -> bool:
    return False


async def run(
    settings: Settings,
    *,
    interval: float,
    once: bool = False,
    should_stop: Callable[[], bool] = _never,
) -> Round:
    """Run rounds until `once` is done or `should_stop()` says so (asked after each round);
    after an idle round, wait `interval` seconds. Returns the last round."""
    async with connect(settings) as worker:
        while True:
            done = await run_once(worker)
            if once or should_stop():
                return done
            if done.idle:
                await asyncio.sleep(interval)
