"""Claiming due notifications for one worker: a conditional update per notification (rows
picked with SKIP LOCKED on PostgreSQL) holds it for a lease, and an attempt is opened for it. A
claim whose worker died runs out with its lease: the notification is due again, and its open
attempt is marked interrupted."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.config import Settings
from api.notifications.models import Notification, NotificationAttempt, NotificationStatus


def _due(now: datetime) -> Any:
    return or_(
        and_(Notification.status == NotificationStatus.queued, Notification.next_attempt_at <= now),
        and_(Notification.status == NotificationStatus.sending, Notification.lease_until < now),
    )


async def claim(
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
