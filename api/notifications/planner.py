"""Turning outbox events into notifications: who is told, on which channels (their
preferences, what they can receive), in which words (template, locale, A/B variant).

Every notification's idempotency key is made of its cause and its recipient, so planning an
event twice (two workers, a retry after a crash) makes the same rows, never new ones.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.bookings import service as bookings_service
from api.bookings.models import BookingStatus
from api.config import Settings
from api.events.models import Event, EventStatus, Visibility
from api.notifications import catalogue
from api.notifications.models import (
    Category,
    Channel,
    Notification,
    NotificationTemplate,
    PushSubscription,
)
from api.notifications.service import EVENT_TYPE, enabled_for, variant_bucket
from api.outbox import OutboxEvent
from api.users import service as users_service
from api.users.models import User, UserStatus

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
)
# What makes an event.updated worth telling ticket holders about.
_CHANGES = {
    "time": ("starts_at", "ends_at"),
    "venue": ("venue_name", "address", "city", "country", "online_url"),
}


@dataclass
class Cause:
    """One reason to tell one person something."""

    trigger: str
    user: User
    key: str  # unique per cause and person; the channel is added per notification
    context: dict[str, Any]
    event_id: uuid.UUID | None = None
    booking_id: uuid.UUID | None = None
    source_event_id: uuid.UUID | None = None
    attachments: tuple[str, ...] = ()
    channels: tuple[Channel, ...] | None = None  # None: every channel the person allows
    recipient: str | None = None  # an address or number given by the request itself
    sealed: str | None = None


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
        return await _booking_message(session, settings, row)
    if row.event_type == "booking.reminder_due":
        return await _booking_message(session, settings, row, trigger=f"reminder_{payload['kind']}")
    if row.event_type == "waitlist.offered":
        return await _waitlist_offer(session, settings, row)
    if row.event_type == "event.updated":
        return await _event_changed(session, settings, row)
    if row.event_type == "event.cancelled":
        return await _event_cancelled(session, settings, row)
    if row.event_type == "event.published":
        return await _new_event(session, settings, row)
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


def _base(settings: Settings, user: User) -> dict[str, Any]:
    return {
        "base_url": settings.public_base_url.rstrip("/"),
        "name": user.public_name,
        "timezone": user.timezone or "UTC",
        "locale": user.locale or "en",  # amounts and times in the reader's format
    }


def _event_context(settings: Settings, event: Event) -> dict[str, Any]:
    venue = ", ".join(p for p in (event.venue_name, event.city) if p) or event.online_url
    base = settings.public_base_url.rstrip("/")
    return {
        "event_id": str(event.id),
        "event_title": event.title,
        "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
        "venue": venue or "",
        "event_url": f"{base}/events/slug/{event.slug}",
    }


def _booking_context(settings: Settings, booking_id: uuid.UUID, **facts: Any) -> dict[str, Any]:
    base = settings.public_base_url.rstrip("/")
    return {
        "booking_id": str(booking_id),
        "booking_reference": booking_id.hex[:8].upper(),
        "booking_url": f"{base}/bookings/{booking_id}",
    } | facts


async def _booking_message(
    session: AsyncSession, settings: Settings, row: OutboxEvent, *, trigger: str | None = None
) -> list[Cause]:
    payload = row.payload
    booking_id = uuid.UUID(payload.get("booking_id") or payload["id"])
    booking = await bookings_service.get(session, booking_id=booking_id)
    if booking is None:
        return []
    event = await session.get(Event, booking.event_id)
    user = await users_service.get(session, user_id=booking.user_id)
    if event is None or user is None:
        return []
    name = (
        trigger
        or {
            "booking.confirmed": "booking_confirmed",
            "booking.cancelled": "booking_cancelled",
            "booking.refunded": "booking_refunded",
        }[row.event_type]
    )
    if name == "booking_cancelled":
        if payload.get("confirmed_at") is None:
            return []  # a hold that lapsed or was dropped: nothing was bought
        if _cancelled_with_event(payload, event):
            return []  # the event's cancellation message says it all
    if name.startswith("reminder_") and booking.status != BookingStatus.confirmed:
        return []
    spec = catalogue.TRIGGERS[name]
    return [
        Cause(
            trigger=name,
            user=user,
            key=f"{name}:{row.event_id}",
            context=_base(settings, user)
            | _event_context(settings, event)
            | _booking_context(
                settings,
                booking.id,
                seats=booking.seats,
                total_cents=int(payload.get("total_cents", booking.total_cents)),
                currency=booking.currency,
            ),
            event_id=event.id,
            booking_id=booking.id,
            source_event_id=row.event_id,
            attachments=spec.attachments,
        )
    ]


def _cancelled_with_event(payload: dict[str, Any], event: Event) -> bool:
    """Whether the event's cancellation cancelled this booking, as its `booking.cancelled` row
    recorded it: a holder who cancelled first (even moments before the event was) is told
    about their own cancellation. Rows written before `cancelled_by` was recorded fall back to
    the rule `_event_cancelled` uses: cancelled at or after the event."""
    if "cancelled_by" in payload:
        return bool(payload["cancelled_by"] == "event")
    cancelled_at = payload.get("cancelled_at")
    return (
        event.cancelled_at is not None
        and cancelled_at is not None
        and datetime.fromisoformat(cancelled_at) >= event.cancelled_at
    )


async def _waitlist_offer(
    session: AsyncSession, settings: Settings, row: OutboxEvent
) -> list[Cause]:
    payload = row.payload
    user = await users_service.get(session, user_id=uuid.UUID(payload["user_id"]))
    event = await session.get(Event, uuid.UUID(payload["event_id"]))
    if user is None or event is None or not payload.get("booking_id"):
        return []
    booking_id = uuid.UUID(payload["booking_id"])
    return [
        Cause(
            trigger="waitlist_offer",
            user=user,
            key=f"waitlist_offer:{row.event_id}",
            context=_base(settings, user)
            | _event_context(settings, event)
            | _booking_context(
                settings,
                booking_id,
                seats=int(payload["quantity"]),
                offer_expires_at=payload.get("offer_expires_at"),
            ),
            event_id=event.id,
            booking_id=booking_id,
            source_event_id=row.event_id,
        )
    ]


async def _previous_image(session: AsyncSession, row: OutboxEvent) -> dict[str, Any] | None:
    previous = await session.scalar(
        select(OutboxEvent.payload)
        .where(
            OutboxEvent.entity == row.entity,
            OutboxEvent.entity_id == row.entity_id,
            OutboxEvent.id < row.id,
            OutboxEvent.event_type.like("event.%"),
        )
        .order_by(OutboxEvent.id.desc())
        .limit(1)
    )
    return dict(previous) if previous is not None else None


async def _holders_of(
    session: AsyncSession,
    settings: Settings,
    row: OutboxEvent,
    event: Event,
    trigger: str,
    holders: list[bookings_service.Holder],
    extra: dict[str, Any],
) -> list[Cause]:
    causes = []
    for holder in holders:
        user = await users_service.get(session, user_id=holder.user_id)
        if user is None:
            continue
        causes.append(
            Cause(
                trigger=trigger,
                user=user,
                key=f"{trigger}:{row.event_id}:{holder.booking_id}",
                context=_base(settings, user)
                | _event_context(settings, event)
                | _booking_context(
                    settings,
                    holder.booking_id,
                    seats=holder.seats,
                    total_cents=holder.total_cents,
                    currency=holder.currency,
                )
                | extra,
                event_id=event.id,
                booking_id=holder.booking_id,
                source_event_id=row.event_id,
            )
        )
    return causes


async def _event_changed(
    session: AsyncSession, settings: Settings, row: OutboxEvent
) -> list[Cause]:
    event = await session.get(Event, uuid.UUID(row.entity_id))
    before = await _previous_image(session, row)
    if event is None or before is None or event.status != EventStatus.published:
        return []
    after = row.payload
    changes = [
        what
        for what, columns in _CHANGES.items()
        if any(before.get(c) != after.get(c) for c in columns)
    ]
    if not changes:
        return []
    holders = await bookings_service.holders(
        session, event_id=event.id, statuses=(BookingStatus.confirmed,)
    )
    return await _holders_of(
        session, settings, row, event, "event_changed", holders, {"changes": changes}
    )


async def _event_cancelled(
    session: AsyncSession, settings: Settings, row: OutboxEvent
) -> list[Cause]:
    event = await session.get(Event, uuid.UUID(row.entity_id))
    if event is None or event.cancelled_at is None:
        return []
    holders = await bookings_service.holders(
        session,
        event_id=event.id,
        statuses=(BookingStatus.cancelled, BookingStatus.refunded),
        cancelled_since=event.cancelled_at,
    )
    return await _holders_of(
        session,
        settings,
        row,
        event,
        "event_cancelled",
        holders,
        {"reason": event.cancellation_reason or ""},
    )


async def _new_event(session: AsyncSession, settings: Settings, row: OutboxEvent) -> list[Cause]:
    event = await session.get(Event, uuid.UUID(row.entity_id))
    if event is None or event.visibility != Visibility.public:
        return []
    organizer = await users_service.get(session, user_id=event.organizer_id)
    customers = await bookings_service.past_customers(
        session, organizer_id=event.organizer_id, excluding_event=event.id
    )
    opted_in: set[uuid.UUID] = set()
    for channel in catalogue.CATEGORIES[Category.marketing].channels:
        opted_in |= await enabled_for(
            session, user_ids=customers, category=Category.marketing, channel=channel
        )
    causes = []
    for user_id in customers:
        if user_id not in opted_in or user_id == event.organizer_id:
            continue
        user = await users_service.get(session, user_id=user_id)
        if user is None:
            continue
        causes.append(
            Cause(
                trigger="new_event",
                user=user,
                # Announced once per person, however often the event is republished.
                key=f"new_event:{event.id}",
                context=_base(settings, user)
                | _event_context(settings, event)
                | {"organizer_name": organizer.public_name if organizer else ""},
                event_id=event.id,
                source_event_id=row.event_id,
            )
        )
    return causes


async def _fan_out(session: AsyncSession, settings: Settings, cause: Cause) -> list[Notification]:
    user = cause.user
    if user.status == UserStatus.deleted:
        return []
    spec = catalogue.TRIGGERS[cause.trigger]
    category = spec.category
    wanted = cause.channels or catalogue.CATEGORIES[category].channels
    planned = []
    for channel in wanted:
        if cause.channels is None:
            if not await enabled_for(
                session, user_ids=[user.id], category=category, channel=channel
            ):
                continue
            recipient = await _reachable(session, settings, user, channel)
            if recipient is None:
                continue
        else:
            recipient = cause.recipient or user.email
        key = f"{cause.key}:{user.id}:{channel.value}"
        exists = await session.scalar(
            select(Notification.id).where(Notification.idempotency_key == key)
        )
        if exists is not None:
            continue
        choice = await _template(session, cause.trigger, channel, user)
        if choice is None:
            continue
        notification = Notification(
            id=uuid.uuid4(),
            idempotency_key=key,
            user_id=user.id,
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


@dataclass(frozen=True)
class Choice:
    locale: str
    template_id: uuid.UUID | None = None
    version: int | None = None
    variant: str | None = None
    campaign: str | None = None


def _locales(locale: str) -> list[str]:
    candidates = [locale, locale.split("-")[0].lower(), "en"]
    return list(dict.fromkeys(candidates))


async def _template(
    session: AsyncSession, trigger: str, channel: Channel, user: User
) -> Choice | None:
    """The wording to use: an admin's template in the person's locale (choosing among its
    A/B variants by weight), else the bundled one, falling back to the language, then English."""
    active = list(
        await session.scalars(
            select(NotificationTemplate)
            .where(
                NotificationTemplate.trigger == trigger,
                NotificationTemplate.channel == channel,
                NotificationTemplate.active.is_(True),
                NotificationTemplate.weight > 0,
            )
            .order_by(NotificationTemplate.variant)
        )
    )
    for locale in _locales(user.locale or "en"):
        variants = [t for t in active if t.locale == locale]
        if variants:
            if len(variants) == 1:
                only = variants[0]
                return Choice(locale, only.id, only.version, only.variant)
            campaign = f"{trigger}:{channel.value}"
            bucket = variant_bucket(campaign, str(user.id), sum(t.weight for t in variants))
            for template in variants:
                if bucket < template.weight:
                    return Choice(locale, template.id, template.version, template.variant, campaign)
                bucket -= template.weight
        if (channel, locale) in catalogue.TRIGGERS[trigger].wording:
            return Choice(locale)
    return None
