"""Who gets which category of message on which channel, and one-click unsubscribe (RFC 8058)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.config import Settings
from api.db import utcnow
from api.notifications import catalogue
from api.notifications.errors import (
    ChannelUnavailable,
    PreferenceMandatory,
    UnsubscribeLinkInvalid,
)
from api.notifications.models import Category, Channel, NotificationPreference


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


async def change_preferences(
    session: AsyncSession, *, user_id: uuid.UUID, changes: list[tuple[Category, Channel, bool]]
) -> list[PreferenceView]:
    """A person's own change of their choices (`set_preferences`), committed."""
    views = await set_preferences(session, user_id=user_id, changes=changes)
    await session.commit()
    return views


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
    """Switch a category off on email (and every other channel it is optional on), committed."""
    user_id, category = read_unsubscribe_token(settings, token)
    rules = catalogue.CATEGORIES[category]
    for channel in rules.channels:
        if channel not in rules.mandatory:
            await _set_one(session, user_id=user_id, category=category, channel=channel, on=False)
    await session.commit()
    return category
