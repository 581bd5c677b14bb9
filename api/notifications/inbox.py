"""The in-app inbox: a person's delivered in-app messages, read and unread."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.db import utcnow
from api.notifications.errors import NotificationNotFound
from api.notifications.models import Channel, Notification, NotificationStatus


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
    """Mark one of the person's in-app messages read (again: no change), committed."""
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
    await session.commit()
    return notification


async def mark_all_read(session: AsyncSession, *, user_id: uuid.UUID) -> int:
    """Mark every in-app message of the person read, committed; how many were unread."""
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
    await session.commit()
    return len(unread)
