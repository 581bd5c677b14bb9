"""Sending claimed notifications: queued → sending → sent → delivered, or back to queued with
exponential backoff and jitter after a passing failure, and dead after the last attempt or a
permanent one. What came of each attempt is recorded on the attempt and the notification."""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import outbox
from api.config import Settings
from api.db import utcnow
from api.notifications import catalogue
from api.notifications import templates as rendering
from api.notifications.channels import (
    Outgoing,
    PermanentFailure,
    Providers,
    Sent,
    TemporaryFailure,
)
from api.notifications.claims import claim
from api.notifications.compose import compose
from api.notifications.models import (
    Channel,
    Notification,
    NotificationAttempt,
    NotificationStatus,
    PushSubscription,
)

log = logging.getLogger("api.notifications.worker")  # one logger for the whole worker


@dataclass
class Pass:
    planned: int = 0
    sent: int = 0
    retrying: int = 0
    dead: int = 0

    def __iadd__(self, other: Pass) -> Pass:
        self.planned += other.planned
        self.sent += other.sent
        self.retrying += other.retrying
        self.dead += other.dead
        return self


def backoff(settings: Settings, attempt: int) -> timedelta:
    """Exponential backoff with jitter: half the doubled delay fixed, half random."""
    delay = min(
        settings.notification_retry_max_seconds,
        settings.notification_retry_base_seconds * 2 ** (attempt - 1),
    )
    return timedelta(seconds=delay / 2 + random.uniform(0, delay / 2))  # noqa: S311 - jitter


async def deliver_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    providers: Providers,
    *,
    now: datetime | None = None,
    only: list[uuid.UUID] | None = None,
    batch: int = 50,
) -> Pass:
    """Send what is due (or just `only`), one claimed batch."""
    moment = now or utcnow()
    result = Pass()
    for notification_id, attempt in await claim(
        sessionmaker, settings, now=moment, only=only, batch=batch
    ):
        outcome = await _deliver_one(
            sessionmaker, settings, providers, notification_id, attempt, moment
        )
        if outcome == "sent":
            result.sent += 1
        elif outcome == "retry":
            result.retrying += 1
        else:
            result.dead += 1
    return result


async def _deliver_one(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    providers: Providers,
    notification_id: uuid.UUID,
    attempt: int,
    now: datetime,
) -> str:
    sent: Sent | None = None
    gone: tuple[str, ...] = ()
    message: Outgoing | None = None
    failure: str | None = None
    note: str | None = None
    permanent = False
    async with sessionmaker() as session:
        notification = await session.get(Notification, notification_id)
        assert notification is not None
        channel = notification.channel
        provider = providers.by_channel.get(channel.value)
        try:
            if provider is None:
                raise PermanentFailure(f"no {channel.value} provider is configured")
            try:
                message = await compose(session, settings, notification)
            except rendering.TemplateInvalid as exc:
                note = _fallback_note(notification, exc)
                if note is None:
                    raise
                log.warning("notification %s: %s", notification_id, note)
                message = await compose(session, settings, notification, bundled=True)
        except PermanentFailure as exc:
            failure, permanent = str(exc), True
        except rendering.TemplateInvalid as exc:
            failure, permanent = f"the template does not render ({exc.part}): {exc}", True
        except Exception as exc:  # making an attachment failed: retried later, logged
            log.exception("composing notification %s failed", notification_id)
            failure = f"{type(exc).__name__}: {exc}"
        await session.rollback()  # hold no transaction (or SQLite lock) while sending
    if failure is None:
        assert provider is not None
        assert message is not None
        try:
            sent = await provider.send(message)
            gone = sent.gone
        except PermanentFailure as exc:
            failure, permanent, gone = str(exc), True, exc.gone
        except TemporaryFailure as exc:
            failure = str(exc)
        except Exception as exc:  # a provider bug must not kill the worker; retried, logged
            log.exception("notification provider %s failed", channel.value)
            failure = f"{type(exc).__name__}: {exc}"
    return await _record(
        sessionmaker,
        settings,
        notification_id,
        attempt,
        sent,
        failure,
        permanent,
        message,
        gone,
        now,
        note=note,
    )


def _fallback_note(notification: Notification, exc: rendering.TemplateInvalid) -> str | None:
    """When an admin's template does not render for this message (it fails with this message's
    data, or is too expensive to render), the message still goes, in the bundled wording: a
    booking confirmation must not be lost to a broken template. This says so, for the attempt
    and the notification; None when there is no bundled wording to fall back to."""
    if notification.template_id is None or not catalogue.bundled(
        notification.trigger, notification.channel, notification.locale
    ):
        return None
    return (
        f"template {notification.template_id} version {notification.template_version} does "
        f"not render ({exc.part}: {exc}); sent in the bundled wording"
    )


async def _record(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    notification_id: uuid.UUID,
    attempt: int,
    sent: Sent | None,
    failure: str | None,
    permanent: bool,
    message: Outgoing | None,
    gone: tuple[str, ...],
    now: datetime,
    *,
    note: str | None = None,
) -> str:
    """What came of an attempt, timed at the round's `now` (so a retry is never due in the
    round that scheduled it), and the push subscriptions found expired on the way dropped. A
    `note` (sent, but in the bundled wording) stays on the attempt and the notification."""
    async with sessionmaker() as session:
        for subscription_id in gone:
            subscription = await session.get(PushSubscription, uuid.UUID(subscription_id))
            if subscription is not None:
                await session.delete(subscription)
        notification = await session.get(Notification, notification_id)
        assert notification is not None
        row = await session.scalar(
            select(NotificationAttempt).where(
                NotificationAttempt.notification_id == notification_id,
                NotificationAttempt.number == attempt,
            )
        )
        mine = (
            notification.status == NotificationStatus.sending and notification.attempts == attempt
        )
        if sent is not None:
            outcome = "sent"
            if row is not None:
                row.outcome, row.finished_at = "sent", now
                row.provider, row.provider_message_id = sent.provider, sent.message_id
                row.error = note[:1000] if note else None
            if mine:
                notification.status = (
                    NotificationStatus.delivered if sent.delivered else NotificationStatus.sent
                )
                notification.sent_at = now
                notification.delivered_at = now if sent.delivered else None
                notification.provider = sent.provider
                notification.provider_message_id = sent.message_id
                notification.lease_until = None
                notification.error = note[:1000] if note else None
                if message is not None:
                    notification.subject = message.subject[:300] or None
                    if notification.channel == Channel.in_app:
                        notification.body = message.text
        else:
            assert failure is not None
            last = permanent or attempt >= settings.notification_max_attempts
            outcome = "dead" if last else "retry"
            if row is not None:
                row.outcome, row.finished_at, row.error = outcome, now, failure[:1000]
            if mine:
                notification.error = failure[:1000]
                notification.lease_until = None
                if last:
                    notification.status = NotificationStatus.dead
                    notification.failed_at = now
                else:
                    notification.status = NotificationStatus.queued
                    notification.next_attempt_at = now + backoff(settings, attempt)
        if mine:
            await outbox.record(session, f"notification.{notification.status.value}", notification)
        await session.commit()
    return outcome
