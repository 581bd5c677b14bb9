"""Send requested account messages right after the response, when inline delivery is on."""

from __future__ import annotations

from fastapi import BackgroundTasks, Depends, Request

from api.notifications.worker import deliver_requested_now


def _deliver_after_response(request: Request, background: BackgroundTasks) -> None:
    state = request.app.state
    if state.settings.deliver_notifications_inline:
        background.add_task(
            deliver_requested_now,
            state.sessionmaker,
            state.settings,
            state.notification_providers,
        )


DeliverNotifications = Depends(_deliver_after_response)
