"""Browsers' Web Push subscriptions."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.config import Settings
from api.notifications.channels import vapid_public_key
from api.notifications.errors import NotificationNotFound, PushUnavailable
from api.notifications.models import PushSubscription


def public_key(settings: Settings) -> str:
    """The VAPID public key browsers subscribe with, when push is configured."""
    key = vapid_public_key(settings)
    if key is None:
        raise PushUnavailable("Push notifications are not configured here.")
    return key


async def subscribe_push(
    session: AsyncSession,
    settings: Settings,
    *,
    user_id: uuid.UUID,
    endpoint: str,
    p256dh: str,
    auth: str,
    user_agent: str | None,
) -> PushSubscription:
    """Keep a browser's subscription, committed; the same endpoint again replaces its keys and
    owner."""
    if settings.vapid_private_key is None:
        raise PushUnavailable("Push notifications are not configured here.")
    existing = await session.scalar(
        select(PushSubscription).where(PushSubscription.endpoint == endpoint)
    )
    if existing is not None:
        existing.user_id, existing.p256dh, existing.auth = user_id, p256dh, auth
        existing.user_agent = user_agent
        await session.commit()
        return existing
    subscription = PushSubscription(
        user_id=user_id, endpoint=endpoint, p256dh=p256dh, auth=auth, user_agent=user_agent
    )
    session.add(subscription)
    await session.commit()
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
    """Stop push on one of the person's browsers, committed."""
    subscription = await session.get(PushSubscription, subscription_id)
    if subscription is None or subscription.user_id != user_id:
        raise NotificationNotFound(
            f"No push subscription with id {subscription_id}.", field="subscriptionId"
        )
    await session.delete(subscription)
    await session.commit()
