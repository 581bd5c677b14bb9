"""Turning outbox events into notifications: who is told, on which channels (their
preferences, what they can receive), in which words (template, locale, A/B variant).

Each family of triggers finds its causes in its own module (`booking_causes`, `event_causes`;
account messages come ready-made in their request); this module fans each cause out to the
person's channels. Every notification's idempotency key is made of its cause and its recipient,
so planning an event twice (two workers, a retry after a crash) makes the same rows, never new
ones.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.config import Settings
from api.notifications import booking_causes, catalogue, event_causes, variants
from api.notifications.account_messages import EVENT_TYPE
from api.notifications.causes import Cause
from api.notifications.models import Channel, Notification, PushSubscription
from api.notifications.preferences import enabled_for
from api.outbox import OutboxEvent
from api.users import User, UserStatus
from api.users import service as users_service

ACCOUNT_EVENTS = (EVENT_TYPE,)
EVENT_TRIGGERS = (
    "booking.confirmed",
    "booking.cancelled",
    "booking.refunded",
    "booking.reminder_due",
    "waitlist.offered",
    "event.updated",
    "event.cancelled",
    "event.published",
    "staff_grant.created",
)


async def plan(session: AsyncSession, settings: Settings, row: OutboxEvent) -> list[Notification]:
    """The notifications an outbox event calls for, added to the session."""
    causes = await _causes(session, settings, row)
    planned: list[Notification] = []
    for cause in causes:
        planned.extend(await _fan_out(session, settings, cause))
    return planned


async def _causes(session: AsyncSession, settings: Settings, row: OutboxEvent) -> list[Cause]:
    payload = row.payload
    if row.event_type == EVENT_TYPE:
        return await _requested(session, row)
    if row.event_type in ("booking.confirmed", "booking.cancelled", "booking.refunded"):
        return await booking_causes.booking_message(session, settings, row)
    if row.event_type == "booking.reminder_due":
        return await booking_causes.booking_message(
            session, settings, row, trigger=f"reminder_{payload['kind']}"
        )
    if row.event_type == "waitlist.offered":
        return await booking_causes.waitlist_offer(session, settings, row)
    if row.event_type == "event.updated":
        return await event_causes.event_changed(session, settings, row)
    if row.event_type == "event.cancelled":
        return await event_causes.event_cancelled(session, settings, row)
    if row.event_type == "event.published":
        return await event_causes.new_event(session, settings, row)
    if row.event_type == "staff_grant.created":
        return await event_causes.staff_invited(session, settings, row)
    return []


async def _requested(session: AsyncSession, row: OutboxEvent) -> list[Cause]:
    payload = row.payload
    user = await users_service.get(session, user_id=uuid.UUID(payload["user_id"]))
    if user is None:
        return []
    return [
        Cause(
            trigger=payload["template"],
            user=user,
            key=str(row.event_id),
            context=dict(payload["context"]),
            source_event_id=row.event_id,
            channels=(Channel(payload["channel"]),),
            recipient=payload["recipient"],
            sealed=payload.get("sealed"),
        )
    ]


async def _fan_out(session: AsyncSession, settings: Settings, cause: Cause) -> list[Notification]:
    user = cause.user
    if user is not None and user.status == UserStatus.deleted:
        return []
    spec = catalogue.TRIGGERS[cause.trigger]
    category = spec.category
    wanted = cause.channels or catalogue.CATEGORIES[category].channels
    # Somebody without an account (an invited address) is told on the given channel only.
    whom = user.id if user is not None else uuid.uuid5(uuid.NAMESPACE_URL, f"to:{cause.recipient}")
    planned = []
    for channel in wanted:
        if cause.channels is None:
            assert user is not None, "a cause for somebody without an account names its channels"
            if not await enabled_for(
                session, user_ids=[user.id], category=category, channel=channel
            ):
                continue
            recipient = await _reachable(session, settings, user, channel)
            if recipient is None:
                continue
        else:
            recipient = cause.recipient or (user.email if user is not None else None)
            if recipient is None:
                continue
        key = f"{cause.key}:{whom}:{channel.value}"
        exists = await session.scalar(
            select(Notification.id).where(Notification.idempotency_key == key)
        )
        if exists is not None:
            continue
        choice = await variants.choose(
            session,
            trigger=cause.trigger,
            channel=channel,
            user_id=whom,
            locale=(user.locale if user is not None else cause.context.get("locale")) or "en",
        )
        if choice is None:
            continue
        notification = Notification(
            id=uuid.uuid4(),
            idempotency_key=key,
            user_id=user.id if user is not None else None,
            trigger=cause.trigger,
            category=category,
            channel=channel,
            recipient=recipient,
            locale=choice.locale,
            campaign=choice.campaign,
            variant=choice.variant,
            template_id=choice.template_id,
            template_version=choice.version,
            event_id=cause.event_id,
            booking_id=cause.booking_id,
            source_event_id=cause.source_event_id,
            context=cause.context,
            sealed=cause.sealed,
            attachments=list(cause.attachments) if channel == Channel.email else [],
        )
        session.add(notification)
        await outbox.record(session, "notification.queued", notification)
        planned.append(notification)
    return planned


async def _reachable(
    session: AsyncSession, settings: Settings, user: User, channel: Channel
) -> str | None:
    """Where a person can get messages on a channel, if they can at all."""
    if channel == Channel.email:
        return user.email
    if channel == Channel.sms:
        return user.phone if user.phone and user.phone_verified_at else None
    if channel == Channel.push:
        if settings.vapid_private_key is None:
            return None
        has = await session.scalar(
            select(PushSubscription.id).where(PushSubscription.user_id == user.id).limit(1)
        )
        return "web-push" if has is not None else None
    return f"user:{user.id}"
