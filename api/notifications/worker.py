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
"""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import outbox
from api.bookings import service as bookings_service
from api.config import Settings
from api.db import utcnow
from api.notifications import catalogue, planner
from api.notifications import templates as rendering
from api.notifications.channels import (
    Attachment,
    Outgoing,
    PermanentFailure,
    Providers,
    PushTarget,
    Sent,
    TemporaryFailure,
)
from api.notifications.models import (
    Category,
    Channel,
    Notification,
    NotificationAttempt,
    NotificationStatus,
    NotificationTemplateVersion,
    PushSubscription,
)
from api.notifications.service import (
    ACCOUNT_CONSUMER,
    EVENTS_CONSUMER,
    unseal,
    unsubscribe_url,
)
from api.payments import service as payments_service

log = logging.getLogger(__name__)


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


def _due(now: datetime) -> Any:
    return or_(
        and_(Notification.status == NotificationStatus.queued, Notification.next_attempt_at <= now),
        and_(Notification.status == NotificationStatus.sending, Notification.lease_until < now),
    )


async def _claim(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    now: datetime,
    only: list[uuid.UUID] | None,
    batch: int,
) -> list[tuple[uuid.UUID, int]]:
    """Take due notifications for this worker: (id, attempt number) of each one claimed."""
    async with sessionmaker() as session:
        query = select(Notification.id).where(_due(now))
        if only is not None:
            query = query.where(Notification.id.in_(only))
        candidates = list(
            await session.scalars(
                query.order_by(Notification.next_attempt_at, Notification.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        )
        claimed: list[uuid.UUID] = []
        lease = now + timedelta(seconds=settings.notification_lease_seconds)
        for notification_id in candidates:
            changed = await session.execute(
                update(Notification)
                .where(Notification.id == notification_id, _due(now))
                .values(
                    status=NotificationStatus.sending,
                    lease_until=lease,
                    attempts=Notification.attempts + 1,
                    version=Notification.version + 1,
                )
                .execution_options(synchronize_session=False)
            )
            if changed.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(notification_id)
        if not claimed:
            await session.rollback()
            return []
        await session.execute(
            update(NotificationAttempt)
            .where(
                NotificationAttempt.notification_id.in_(claimed),
                NotificationAttempt.outcome.is_(None),
            )
            .values(
                outcome="interrupted",
                finished_at=now,
                error="the worker stopped during this attempt; its lease ran out",
            )
        )
        numbers = dict(
            (
                await session.execute(
                    select(Notification.id, Notification.attempts).where(
                        Notification.id.in_(claimed)
                    )
                )
            ).all()
        )
        for notification_id in claimed:
            session.add(
                NotificationAttempt(
                    notification_id=notification_id,
                    number=numbers[notification_id],
                    started_at=now,
                )
            )
        try:
            await session.commit()
        except OperationalError:
            await session.rollback()
            return []
    return [(notification_id, numbers[notification_id]) for notification_id in claimed]


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
    for notification_id, attempt in await _claim(
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


async def compose(
    session: AsyncSession, settings: Settings, notification: Notification, *, bundled: bool = False
) -> Outgoing:
    """The message as it goes out: rendered from the template version it was planned with (or,
    `bundled`, the bundled wording), its secrets unsealed, its attachments made."""
    admins = (
        not bundled
        and notification.template_id is not None
        and notification.template_version is not None
    )
    if admins:
        version = await session.get(
            NotificationTemplateVersion, (notification.template_id, notification.template_version)
        )
        if version is None:
            raise PermanentFailure("its template version no longer exists")
        subject, text, html = version.subject, version.text_body, version.html_body
    else:
        found = catalogue.bundled(notification.trigger, notification.channel, notification.locale)
        if found is None:
            raise PermanentFailure(
                f"no {notification.channel.value} wording for {notification.trigger}"
            )
        wording = found[1]
        subject, text, html = wording.subject, wording.text, wording.html
    context = dict(notification.context) | unseal(settings, notification.sealed)
    email = notification.channel == Channel.email
    unsubscribe = (
        unsubscribe_url(settings, user_id=notification.user_id, category=Category.marketing)
        if notification.category == Category.marketing and notification.user_id is not None
        else None
    )
    if unsubscribe is not None:
        context["unsubscribe_url"] = unsubscribe
    rendered = rendering.render(
        subject=subject,
        text=text,
        html=html,
        context=context,
        email=email,
        locale=notification.locale,
        unsubscribe_url=unsubscribe if email else None,
        trusted=not admins,
    )
    message = Outgoing(
        key=notification.idempotency_key,
        recipient=notification.recipient,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        data={
            "notification_id": str(notification.id),
            "url": context.get("booking_url") or context.get("event_url") or "",
        },
    )
    if email and unsubscribe is not None:
        message.text = f"{message.text.rstrip()}\n\n--\nUnsubscribe: {unsubscribe}\n"
        message.headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        message.headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if email:
        message.attachments = await _attachments(session, settings, notification, context)
    if notification.channel == Channel.push and notification.user_id is not None:
        subscriptions = await session.scalars(
            select(PushSubscription).where(PushSubscription.user_id == notification.user_id)
        )
        message.push_targets = [
            PushTarget(str(s.id), s.endpoint, s.p256dh, s.auth) for s in subscriptions
        ]
    return message


async def _attachments(
    session: AsyncSession, settings: Settings, notification: Notification, context: dict[str, Any]
) -> list[Attachment]:
    found: list[Attachment] = []
    reference = str(context.get("booking_reference") or notification.id.hex[:8]).lower()
    for kind in notification.attachments:
        if kind == "tickets" and notification.booking_id is not None:
            pdf = await bookings_service.tickets_pdf(
                session, settings, booking_id=notification.booking_id
            )
            if pdf is not None:
                found.append(Attachment(f"tickets-{reference}.pdf", "application/pdf", pdf))
        elif kind == "invoice" and notification.booking_id is not None:
            invoice = await payments_service.invoice_pdf(
                session, booking_id=notification.booking_id
            )
            if invoice is not None:
                found.append(Attachment(invoice[0], "application/pdf", invoice[1]))
        elif kind == "calendar" and context.get("starts_at"):
            found.append(
                Attachment(
                    f"event-{reference}.ics",
                    "text/calendar",
                    calendar_entry(
                        context, uid=f"{notification.booking_id or notification.id}@tessera"
                    ),
                )
            )
    return found


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _ics_time(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar_entry(context: dict[str, Any], *, uid: str) -> bytes:
    """An iCalendar (RFC 5545) event for the booking, so it lands in the person's calendar."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Tessera//Tickets//EN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{utcnow():%Y%m%dT%H%M%SZ}",
        f"DTSTART:{_ics_time(context['starts_at'])}",
        f"DTEND:{_ics_time(context.get('ends_at') or context['starts_at'])}",
        f"SUMMARY:{_ics_text(str(context.get('event_title', '')))}",
        f"LOCATION:{_ics_text(str(context.get('venue', '')))}",
        f"URL:{context.get('booking_url', '')}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


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
