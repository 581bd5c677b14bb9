"""Account messages asked for through the outbox, and the worker's two outbox consumers.

Auth writes its `notification.requested` rows itself (`api.message_requests`), so it never
imports this package; `request` is the same row for callers inside the platform that know only
the template's name.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api import message_requests
from api.config import Settings
from api.notifications import catalogue
from api.outbox import OutboxCursor, OutboxEvent

EVENT_TYPE = message_requests.MESSAGE_REQUESTED
# The worker's two outbox consumers: account messages (also planned by the API right after the
# request) and everything else.
ACCOUNT_CONSUMER = "notifications-account"
EVENTS_CONSUMER = "notifications"


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
    return await message_requests.request_message(
        session,
        settings,
        template=template,
        channel=catalogue.channels_of(template)[0].value,
        recipient=recipient,
        user_id=user_id,
        context=context,
        secret=secret,
    )


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
