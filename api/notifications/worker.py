"""The notification worker: outbox events become notifications (`planner`), and due
notifications go to their providers: queued → sending → sent → delivered, or back to queued
with exponential backoff and jitter after a passing failure, and dead after the last attempt or
a permanent one.

Several workers may run at once. Planning takes turns on the outbox cursor; delivery claims each
notification with a conditional update (rows picked with SKIP LOCKED on PostgreSQL) and holds
it for a lease. A worker that dies mid-send leaves its claim to expire: the notification is
picked up again and its open attempt marked interrupted. A notification recorded as sent is
never picked up again. The one window no local bookkeeping can close is a provider accepting a
message and the worker dying before it records that; every message then carries its
notification's key (the Message-ID of an email, the file name of the local folders), so a
resend is recognisably the same message.

Its parts: `planner` (what to send), `claims` (taking due notifications), `delivery` (sending
them and recording the outcome) and `compose` (the message as it goes out).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import outbox
from api.config import Settings
from api.notifications import planner
from api.notifications.account_messages import ACCOUNT_CONSUMER, EVENTS_CONSUMER
from api.notifications.channels import Providers
from api.notifications.compose import calendar_entry, compose
from api.notifications.delivery import Pass, backoff, deliver_due

__all__ = [
    "ACCOUNT_CONSUMER",
    "EVENTS_CONSUMER",
    "Pass",
    "backoff",
    "calendar_entry",
    "compose",
    "deliver_due",
    "deliver_requested_now",
    "plan_pending",
    "planner",
    "run_once",
]

log = logging.getLogger(__name__)


async def plan_pending(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    consumer: str,
    event_types: tuple[str, ...],
    batch: int = 100,
) -> tuple[int, list[uuid.UUID]]:
    """Plan the notifications of the next outbox events for this consumer, in one transaction
    with the cursor: either all of a batch's notifications exist and the cursor moved, or none."""
    async with sessionmaker() as session:
        try:
            work = await outbox.read_after(
                session, consumer=consumer, event_types=event_types, limit=batch
            )
            planned: list[uuid.UUID] = []
            for row in work.rows:
                planned.extend(n.id for n in await planner.plan(session, settings, row))
                await work.done(row)
            await work.close()
            await session.commit()
        except (IntegrityError, OperationalError) as exc:
            # Another worker planned the same rows first (SQLite has no row locks to wait on).
            log.info("notification planning yielded to another worker: %s", exc)
            await session.rollback()
            return 0, []
    return len(work.rows), planned


async def run_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    providers: Providers,
    *,
    now: datetime | None = None,
) -> Pass:
    """One round of the worker: plan what the outbox asks for, then send what is due."""
    result = Pass()
    for consumer, types in (
        (ACCOUNT_CONSUMER, planner.ACCOUNT_EVENTS),
        (EVENTS_CONSUMER, planner.EVENT_TRIGGERS),
    ):
        while True:
            rows, planned = await plan_pending(
                sessionmaker, settings, consumer=consumer, event_types=types, batch=100
            )
            result.planned += len(planned)
            if rows < 100:
                break
    while True:
        round_ = await deliver_due(sessionmaker, settings, providers, now=now)
        result += round_
        if round_.sent + round_.retrying + round_.dead == 0:
            break
    return result


async def deliver_requested_now(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, providers: Providers
) -> Pass:
    """What the API does right after answering a request that asked for an account message
    (verification, reset): plan and send those at once, so they need no worker."""
    _, planned = await plan_pending(
        sessionmaker, settings, consumer=ACCOUNT_CONSUMER, event_types=planner.ACCOUNT_EVENTS
    )
    result = Pass(planned=len(planned))
    if planned:
        result += await deliver_due(sessionmaker, settings, providers, only=planned)
    return result
