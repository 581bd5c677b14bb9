"""The admin's view of every message: the delivery log, its attempts, and retrying the dead."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.db import utcnow
from api.notifications.errors import NotificationNotFound, NotRetryable
from api.notifications.models import (
    Channel,
    Notification,
    NotificationAttempt,
    NotificationStatus,
)


@dataclass(frozen=True)
class Detail:
    notification: Notification
    attempts: list[NotificationAttempt]


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


async def detail(session: AsyncSession, *, notification_id: uuid.UUID) -> Detail:
    """One message with each delivery attempt."""
    notification = await get_or_raise(session, notification_id=notification_id)
    return Detail(notification, await attempts(session, notification_id=notification.id))


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


async def retry_dead(session: AsyncSession, *, notification_id: uuid.UUID) -> Detail:
    """An admin's retry of a dead-lettered message (`retry`), committed, with its attempts."""
    notification = await get_or_raise(session, notification_id=notification_id)
    await retry(session, notification=notification)
    await session.commit()
    return await detail(session, notification_id=notification_id)
