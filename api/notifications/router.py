"""HTTP routes: the inbox, preferences, push subscriptions, one-click unsubscribe, providers'
delivery callbacks, and the admin's templates and delivery log."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import HTMLResponse

from api.auth.dependencies import AdminDep, CurrentUser
from api.deps import Public, SessionDep, SettingsDep
from api.errors import problem_responses
from api.inputs import Instant
from api.notifications import catalogue, service
from api.notifications.channels import twilio_callback_url, twilio_signature, vapid_public_key
from api.notifications.errors import (
    ProviderNotConfigured,
    PushUnavailable,
    WebhookSignatureInvalid,
)
from api.notifications.models import Channel, Notification, NotificationStatus
from api.notifications.schemas import (
    AdminNotification,
    AdminNotificationDetail,
    AdminNotificationPage,
    AttemptOut,
    BundledTemplate,
    CallbackAck,
    EmailEvent,
    Inbox,
    InboxItem,
    Marked,
    PreferenceOut,
    Preferences,
    PreferencesUpdate,
    PreviewIn,
    PreviewOut,
    PushPublicKey,
    PushSubscriptionIn,
    PushSubscriptionOut,
    TemplateCatalogue,
    TemplateIn,
    TemplateOut,
    TemplateUpdate,
    TemplateVersionOut,
    TriggerInfo,
    Unsubscribed,
)

router = APIRouter(tags=["notifications"], responses=problem_responses(401, 422))
admin = APIRouter(
    prefix="/admin", tags=["admin", "notifications"], responses=problem_responses(401, 403, 422)
)


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
    rows, unread_count = await service.inbox(
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
    n = await service.mark_read(session, user_id=user.id, notification_id=notificationId)
    await session.commit()
    return _inbox_item(n)


@router.post("/notifications/read-all", response_model=Marked)
async def mark_all_read(user: CurrentUser, session: SessionDep) -> Marked:
    """Mark every in-app message of yours as read."""
    marked = await service.mark_all_read(session, user_id=user.id)
    await session.commit()
    return Marked(marked=marked)


# Preferences ----------------------------------------------------------------------------


def _preferences(views: list[service.PreferenceView]) -> Preferences:
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
    return _preferences(await service.preferences(session, user_id=user.id))


@router.put("/users/me/notification-preferences", response_model=Preferences)
async def put_preferences(
    body: PreferencesUpdate, user: CurrentUser, session: SessionDep
) -> Preferences:
    """Switch categories on or off per channel; the ones not named keep their setting."""
    views = await service.set_preferences(
        session,
        user_id=user.id,
        changes=[(p.category, p.channel, p.enabled) for p in body.preferences],
    )
    await session.commit()
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
    key = vapid_public_key(settings)
    if key is None:
        raise PushUnavailable("Push notifications are not configured here.")
    return PushPublicKey(public_key=key)


@router.get("/users/me/push-subscriptions", response_model=list[PushSubscriptionOut])
async def list_push_subscriptions(
    user: CurrentUser, session: SessionDep
) -> list[PushSubscriptionOut]:
    """The browsers you get push notifications on."""
    return [
        PushSubscriptionOut.model_validate(s)
        for s in await service.push_subscriptions(session, user_id=user.id)
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
    if settings.vapid_private_key is None:
        raise PushUnavailable("Push notifications are not configured here.")
    subscription = await service.subscribe_push(
        session,
        user_id=user.id,
        endpoint=body.endpoint,
        p256dh=body.keys.p256dh,
        auth=body.keys.auth,
        user_agent=(request.headers.get("user-agent") or "")[:300] or None,
    )
    await session.commit()
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
    await service.unsubscribe_push(session, user_id=user.id, subscription_id=subscriptionId)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# One-click unsubscribe ------------------------------------------------------------------

Token = Annotated[str, Query(min_length=10, max_length=1000)]


@router.get(
    "/notifications/unsubscribe",
    response_class=HTMLResponse,
    dependencies=[Public],
    responses=problem_responses(422),
)
async def unsubscribe_page(token: Token, settings: SettingsDep) -> HTMLResponse:
    """The page an unsubscribe link opens: one button, so link scanners that follow links do
    not unsubscribe anyone (RFC 8058); mail clients POST instead."""
    service.read_unsubscribe_token(settings, token)
    return HTMLResponse(
        "<!doctype html><html><head><meta charset='utf-8'><title>Unsubscribe</title></head>"
        "<body style='font-family:system-ui;max-width:32em;margin:3em auto'>"
        "<h1>Unsubscribe</h1><p>Stop news about new events from organizers you booked with? "
        "Tickets, receipts and account messages still reach you.</p>"
        f"<form method='post' action='?token={token}'><button>Unsubscribe</button></form>"
        "</body></html>"
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
    category = await service.unsubscribe(session, settings, token=token)
    await session.commit()
    return Unsubscribed(category=category)


# Provider callbacks ---------------------------------------------------------------------


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
    token = settings.twilio_auth_token
    if token is None:
        raise ProviderNotConfigured("Twilio is not configured here.")
    form = {k: str(v) for k, v in (await request.form()).items()}
    expected = twilio_signature(token.get_secret_value(), twilio_callback_url(settings), form)
    given = request.headers.get("x-twilio-signature", "")
    if not hmac.compare_digest(expected, given):
        raise WebhookSignatureInvalid("The X-Twilio-Signature does not match.", field="signature")
    sid, state = form.get("MessageSid", ""), form.get("MessageStatus", "")
    detail = f"Twilio error {form['ErrorCode']}" if form.get("ErrorCode") else None
    notification = await service.apply_callback(
        session, channel=Channel.sms, message_id=sid, state=state, detail=detail
    )
    await session.commit()
    return CallbackAck(
        notification_id=notification.id if notification else None,
        status=notification.status if notification else None,
    )


SIGNATURE_TOLERANCE_SECONDS = 300


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
    if not hmac.compare_digest(expected, parts.get("v1", "")):
        raise WebhookSignatureInvalid("Tessera-Signature does not match.", field="signature")


@router.post(
    "/notifications/webhooks/email",
    response_model=CallbackAck,
    dependencies=[Public],
    responses=problem_responses(403, 404),
)
async def email_event(request: Request, session: SessionDep, settings: SettingsDep) -> CallbackAck:
    """An email provider's report on a message: delivered, bounced, failed or complained
    (signed with the email webhook secret; see `_check_email_signature`)."""
    secret = settings.email_webhook_secret
    if secret is None:
        raise ProviderNotConfigured("Email delivery callbacks are not configured here.")
    body = await request.body()
    _check_email_signature(
        secret.get_secret_value(), request.headers.get("tessera-signature", ""), body
    )
    event = EmailEvent.model_validate_json(body)
    message_id = event.message_id if event.message_id.startswith("<") else f"<{event.message_id}>"
    notification = await service.apply_callback(
        session,
        channel=Channel.email,
        message_id=message_id,
        state=event.event,
        detail=event.detail,
    )
    await session.commit()
    return CallbackAck(
        notification_id=notification.id if notification else None,
        status=notification.status if notification else None,
    )


# Admin: templates -----------------------------------------------------------------------


@admin.get("/notification-templates", response_model=TemplateCatalogue)
async def list_templates(_admin: AdminDep, session: SessionDep) -> TemplateCatalogue:
    """Every trigger with its sample data, the bundled templates, and admins' templates (which
    take precedence for their trigger, channel and locale; several variants make an A/B test)."""
    return TemplateCatalogue(
        templates=[TemplateOut.model_validate(t) for t in await service.list_templates(session)],
        bundled=[
            BundledTemplate(
                trigger=name,
                channel=channel,
                locale=locale,
                subject=w.subject,
                text_body=w.text,
                html_body=w.html,
            )
            for name, spec in catalogue.TRIGGERS.items()
            for (channel, locale), w in spec.wording.items()
        ],
        triggers=[
            TriggerInfo(
                name=name,
                category=spec.category,
                description=spec.description,
                attachments=list(spec.attachments),
                sample=spec.sample,
            )
            for name, spec in catalogue.TRIGGERS.items()
        ],
    )


@admin.post(
    "/notification-templates",
    response_model=TemplateOut,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(409),
)
async def create_template(
    body: TemplateIn, admin_user: AdminDep, session: SessionDep
) -> TemplateOut:
    """A template for a trigger, channel, locale and variant. It must render with the
    trigger's sample data; it is used for messages planned from now on."""
    template = await service.create_template(
        session,
        draft=service.TemplateDraft(**body.model_dump()),
        actor_id=admin_user.id,
    )
    await session.commit()
    return TemplateOut.model_validate(template)


@admin.post("/notification-templates/preview", response_model=PreviewOut)
async def preview_template(body: PreviewIn, _admin: AdminDep, settings: SettingsDep) -> PreviewOut:
    """Render a draft (or, without a text body, the bundled template) with sample data."""
    rendered = service.preview(settings, **body.model_dump())
    return PreviewOut(subject=rendered.subject, text=rendered.text, html=rendered.html)


@admin.get(
    "/notification-templates/{templateId}",
    response_model=TemplateOut,
    responses=problem_responses(404),
)
async def get_template(templateId: uuid.UUID, _admin: AdminDep, session: SessionDep) -> TemplateOut:
    """One template, at its latest version."""
    return TemplateOut.model_validate(
        await service.get_template_or_raise(session, template_id=templateId)
    )


@admin.put(
    "/notification-templates/{templateId}",
    response_model=TemplateOut,
    responses=problem_responses(404),
)
async def update_template(
    templateId: uuid.UUID, body: TemplateUpdate, admin_user: AdminDep, session: SessionDep
) -> TemplateOut:
    """A new version of a template (its wording, A/B weight or whether it is used)."""
    template = await service.get_template_or_raise(session, template_id=templateId)
    template = await service.update_template(
        session,
        template=template,
        changes=body.model_dump(exclude_unset=True),
        actor_id=admin_user.id,
    )
    await session.commit()
    return TemplateOut.model_validate(template)


@admin.get(
    "/notification-templates/{templateId}/versions",
    response_model=list[TemplateVersionOut],
    responses=problem_responses(404),
)
async def template_versions(
    templateId: uuid.UUID, _admin: AdminDep, session: SessionDep
) -> list[TemplateVersionOut]:
    """Every wording the template has had, newest first."""
    await service.get_template_or_raise(session, template_id=templateId)
    return [
        TemplateVersionOut.model_validate(v)
        for v in await service.template_versions(session, template_id=templateId)
    ]


@admin.get(
    "/notification-templates/{templateId}/preview",
    response_model=PreviewOut,
    responses=problem_responses(404),
)
async def preview_saved_template(
    templateId: uuid.UUID, _admin: AdminDep, session: SessionDep, settings: SettingsDep
) -> PreviewOut:
    """A saved template rendered with its trigger's sample data."""
    t = await service.get_template_or_raise(session, template_id=templateId)
    rendered = service.preview(
        settings,
        trigger=t.trigger,
        channel=t.channel,
        locale=t.locale,
        subject=t.subject,
        text_body=t.text_body,
        html_body=t.html_body,
    )
    return PreviewOut(subject=rendered.subject, text=rendered.text, html=rendered.html)


# Admin: the delivery log ----------------------------------------------------------------


@admin.get("/notifications", response_model=AdminNotificationPage)
async def list_notifications(
    _admin: AdminDep,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    notification_status: Annotated[NotificationStatus | None, Query(alias="status")] = None,
    channel: Channel | None = None,
    user_id: uuid.UUID | None = None,
    event_id: uuid.UUID | None = None,
    trigger: Annotated[str | None, Query(max_length=50)] = None,
) -> AdminNotificationPage:
    """Every message, newest first, by status, channel, person, event or trigger."""
    rows, total = await service.list_notifications(
        session,
        page=page,
        page_size=page_size,
        status=notification_status,
        channel=channel,
        user_id=user_id,
        event_id=event_id,
        trigger=trigger,
    )
    return AdminNotificationPage(
        items=[AdminNotification.model_validate(n) for n in rows],
        total=total,
        page=page,
        page_size=page_size,
    )


async def _detail(session: SessionDep, notification_id: uuid.UUID) -> AdminNotificationDetail:
    n = await service.get_or_raise(session, notification_id=notification_id)
    return AdminNotificationDetail(
        **AdminNotification.model_validate(n).model_dump(),
        delivery_attempts=[
            AttemptOut.model_validate(a)
            for a in await service.attempts(session, notification_id=n.id)
        ],
    )


@admin.get(
    "/notifications/{notificationId}",
    response_model=AdminNotificationDetail,
    responses=problem_responses(404),
)
async def get_notification(
    notificationId: uuid.UUID, _admin: AdminDep, session: SessionDep
) -> AdminNotificationDetail:
    """One message with each delivery attempt."""
    return await _detail(session, notificationId)


@admin.post(
    "/notifications/{notificationId}/retry",
    response_model=AdminNotificationDetail,
    responses=problem_responses(404, 409),
)
async def retry_notification(
    notificationId: uuid.UUID, _admin: AdminDep, session: SessionDep
) -> AdminNotificationDetail:
    """Queue a dead-lettered message again, with a fresh set of attempts."""
    n = await service.get_or_raise(session, notification_id=notificationId)
    await service.retry(session, notification=n)
    await session.commit()
    return await _detail(session, notificationId)
