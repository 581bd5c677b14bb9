"""HTTP routes the providers call with what became of a message (delivered, bounced, failed).

`router.py` includes these routes under its tag and common answers."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import Public, SessionDep, SettingsDep
from api.errors import problem_responses
from api.notifications import callbacks
from api.notifications.models import Notification
from api.notifications.schemas import CallbackAck

router = APIRouter()


def _ack(notification: Notification | None) -> CallbackAck:
    return CallbackAck(
        notification_id=notification.id if notification else None,
        status=notification.status if notification else None,
    )


@router.post(
    "/notifications/webhooks/twilio",
    response_model=CallbackAck,
    dependencies=[Public],
    responses=problem_responses(403, 404),
)
async def twilio_status(
    request: Request, session: SessionDep, settings: SettingsDep
) -> CallbackAck:
    """Twilio's status callback for a text message (form-encoded, `X-Twilio-Signature`):
    delivered, or undelivered and failed with Twilio's error code."""

    async def form() -> dict[str, str]:
        return {k: str(v) for k, v in (await request.form()).items()}

    notification = await callbacks.twilio_status(
        session,
        settings,
        signature=request.headers.get("x-twilio-signature", ""),
        read_form=form,
    )
    return _ack(notification)


@router.post(
    "/notifications/webhooks/email",
    response_model=CallbackAck,
    dependencies=[Public],
    responses=problem_responses(403, 404),
)
async def email_event(request: Request, session: SessionDep, settings: SettingsDep) -> CallbackAck:
    """An email provider's report on a message: delivered, bounced, failed or complained
    (signed with the email webhook secret; see `_check_email_signature`)."""
    notification = await callbacks.email_event(
        session,
        settings,
        signature=request.headers.get("tessera-signature", ""),
        read_body=request.body,
    )
    return _ack(notification)
