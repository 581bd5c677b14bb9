"""Asking for an account message: the `notification.requested` outbox row (docs/outbox.md).

A domain that must tell a person something about their account (auth: verification, reset,
security notices, phone codes) writes this row in its own transaction; the notifications
worker plans and sends it. Secrets the message carries (a reset token, a phone code) are sealed
with a key derived from `TESSERA_SECRET_KEY`, so the outbox and the warehouse never hold them in
clear; only the notifier unseals them.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.config import Settings

MESSAGE_REQUESTED = "notification.requested"


def _fernet(settings: Settings) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(settings.derived_key("notification-seal")))


def seal(settings: Settings, secret: dict[str, Any] | None) -> str | None:
    return _fernet(settings).encrypt(json.dumps(secret).encode()).decode() if secret else None


def unseal(settings: Settings, sealed: str | None) -> dict[str, Any]:
    return dict(json.loads(_fernet(settings).decrypt(sealed))) if sealed else {}


async def request_message(
    session: AsyncSession,
    settings: Settings,
    *,
    template: str,
    channel: str,
    recipient: str,
    user_id: uuid.UUID,
    context: dict[str, Any],
    secret: dict[str, Any] | None = None,
) -> outbox.OutboxEvent:
    """Ask for the message `template` to be sent to this address or number on `channel`
    (`email`, `sms`), in the caller's transaction."""
    notification_id = uuid.uuid4()
    return await outbox.emit(
        session,
        MESSAGE_REQUESTED,
        entity="notification",
        entity_id=str(notification_id),
        payload={
            "notification_id": str(notification_id),
            "template": template,
            "channel": channel,
            "recipient": recipient,
            "user_id": str(user_id),
            "context": context,
            "sealed": seal(settings, secret),
        },
    )
