"""HTTP routes of a person's messages: the inbox, preferences, push subscriptions and one-click
unsubscribe; with the providers' delivery callbacks (`callbacks_router`) and, for api/main.py,
the admin's templates and delivery log (`admin_router`)."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import RedirectResponse

from api.auth.dependencies import CurrentUser
from api.deps import Public, SessionDep, SettingsDep
from api.errors import problem_responses
from api.inputs import Instant
from api.notifications import callbacks_router, catalogue
from api.notifications import inbox as inbox_service
from api.notifications import preferences as preferences_service
from api.notifications import push as push_service
from api.notifications.admin_router import admin
from api.notifications.models import Notification
from api.notifications.schemas import (
    Inbox,
    InboxItem,
    Marked,
    PreferenceOut,
    Preferences,
    PreferencesUpdate,
    PushPublicKey,
    PushSubscriptionIn,
    PushSubscriptionOut,
    Unsubscribed,
)

__all__ = ["admin", "router"]

router = APIRouter(tags=["notifications"], responses=problem_responses(401, 422))


# The inbox ------------------------------------------------------------------------------


def _inbox_item(n: Notification) -> InboxItem:
    return InboxItem(
        id=n.id,
        trigger=n.trigger,
        title=n.subject,
        body=n.body,
        event_id=n.event_id,
        booking_id=n.booking_id,
        created_at=n.created_at,
        read_at=n.read_at,
    )


@router.get("/notifications", response_model=Inbox)
async def inbox(
    user: CurrentUser,
    session: SessionDep,
    unread: Annotated[bool, Query(description="Only messages not yet read")] = False,
    before: Instant | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Inbox:
    """Your in-app messages, newest first, and how many are unread."""
    rows, unread_count = await inbox_service.inbox(
        session, user_id=user.id, unread_only=unread, before=before, limit=limit
    )
    return Inbox(
        items=[_inbox_item(n) for n in rows],
        unread=unread_count,
        next_before=rows[-1].created_at if len(rows) == limit else None,
    )


@router.post(
    "/notifications/{notificationId}/read",
    response_model=InboxItem,
    responses=problem_responses(404),
)
async def mark_read(notificationId: uuid.UUID, user: CurrentUser, session: SessionDep) -> InboxItem:
    """Mark one of your in-app messages as read (again: no change)."""
    n = await inbox_service.mark_read(session, user_id=user.id, notification_id=notificationId)
    return _inbox_item(n)


@router.post("/notifications/read-all", response_model=Marked)
async def mark_all_read(user: CurrentUser, session: SessionDep) -> Marked:
    """Mark every in-app message of yours as read."""
    return Marked(marked=await inbox_service.mark_all_read(session, user_id=user.id))


# Preferences ----------------------------------------------------------------------------


def _preferences(views: list[preferences_service.PreferenceView]) -> Preferences:
    return Preferences(
        preferences=[
            PreferenceOut(
                category=v.category,
                channel=v.channel,
                enabled=v.enabled,
                mandatory=v.mandatory,
                default=v.default,
                description=catalogue.CATEGORIES[v.category].description,
            )
            for v in views
        ]
    )


@router.get("/users/me/notification-preferences", response_model=Preferences)
async def get_preferences(user: CurrentUser, session: SessionDep) -> Preferences:
    """What you get on which channel. Transactional email (tickets, receipts, account security)
    is always on; marketing is off until you opt in."""
    return _preferences(await preferences_service.preferences(session, user_id=user.id))


@router.put("/users/me/notification-preferences", response_model=Preferences)
async def put_preferences(
    body: PreferencesUpdate, user: CurrentUser, session: SessionDep
) -> Preferences:
    """Switch categories on or off per channel; the ones not named keep their setting."""
    views = await preferences_service.change_preferences(
        session,
        user_id=user.id,
        changes=[(p.category, p.channel, p.enabled) for p in body.preferences],
    )
    return _preferences(views)


# Push -----------------------------------------------------------------------------------


@router.get(
    "/notifications/push/public-key",
    response_model=PushPublicKey,
    dependencies=[Public],
    responses=problem_responses(422),
)
async def push_public_key(settings: SettingsDep) -> PushPublicKey:
    """The VAPID public key browsers subscribe with (`applicationServerKey`)."""
    return PushPublicKey(public_key=push_service.public_key(settings))


@router.get("/users/me/push-subscriptions", response_model=list[PushSubscriptionOut])
async def list_push_subscriptions(
    user: CurrentUser, session: SessionDep
) -> list[PushSubscriptionOut]:
    """The browsers you get push notifications on."""
    return [
        PushSubscriptionOut.model_validate(s)
        for s in await push_service.push_subscriptions(session, user_id=user.id)
    ]


@router.post(
    "/users/me/push-subscriptions",
    response_model=PushSubscriptionOut,
    status_code=status.HTTP_201_CREATED,
)
async def add_push_subscription(
    body: PushSubscriptionIn,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> PushSubscriptionOut:
    """Get push notifications on this browser (send what PushManager.subscribe() gave)."""
    subscription = await push_service.subscribe_push(
        session,
        settings,
        user_id=user.id,
        endpoint=body.endpoint,
        p256dh=body.keys.p256dh,
        auth=body.keys.auth,
        user_agent=(request.headers.get("user-agent") or "")[:300] or None,
    )
    return PushSubscriptionOut.model_validate(subscription)


@router.delete(
    "/users/me/push-subscriptions/{subscriptionId}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404),
)
async def remove_push_subscription(
    subscriptionId: uuid.UUID, user: CurrentUser, session: SessionDep
) -> Response:
    """Stop push notifications on one browser."""
    await push_service.unsubscribe_push(session, user_id=user.id, subscription_id=subscriptionId)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# One-click unsubscribe ------------------------------------------------------------------

Token = Annotated[str, Query(min_length=10, max_length=1000)]


@router.get(
    "/notifications/unsubscribe",
    status_code=status.HTTP_303_SEE_OTHER,
    response_class=RedirectResponse,
    dependencies=[Public],
    responses={
        **problem_responses(422),
        303: {"description": "To the unsubscribe page, which asks before it unsubscribes"},
    },
)
async def unsubscribe_page(token: Token, settings: SettingsDep) -> RedirectResponse:
    """Where a browser that opens the `List-Unsubscribe` address lands: the account area's
    unsubscribe page, with one button, so link scanners that follow links do not unsubscribe
    anyone (RFC 8058); mail clients POST here instead."""
    preferences_service.read_unsubscribe_token(settings, token)
    return RedirectResponse(
        f"/account/unsubscribe?{urlencode({'token': token})}",
        status_code=status.HTTP_303_SEE_OTHER,
    )


@router.post(
    "/notifications/unsubscribe",
    response_model=Unsubscribed,
    dependencies=[Public],
    responses=problem_responses(422),
)
async def unsubscribe(token: Token, session: SessionDep, settings: SettingsDep) -> Unsubscribed:
    """One-click unsubscribe (RFC 8058 `List-Unsubscribe-Post`): the signed link is the
    credential; it switches off every optional channel of its category."""
    category = await preferences_service.unsubscribe(session, settings, token=token)
    return Unsubscribed(category=category)


# Provider callbacks: their own module, under this router's tag and common answers.
router.include_router(callbacks_router.router)
