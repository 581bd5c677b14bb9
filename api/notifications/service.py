"""Notifications: direct requests, preferences, templates, the inbox, push subscriptions,
provider callbacks and the admin's view.

Secrets a message must carry (a reset link's token) are sealed with a key derived from
`TESSERA_SECRET_KEY`, so the outbox, the notification row and the warehouse never hold them
in clear. Turning outbox events into notifications is `planner.py`; sending them, `worker.py`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from cryptography.fernet import Fernet
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.config import Settings
from api.db import utcnow
from api.notifications import catalogue
from api.notifications import templates as rendering
from api.notifications.errors import (
    ChannelUnavailable,
    NotificationNotFound,
    NotRetryable,
    PreferenceMandatory,
    TemplateExists,
    TemplateInvalid,
    TemplateNotFound,
    UnknownTrigger,
    UnsubscribeLinkInvalid,
)
from api.notifications.models import (
    Category,
    Channel,
    Notification,
    NotificationAttempt,
    NotificationPreference,
    NotificationStatus,
    NotificationTemplate,
    NotificationTemplateVersion,
    PushSubscription,
)
from api.outbox import OutboxCursor, OutboxEvent

EVENT_TYPE = "notification.requested"
# The worker's two outbox consumers: account messages (also planned by the API right after the
# request) and everything else.
ACCOUNT_CONSUMER = "notifications-account"
EVENTS_CONSUMER = "notifications"


def _fernet(settings: Settings) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(settings.derived_key("notification-seal")))


def seal(settings: Settings, secret: dict[str, Any] | None) -> str | None:
    return _fernet(settings).encrypt(json.dumps(secret).encode()).decode() if secret else None


def unseal(settings: Settings, sealed: str | None) -> dict[str, Any]:
    return dict(json.loads(_fernet(settings).decrypt(sealed))) if sealed else {}


async def request(
    session: AsyncSession,
    settings: Settings,
    *,
    template: str,
    recipient: str,
    user_id: uuid.UUID,
    context: dict[str, Any],
    secret: dict[str, Any] | None = None,
) -> OutboxEvent:
    """Ask for an account message (verification, reset, security notice, phone code) to be
    sent to this address or number, in the caller's transaction."""
    channel = catalogue.channels_of(template)[0]
    notification_id = uuid.uuid4()
    return await outbox.emit(
        session,
        EVENT_TYPE,
        entity="notification",
        entity_id=str(notification_id),
        payload={
            "notification_id": str(notification_id),
            "template": template,
            "channel": channel.value,
            "recipient": recipient,
            "user_id": str(user_id),
            "context": context,
            "sealed": seal(settings, secret),
        },
    )


# Preferences ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PreferenceView:
    category: Category
    channel: Channel
    enabled: bool
    mandatory: bool
    default: bool


async def preferences(session: AsyncSession, *, user_id: uuid.UUID) -> list[PreferenceView]:
    """Every (category, channel) a person can choose, with their choice or the default."""
    chosen = {
        (p.category, p.channel): p.enabled
        for p in await session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user_id)
        )
    }
    views = []
    for category, rules in catalogue.CATEGORIES.items():
        for channel in rules.channels:
            mandatory = channel in rules.mandatory
            default = channel in rules.defaults
            enabled = True if mandatory else chosen.get((category, channel), default)
            views.append(PreferenceView(category, channel, enabled, mandatory, default))
    return views


async def set_preferences(
    session: AsyncSession, *, user_id: uuid.UUID, changes: list[tuple[Category, Channel, bool]]
) -> list[PreferenceView]:
    """Apply choices; switching off what cannot be switched off is refused, all or nothing."""
    for index, (category, channel, enabled) in enumerate(changes):
        rules = catalogue.CATEGORIES[category]
        if channel not in rules.channels:
            raise ChannelUnavailable(
                f"{category.value} messages are not sent by {channel.value}.",
                field=f"preferences[{index}].channel",
            )
        if channel in rules.mandatory and not enabled:
            raise PreferenceMandatory(
                f"{category.value} messages by {channel.value} cannot be switched off: they "
                "carry your tickets, receipts or account security.",
                field=f"preferences[{index}].enabled",
            )
    for category, channel, enabled in changes:
        await _set_one(session, user_id=user_id, category=category, channel=channel, on=enabled)
    await session.flush()
    return await preferences(session, user_id=user_id)


async def _set_one(
    session: AsyncSession, *, user_id: uuid.UUID, category: Category, channel: Channel, on: bool
) -> None:
    row = await session.get(NotificationPreference, (user_id, category, channel))
    if row is None:
        session.add(
            NotificationPreference(user_id=user_id, category=category, channel=channel, enabled=on)
        )
    else:
        row.enabled = on
    await outbox.emit(
        session,
        "notification_preference.set",
        entity="notification_preference",
        entity_id=str(user_id),
        payload={
            "user_id": str(user_id),
            "category": category.value,
            "channel": channel.value,
            "enabled": on,
            "set_at": utcnow().isoformat(),
        },
    )


async def enabled_for(
    session: AsyncSession, *, user_ids: list[uuid.UUID], category: Category, channel: Channel
) -> set[uuid.UUID]:
    """Which of these people get `category` messages on `channel`."""
    rules = catalogue.CATEGORIES[category]
    if channel not in rules.channels or not user_ids:
        return set()
    if channel in rules.mandatory:
        return set(user_ids)
    explicit = dict(
        (
            await session.execute(
                select(NotificationPreference.user_id, NotificationPreference.enabled).where(
                    NotificationPreference.user_id.in_(user_ids),
                    NotificationPreference.category == category,
                    NotificationPreference.channel == channel,
                )
            )
        ).all()
    )
    default = channel in rules.defaults
    return {u for u in user_ids if explicit.get(u, default)}


# One-click unsubscribe (RFC 8058) -------------------------------------------------------

_UNSUBSCRIBE_AUDIENCE = "tessera-unsubscribe"


def unsubscribe_token(settings: Settings, *, user_id: uuid.UUID, category: Category) -> str:
    """A signed, non-expiring token naming a person and a category."""
    return jwt.encode(
        {"sub": str(user_id), "cat": category.value, "aud": _UNSUBSCRIBE_AUDIENCE},
        settings.derived_key("unsubscribe"),
        algorithm="HS256",
    )


def unsubscribe_url(settings: Settings, *, user_id: uuid.UUID, category: Category) -> str:
    token = unsubscribe_token(settings, user_id=user_id, category=category)
    return f"{settings.public_base_url.rstrip('/')}/notifications/unsubscribe?token={token}"


def read_unsubscribe_token(settings: Settings, token: str) -> tuple[uuid.UUID, Category]:
    try:
        claims = jwt.decode(
            token,
            settings.derived_key("unsubscribe"),
            algorithms=["HS256"],
            audience=_UNSUBSCRIBE_AUDIENCE,
        )
        return uuid.UUID(claims["sub"]), Category(claims["cat"])
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise UnsubscribeLinkInvalid("This unsubscribe link is not valid.", field="token") from exc


async def unsubscribe(session: AsyncSession, settings: Settings, *, token: str) -> Category:
    """Switch a category off on email (and every other channel it is optional on)."""
    user_id, category = read_unsubscribe_token(settings, token)
    rules = catalogue.CATEGORIES[category]
    for channel in rules.channels:
        if channel not in rules.mandatory:
            await _set_one(session, user_id=user_id, category=category, channel=channel, on=False)
    return category


# Templates ------------------------------------------------------------------------------


def _check_template(
    trigger: str, channel: Channel, subject: str, text: str, html: str | None
) -> None:
    if trigger not in catalogue.TRIGGERS:
        raise UnknownTrigger(f"There is no trigger called {trigger!r}.", field="trigger")
    if channel not in catalogue.CATEGORIES[catalogue.TRIGGERS[trigger].category].channels:
        raise ChannelUnavailable(
            f"{trigger} messages are not sent by {channel.value}.", field="channel"
        )
    if html is not None and channel != Channel.email:
        raise TemplateInvalid("Only email templates have an HTML body.", field="html_body")
    sample = catalogue.TRIGGERS[trigger].sample | {"base_url": "http://127.0.0.1:8000"}
    try:
        rendering.check(subject, text, html, sample)
    except rendering.TemplateInvalid as exc:
        raise TemplateInvalid(f"The template does not render: {exc}", field=exc.part) from exc


@dataclass(frozen=True)
class TemplateDraft:
    trigger: str
    channel: Channel
    locale: str
    variant: str
    weight: int
    active: bool
    subject: str
    text_body: str
    html_body: str | None


async def create_template(
    session: AsyncSession, *, draft: TemplateDraft, actor_id: uuid.UUID
) -> NotificationTemplate:
    _check_template(draft.trigger, draft.channel, draft.subject, draft.text_body, draft.html_body)
    template = NotificationTemplate(
        trigger=draft.trigger,
        channel=draft.channel,
        locale=draft.locale,
        variant=draft.variant,
        weight=draft.weight,
        active=draft.active,
        subject=draft.subject,
        text_body=draft.text_body,
        html_body=draft.html_body,
        updated_by=actor_id,
    )
    session.add(template)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise TemplateExists(
            f"{draft.trigger} already has a {draft.channel.value} template for "
            f"{draft.locale}, variant {draft.variant}: change that one instead.",
            field="variant",
        ) from exc
    _snapshot(session, template, actor_id)
    await outbox.record(session, "notification_template.created", template)
    return template


def _snapshot(session: AsyncSession, template: NotificationTemplate, actor_id: uuid.UUID) -> None:
    session.add(
        NotificationTemplateVersion(
            template_id=template.id,
            version=template.version,
            weight=template.weight,
            active=template.active,
            subject=template.subject,
            text_body=template.text_body,
            html_body=template.html_body,
            created_by=actor_id,
        )
    )


async def get_template_or_raise(
    session: AsyncSession, *, template_id: uuid.UUID
) -> NotificationTemplate:
    template = await session.get(NotificationTemplate, template_id)
    if template is None:
        raise TemplateNotFound(f"No template with id {template_id}.", field="templateId")
    return template


async def update_template(
    session: AsyncSession,
    *,
    template: NotificationTemplate,
    changes: dict[str, Any],
    actor_id: uuid.UUID,
) -> NotificationTemplate:
    """A new version of the template; messages already planned keep the version they had."""
    merged = {
        "subject": template.subject,
        "text_body": template.text_body,
        "html_body": template.html_body,
    } | {k: v for k, v in changes.items() if k in ("subject", "text_body", "html_body")}
    _check_template(
        template.trigger,
        template.channel,
        merged["subject"],
        merged["text_body"],
        merged["html_body"],
    )
    for name, value in changes.items():
        setattr(template, name, value)
    template.updated_at = utcnow()
    template.updated_by = actor_id
    await session.flush()  # bumps the version
    _snapshot(session, template, actor_id)
    await outbox.record(session, "notification_template.updated", template)
    return template


async def list_templates(session: AsyncSession) -> list[NotificationTemplate]:
    return list(
        await session.scalars(
            select(NotificationTemplate).order_by(
                NotificationTemplate.trigger,
                NotificationTemplate.channel,
                NotificationTemplate.locale,
                NotificationTemplate.variant,
            )
        )
    )


async def template_versions(
    session: AsyncSession, *, template_id: uuid.UUID
) -> list[NotificationTemplateVersion]:
    return list(
        await session.scalars(
            select(NotificationTemplateVersion)
            .where(NotificationTemplateVersion.template_id == template_id)
            .order_by(NotificationTemplateVersion.version.desc())
        )
    )


def preview(
    settings: Settings,
    *,
    trigger: str,
    channel: Channel,
    locale: str,
    subject: str | None,
    text_body: str | None,
    html_body: str | None,
) -> rendering.Rendered:
    """A message rendered with the trigger's sample data: the draft given, or the bundled one."""
    if trigger not in catalogue.TRIGGERS:
        raise UnknownTrigger(f"There is no trigger called {trigger!r}.", field="trigger")
    bundled = text_body is None
    if text_body is None:
        found = catalogue.bundled(trigger, channel, locale)
        if found is None:
            raise ChannelUnavailable(
                f"{trigger} has no bundled {channel.value} template.", field="channel"
            )
        wording = found[1]
        subject, text_body, html_body = wording.subject, wording.text, wording.html
    else:
        _check_template(trigger, channel, subject or "", text_body, html_body)
    spec = catalogue.TRIGGERS[trigger]
    context = spec.sample | {"base_url": settings.public_base_url}
    marketing = spec.category == Category.marketing and channel == Channel.email
    try:
        return rendering.render(
            subject=subject or "",
            text=text_body,
            html=html_body,
            context=context,
            email=channel == Channel.email,
            locale=locale,
            unsubscribe_url=(
                f"{settings.public_base_url}/notifications/unsubscribe?token=sample"
                if marketing
                else None
            ),
            trusted=bundled,
        )
    except rendering.TemplateInvalid as exc:  # e.g. past its budget with this base URL
        raise TemplateInvalid(f"The template does not render: {exc}", field=exc.part) from exc


# The inbox ------------------------------------------------------------------------------


async def inbox(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    unread_only: bool,
    before: datetime | None,
    limit: int,
) -> tuple[list[Notification], int]:
    """In-app messages, newest first, and how many are unread."""
    mine = (
        Notification.user_id == user_id,
        Notification.channel == Channel.in_app,
        Notification.status == NotificationStatus.delivered,
    )
    query = select(Notification).where(*mine)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before is not None:
        query = query.where(Notification.created_at < before)
    rows = list(
        await session.scalars(
            query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
        )
    )
    unread = await session.scalar(
        select(func.count()).select_from(Notification).where(*mine, Notification.read_at.is_(None))
    )
    return rows, int(unread or 0)


async def mark_read(
    session: AsyncSession, *, user_id: uuid.UUID, notification_id: uuid.UUID
) -> Notification:
    notification = await session.get(Notification, notification_id)
    if (
        notification is None
        or notification.user_id != user_id
        or notification.channel != Channel.in_app
    ):
        raise NotificationNotFound(
            f"No notification with id {notification_id}.", field="notificationId"
        )
    if notification.read_at is None:
        notification.read_at = utcnow()
        await outbox.record(session, "notification.read", notification)
    return notification


async def mark_all_read(session: AsyncSession, *, user_id: uuid.UUID) -> int:
    unread = list(
        await session.scalars(
            select(Notification).where(
                Notification.user_id == user_id,
                Notification.channel == Channel.in_app,
                Notification.read_at.is_(None),
            )
        )
    )
    now = utcnow()
    for notification in unread:
        notification.read_at = now
        await outbox.record(session, "notification.read", notification)
    return len(unread)


# Push subscriptions ---------------------------------------------------------------------


async def subscribe_push(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    endpoint: str,
    p256dh: str,
    auth: str,
    user_agent: str | None,
) -> PushSubscription:
    """Keep a browser's subscription; the same endpoint again replaces its keys and owner."""
    existing = await session.scalar(
        select(PushSubscription).where(PushSubscription.endpoint == endpoint)
    )
    if existing is not None:
        existing.user_id, existing.p256dh, existing.auth = user_id, p256dh, auth
        existing.user_agent = user_agent
        await session.flush()
        return existing
    subscription = PushSubscription(
        user_id=user_id, endpoint=endpoint, p256dh=p256dh, auth=auth, user_agent=user_agent
    )
    session.add(subscription)
    await session.flush()
    return subscription


async def push_subscriptions(
    session: AsyncSession, *, user_id: uuid.UUID
) -> list[PushSubscription]:
    return list(
        await session.scalars(
            select(PushSubscription)
            .where(PushSubscription.user_id == user_id)
            .order_by(PushSubscription.created_at)
        )
    )


async def unsubscribe_push(
    session: AsyncSession, *, user_id: uuid.UUID, subscription_id: uuid.UUID
) -> None:
    subscription = await session.get(PushSubscription, subscription_id)
    if subscription is None or subscription.user_id != user_id:
        raise NotificationNotFound(
            f"No push subscription with id {subscription_id}.", field="subscriptionId"
        )
    await session.delete(subscription)


# Provider callbacks ---------------------------------------------------------------------

CALLBACK_STATES = {
    "delivered": NotificationStatus.delivered,
    "bounced": NotificationStatus.failed,
    "failed": NotificationStatus.failed,
    "undelivered": NotificationStatus.failed,
    "complained": NotificationStatus.failed,
}


async def apply_callback(
    session: AsyncSession, *, channel: Channel, message_id: str, state: str, detail: str | None
) -> Notification | None:
    """Record what the provider learned about a message it accepted. A late `delivered`
    never overrides a failure, and repeated callbacks change nothing."""
    notification = await session.scalar(
        select(Notification).where(
            Notification.channel == channel, Notification.provider_message_id == message_id
        )
    )
    target = CALLBACK_STATES.get(state)
    if notification is None or target is None:
        return notification
    if notification.status not in (NotificationStatus.sent, NotificationStatus.delivered):
        return notification
    if notification.status == target:
        return notification
    now = utcnow()
    if target == NotificationStatus.delivered:
        if notification.status != NotificationStatus.sent:
            return notification
        notification.delivered_at = now
    else:
        notification.failed_at = now
        notification.error = f"{state}: {detail}" if detail else state
    notification.status = target
    await outbox.record(session, f"notification.{target.value}", notification)
    return notification


# The admin's view -----------------------------------------------------------------------


async def list_notifications(
    session: AsyncSession,
    *,
    page: int,
    page_size: int,
    status: NotificationStatus | None,
    channel: Channel | None,
    user_id: uuid.UUID | None,
    event_id: uuid.UUID | None,
    trigger: str | None,
) -> tuple[list[Notification], int]:
    filters = []
    if status is not None:
        filters.append(Notification.status == status)
    if channel is not None:
        filters.append(Notification.channel == channel)
    if user_id is not None:
        filters.append(Notification.user_id == user_id)
    if event_id is not None:
        filters.append(Notification.event_id == event_id)
    if trigger is not None:
        filters.append(Notification.trigger == trigger)
    total = await session.scalar(select(func.count()).select_from(Notification).where(*filters))
    rows = await session.scalars(
        select(Notification)
        .where(*filters)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return list(rows), int(total or 0)


async def get_or_raise(session: AsyncSession, *, notification_id: uuid.UUID) -> Notification:
    notification = await session.get(Notification, notification_id)
    if notification is None:
        raise NotificationNotFound(
            f"No notification with id {notification_id}.", field="notificationId"
        )
    return notification


async def attempts(
    session: AsyncSession, *, notification_id: uuid.UUID
) -> list[NotificationAttempt]:
    return list(
        await session.scalars(
            select(NotificationAttempt)
            .where(NotificationAttempt.notification_id == notification_id)
            .order_by(NotificationAttempt.number)
        )
    )


async def retry(session: AsyncSession, *, notification: Notification) -> Notification:
    """Send a dead-lettered message again (after fixing what failed); nothing else is retried
    by hand, so a sent message is never sent twice."""
    if notification.status != NotificationStatus.dead:
        raise NotRetryable(
            f"Only dead-lettered messages can be retried; this one is {notification.status}."
        )
    changed = await session.execute(
        update(Notification)
        .where(Notification.id == notification.id, Notification.status == NotificationStatus.dead)
        .values(
            status=NotificationStatus.queued,
            attempts=0,
            next_attempt_at=utcnow(),
            error=None,
            version=Notification.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise NotRetryable("This message changed meanwhile; read it again.")
    await session.refresh(notification)
    await outbox.record(session, "notification.queued", notification)
    return notification


def variant_bucket(campaign: str, user_key: str, total_weight: int) -> int:
    """A stable number in [0, total_weight) for a person in a campaign: the same person always
    lands in the same variant of the same campaign, whichever worker plans the message."""
    digest = hashlib.sha256(f"{campaign}\x00{user_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % total_weight


async def skip_history(session: AsyncSession, *, keep_confirmations: int = 0) -> None:
    """Start the notification worker at the end of the outbox (demo history loaded into the
    past is not announced), less the last `keep_confirmations` booking confirmations, which
    are still sent: with their tickets, as any new booking's."""
    last = (
        await session.execute(
            select(
                func.coalesce(func.max(OutboxEvent.txid), 0),
                func.coalesce(func.max(OutboxEvent.id), 0),
            )
        )
    ).one()
    txid, row_id = end = int(last[0] or 0), int(last[1] or 0)
    if keep_confirmations:
        kept = (
            await session.execute(
                select(OutboxEvent.txid, OutboxEvent.id)
                .where(OutboxEvent.event_type == "booking.confirmed")
                .order_by(OutboxEvent.txid.desc(), OutboxEvent.id.desc())
                .offset(keep_confirmations - 1)
                .limit(1)
            )
        ).first()
        if kept is not None:
            txid, row_id = int(kept[0] or 0), int(kept[1]) - 1
    for consumer, (at_txid, at_id) in (
        (EVENTS_CONSUMER, (txid, row_id)),
        (ACCOUNT_CONSUMER, end),
    ):
        cursor = await session.get(OutboxCursor, consumer)
        if cursor is None:
            session.add(OutboxCursor(consumer=consumer, last_txid=at_txid, last_id=at_id))
        else:
            cursor.last_txid, cursor.last_id = at_txid, at_id
