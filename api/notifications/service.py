"""Messages to people: requested through the outbox, delivered by the development mailer.

Secrets a message must carry (a reset link's token) are sealed with a key derived from
`TESSERA_SECRET_KEY`, so the outbox, and the warehouse that copies it, never hold them in clear.
"""

from __future__ import annotations

import base64
import json
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import outbox
from api.config import Settings
from api.notifications.models import NotificationDelivery
from api.notifications.templates import TEMPLATES, render
from api.outbox import OutboxEvent

EVENT_TYPE = "notification.requested"


def _fernet(settings: Settings) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(settings.derived_key("notification-seal")))


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
    """Ask for a message to be sent, in the caller's transaction."""
    channel = TEMPLATES[template].channel
    notification_id = uuid.uuid4()
    sealed = _fernet(settings).encrypt(json.dumps(secret).encode()).decode() if secret else None
    return await outbox.emit(
        session,
        EVENT_TYPE,
        entity="notification",
        entity_id=str(notification_id),
        payload={
            "notification_id": str(notification_id),
            "template": template,
            "channel": channel,
            "recipient": recipient,
            "user_id": str(user_id),
            "context": context,
            "sealed": sealed,
        },
    )


def _write_email(
    settings: Settings, event_id: uuid.UUID, recipient: str, subject: str, text: str
) -> Path:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = recipient
    message["Subject"] = subject
    message["Message-ID"] = f"<{event_id}@tessera>"
    message.set_content(text)
    settings.mail_dir.mkdir(parents=True, exist_ok=True)
    path = settings.mail_dir / f"{event_id}.eml"
    path.write_bytes(bytes(message))
    return path


def _write_sms(settings: Settings, event_id: uuid.UUID, recipient: str, text: str) -> Path:
    settings.sms_dir.mkdir(parents=True, exist_ok=True)
    path = settings.sms_dir / f"{event_id}.txt"
    path.write_text(f"To: {recipient}\n\n{text}\n", encoding="utf-8")
    return path


async def deliver_pending(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, *, limit: int = 100
) -> int:
    """Deliver requested messages not yet delivered; safe to run from several processes.

    The file is named by the event id, so a crash between writing it and recording the
    delivery rewrites the same file instead of sending twice.
    """
    delivered = 0
    async with sessionmaker() as session:
        # Plain values, not ORM objects: a rollback below expires every loaded object, and
        # reading an expired attribute would mean IO outside the event loop.
        pending = (
            await session.execute(
                select(OutboxEvent.event_id, OutboxEvent.payload)
                .outerjoin(
                    NotificationDelivery, NotificationDelivery.event_id == OutboxEvent.event_id
                )
                .where(OutboxEvent.event_type == EVENT_TYPE)
                .where(NotificationDelivery.event_id.is_(None))
                .order_by(OutboxEvent.id)
                .limit(limit)
            )
        ).all()
        await session.rollback()  # do not hold SQLite's write lock while writing files
        for row in pending:
            event_id: uuid.UUID = row.event_id
            payload: dict[str, Any] = row.payload
            context = dict(payload["context"])
            if payload.get("sealed"):
                context.update(json.loads(_fernet(settings).decrypt(payload["sealed"])))
            template, subject, text = render(payload["template"], context)
            if template.channel == "email":
                path = _write_email(settings, event_id, payload["recipient"], subject, text)
            else:
                path = _write_sms(settings, event_id, payload["recipient"], text)
            session.add(
                NotificationDelivery(
                    event_id=event_id,
                    channel=template.channel,
                    template=payload["template"],
                    location=str(path),
                )
            )
            try:
                await session.commit()
                delivered += 1
            except IntegrityError:  # another deliverer recorded it first; same file, no resend
                await session.rollback()
    return delivered
