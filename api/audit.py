"""The audit log: who did what to whom, for admins and security reviews."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, BigIntPK, utcnow
from api.observability import current_actor_id, current_client_ip, current_request_id
from api.outbox import JSONType


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(100), index=True)
    target_type: Mapped[str] = mapped_column(String(50))
    target_id: Mapped[str | None] = mapped_column(String(64), index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


async def record(
    session: AsyncSession,
    action: str,
    *,
    target_type: str,
    target_id: str | uuid.UUID | None,
    details: dict[str, Any] | None = None,
    actor_id: uuid.UUID | None = None,
) -> AuditEntry:
    """Add an audit entry to the current transaction."""
    entry = AuditEntry(
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        details=details or {},
        actor_id=actor_id or current_actor_id(),
        ip=current_client_ip(),
        request_id=current_request_id(),
    )
    session.add(entry)
    return entry


async def list_entries(
    session: AsyncSession,
    *,
    page: int,
    page_size: int,
    actor_id: uuid.UUID | None = None,
    action: str | None = None,
    target_id: str | None = None,
    since: datetime | None = None,
) -> tuple[list[AuditEntry], int]:
    """A page of audit entries, newest first."""
    query = select(AuditEntry)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if target_id is not None:
        query = query.where(AuditEntry.target_id == target_id)
    if since is not None:
        query = query.where(AuditEntry.occurred_at >= since)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(AuditEntry.id.desc()).offset((page - 1) * page_size).limit(page_size)
    )
    return list(rows), total
