"""What providers report about messages they accepted: delivered, bounced or failed.

Each report is authenticated (Twilio's `X-Twilio-Signature`, our `Tessera-Signature` for email
providers) before it changes anything.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.config import Settings
from api.db import utcnow
from api.inputs import same_text
from api.notifications.channels import twilio_callback_url, twilio_signature
from api.notifications.errors import ProviderNotConfigured, WebhookSignatureInvalid
from api.notifications.models import Channel, Notification, NotificationStatus
from api.notifications.schemas import EmailEvent

CALLBACK_STATES = {
    "delivered": NotificationStatus.delivered,
    "bounced": NotificationStatus.failed,
    "failed": NotificationStatus.failed,
    "undelivered": NotificationStatus.failed,
    "complained": NotificationStatus.failed,
}
SIGNATURE_TOLERANCE_SECONDS = 300


async def apply_callback(
    session: AsyncSession, *, channel: Channel, message_id: str, state: str, detail: str | None
) -> Notification | None:
    """Record what the provider learned about a message it accepted. A late `delivered`
    never overrides a failure, and repeated callbacks change nothing."""
    notification = await session.scalar(
        select(Notification).where(
            Notification.channel == channel, Notification.provider_message_id == message_id
        )
    )
    target = CALLBACK_STATES.get(state)
    if notification is None or target is None:
        return notification
    if notification.status not in (NotificationStatus.sent, NotificationStatus.delivered):
        return notification
    if notification.status == target:
        return notification
    now = utcnow()
    if target == NotificationStatus.delivered:
        if notification.status != NotificationStatus.sent:
            return notification
        notification.delivered_at = now
    else:
        notification.failed_at = now
        notification.error = f"{state}: {detail}" if detail else state
    notification.status = target
    await outbox.record(session, f"notification.{target.value}", notification)
    return notification


async def twilio_status(
    session: AsyncSession,
    settings: Settings,
    *,
    signature: str,
    read_form: Callable[[], Awaitable[dict[str, str]]],
) -> Notification | None:
    """Twilio's status callback for a text message, checked and recorded (committed). The form
    is read only once Twilio is known to be configured."""
    token = settings.twilio_auth_token
    if token is None:
        raise ProviderNotConfigured("Twilio is not configured here.")
    form = await read_form()
    expected = twilio_signature(token.get_secret_value(), twilio_callback_url(settings), form)
    if not same_text(expected, signature):
        raise WebhookSignatureInvalid("The X-Twilio-Signature does not match.", field="signature")
    sid, state = form.get("MessageSid", ""), form.get("MessageStatus", "")
    detail = f"Twilio error {form['ErrorCode']}" if form.get("ErrorCode") else None
    notification = await apply_callback(
        session, channel=Channel.sms, message_id=sid, state=state, detail=detail
    )
    await session.commit()
    return notification


def _check_email_signature(secret: str, header: str, body: bytes) -> None:
    """`Tessera-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        stamp = int(parts["t"])
    except (KeyError, ValueError) as exc:
        raise WebhookSignatureInvalid("Tessera-Signature is missing.", field="signature") from exc
    if abs(time.time() - stamp) > SIGNATURE_TOLERANCE_SECONDS:
        raise WebhookSignatureInvalid("Tessera-Signature is too old.", field="signature")
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not same_text(expected, parts.get("v1", "")):
        raise WebhookSignatureInvalid("Tessera-Signature does not match.", field="signature")


async def email_event(
    session: AsyncSession,
    settings: Settings,
    *,
    signature: str,
    read_body: Callable[[], Awaitable[bytes]],
) -> Notification | None:
    """An email provider's signed report on a message (see `_check_email_signature`), checked
    and recorded (committed). The body is read only once callbacks are configured."""
    secret = settings.email_webhook_secret
    if secret is None:
        raise ProviderNotConfigured("Email delivery callbacks are not configured here.")
    body = await read_body()
    _check_email_signature(secret.get_secret_value(), signature, body)
    event = EmailEvent.model_validate_json(body)
    message_id = event.message_id if event.message_id.startswith("<") else f"<{event.message_id}>"
    notification = await apply_callback(
        session,
        channel=Channel.email,
        message_id=message_id,
        state=event.event,
        detail=event.detail,
    )
    await session.commit()
    return notification
