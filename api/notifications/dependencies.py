"""Send requested account messages right after the response, when inline delivery is on.

api/main.py hooks `deliver_after_response` into the auth routes that ask for account messages
(auth sits below notifications and cannot name it)."""

from __future__ import annotations

from fastapi import BackgroundTasks, Depends, Request

from api.notifications.worker import deliver_requested_now


async def deliver_after_response(request: Request, background: BackgroundTasks) -> None:
    state = request.app.state
    if state.settings.deliver_notifications_inline:
        background.add_task(
            deliver_requested_now,
            state.sessionmaker,
            state.settings,
            state.notification_providers,
        )


DeliverNotifications = Depends(deliver_after_response)
