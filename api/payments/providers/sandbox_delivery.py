"""The sandbox's events, delivered to our webhook endpoint signed exactly as Stripe signs its
own, and retried with Stripe's kind of backoff."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.db import utcnow
from api.payments.models import SandboxEvent


def stripe_signature(payload: bytes, secret: str, timestamp: int) -> str:
    """Stripe's webhook signature header: HMAC-SHA256 of "timestamp.payload" as `v1`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _webhook_backoff(attempts: int) -> timedelta:
    """Like Stripe's retries: soon at first, then less often, at most hourly."""
    return timedelta(seconds=min(3600.0, 5.0 * 3 ** max(0, attempts - 1)))


async def deliver_events(
    sessionmaker: async_sessionmaker[AsyncSession], http: httpx.AsyncClient, url: str, secret: str
) -> int:
    """POST the events not yet delivered, oldest first, signed as Stripe signs them; an answer
    other than 2xx (or none) is tried again later with backoff. Delivery is at least once: the
    endpoint skips events it has handled."""
    now = utcnow()
    async with sessionmaker() as session:
        due = (
            await session.scalars(
                select(SandboxEvent)
                .where(
                    SandboxEvent.delivered_at.is_(None),
                    or_(
                        SandboxEvent.next_attempt_at.is_(None),
                        SandboxEvent.next_attempt_at <= now,
                    ),
                )
                .order_by(SandboxEvent.created_at, SandboxEvent.id)
                .limit(100)
            )
        ).all()
        pending = [(e.id, e.type, e.data, e.created_at, e.attempts) for e in due]
        await session.commit()
    delivered = 0
    for event_id, kind, data, created_at, attempts in pending:
        payload = json.dumps(
            {
                "id": event_id,
                "object": "event",
                "type": kind,
                "created": int(created_at.timestamp()),
                "livemode": False,
                "data": {"object": data},
            }
        ).encode()
        error: str | None = None
        try:
            answer = await http.post(
                url,
                content=payload,
                headers={
                    "Content-Type": "application/json",
                    "Stripe-Signature": stripe_signature(
                        payload, secret, int(utcnow().timestamp())
                    ),
                },
            )
            if not answer.is_success:
                error = f"HTTP {answer.status_code}: {answer.text[:200]}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        async with sessionmaker() as session:
            values: dict[str, Any] = (
                {"delivered_at": utcnow(), "last_error": None}
                if error is None
                else {
                    "attempts": attempts + 1,
                    "next_attempt_at": utcnow() + _webhook_backoff(attempts + 1),
                    "last_error": error,
                }
            )
            await session.execute(
                update(SandboxEvent).where(SandboxEvent.id == event_id).values(**values)
            )
            await session.commit()
        delivered += error is None
    return delivered
