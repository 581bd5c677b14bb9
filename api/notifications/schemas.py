"""Request and response bodies of notifications, preferences, templates and callbacks."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.inputs import Input, Patch, example
from api.notifications.models import Category, Channel, NotificationStatus

TEMPLATE_TEXT = "Hallo {{ name }},\n\ndu bist dabei: {{ event_title }}. Deine Tickets hängen an."
Locale = Field(
    default="en", min_length=2, max_length=35, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
)


class PreferenceOut(BaseModel):
    category: Category
    channel: Channel
    enabled: bool
    mandatory: bool = Field(description="Transactional: cannot be switched off")
    default: bool
    description: str


class Preferences(BaseModel):
    preferences: list[PreferenceOut]


class PreferenceChange(Input):
    identity = ("category", "channel")

    category: Category
    channel: Channel
    enabled: bool


class PreferencesUpdate(Input):
    model_config = example(
        {"preferences": [{"category": "marketing", "channel": "email", "enabled": False}]}
    )

    preferences: list[PreferenceChange] = Field(min_length=1, max_length=50)


class InboxItem(BaseModel):
    id: uuid.UUID
    trigger: str
    title: str | None
    body: str | None
    event_id: uuid.UUID | None
    booking_id: uuid.UUID | None
    created_at: datetime
    read_at: datetime | None


class Inbox(BaseModel):
    items: list[InboxItem]
    unread: int
    next_before: datetime | None = Field(
        description="Pass as `before` for older messages; empty on the last page"
    )


class Marked(BaseModel):
    marked: int


class PushKeys(Input):
    p256dh: str = Field(min_length=20, max_length=200)
    auth: str = Field(min_length=8, max_length=100)


class PushSubscriptionIn(BaseModel):
    """What the browser's PushManager.subscribe() gives (PushSubscription.toJSON())."""

    model_config = example(
        {
            "endpoint": "https://fcm.googleapis.com/fcm/send/dQw4w9WgXcQ:APA91bH8kX2",
            "keys": {
                "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u"
                "-Ts1XbjhazAkj7I99e8QcYP7DkM",
                "auth": "tBHItJI5svbpez7KI4CCXg",
            },
        },
        extra="ignore",
    )

    endpoint: str = Field(min_length=10, max_length=2048, pattern=r"^https?://")
    keys: PushKeys


class PushSubscriptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    endpoint: str
    created_at: datetime


class PushPublicKey(BaseModel):
    public_key: str = Field(description="The VAPID key, for PushManager.subscribe()")


class Unsubscribed(BaseModel):
    category: Category
    unsubscribed: bool = True


class TemplateIn(Input):
    model_config = example(
        {
            "trigger": "booking_confirmed",
            "channel": "email",
            "locale": "de",
            "subject": "Deine Tickets für {{ event_title }}",
            "text_body": TEMPLATE_TEXT,
        }
    )

    trigger: str = Field(min_length=1, max_length=50)
    channel: Channel
    locale: str = Locale
    variant: str = Field(default="default", min_length=1, max_length=50, pattern=r"^[\w.-]+$")
    weight: int = Field(default=1, ge=0, le=10_000, description="A/B share among variants")
    active: bool = True
    subject: str = Field(default="", max_length=300)
    text_body: str = Field(min_length=1, max_length=50_000)
    html_body: str | None = Field(default=None, max_length=200_000)


class TemplateUpdate(Patch):
    model_config = example({"subject": "Deine Tickets für {{ event_title }}", "weight": 3})

    clearable = frozenset({"html_body"})

    weight: int | None = Field(default=None, ge=0, le=10_000)
    active: bool | None = None
    subject: str | None = Field(default=None, max_length=300)
    text_body: str | None = Field(default=None, min_length=1, max_length=50_000)
    html_body: str | None = Field(default=None, max_length=200_000)


class TemplateOut(BaseModel):
    model_config = example(
        {
            "id": "0d4c8b2a-6e1f-4a9d-b7c3-5e2f8a1d9c46",
            "trigger": "booking_confirmed",
            "channel": "email",
            "locale": "de",
            "variant": "default",
            "weight": 1,
            "active": True,
            "subject": "Deine Tickets für {{ event_title }}",
            "text_body": TEMPLATE_TEXT,
            "html_body": "<p>Hallo {{ name }},</p><p>du bist dabei: {{ event_title }}.</p>",
            "version": 2,
            "created_at": "2027-01-10T09:00:00+01:00",
            "updated_at": "2027-03-04T15:30:00+01:00",
        },
        from_attributes=True,
    )

    id: uuid.UUID
    trigger: str
    channel: Channel
    locale: str
    variant: str
    weight: int
    active: bool
    subject: str
    text_body: str
    html_body: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class TemplateVersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    weight: int
    active: bool
    subject: str
    text_body: str
    html_body: str | None
    created_at: datetime
    created_by: uuid.UUID | None


class BundledTemplate(BaseModel):
    trigger: str
    channel: Channel
    locale: str
    subject: str
    text_body: str
    html_body: str | None


class TriggerInfo(BaseModel):
    name: str
    category: Category
    description: str
    attachments: list[str]
    sample: dict[str, Any]


class TemplateCatalogue(BaseModel):
    templates: list[TemplateOut] = Field(description="Admins' templates, which take precedence")
    bundled: list[BundledTemplate] = Field(description="The defaults shipped with Tessera")
    triggers: list[TriggerInfo]


class PreviewIn(Input):
    model_config = example({"trigger": "booking_confirmed", "channel": "email", "locale": "de"})

    trigger: str = Field(min_length=1, max_length=50)
    channel: Channel
    locale: str = Locale
    subject: str | None = Field(default=None, max_length=300)
    text_body: str | None = Field(
        default=None, max_length=50_000, description="Empty: preview the bundled template"
    )
    html_body: str | None = Field(default=None, max_length=200_000)


class PreviewOut(BaseModel):
    subject: str
    text: str
    html: str | None


class AdminNotification(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID | None
    trigger: str
    category: Category
    channel: Channel
    recipient: str
    locale: str
    campaign: str | None
    variant: str | None
    template_id: uuid.UUID | None
    template_version: int | None
    event_id: uuid.UUID | None
    booking_id: uuid.UUID | None
    attachments: list[str]
    status: NotificationStatus
    attempts: int
    next_attempt_at: datetime
    provider: str | None
    provider_message_id: str | None
    error: str | None
    subject: str | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None
    read_at: datetime | None


class AdminNotificationPage(BaseModel):
    items: list[AdminNotification]
    total: int
    page: int
    page_size: int


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None
    provider: str | None
    provider_message_id: str | None
    error: str | None


class AdminNotificationDetail(AdminNotification):
    delivery_attempts: list[AttemptOut]


class EmailEvent(BaseModel):
    """An email provider's report on a message it accepted (signed, see the route)."""

    model_config = ConfigDict(extra="ignore")

    message_id: str = Field(min_length=1, max_length=200, description="The Message-ID we sent")
    event: Literal["delivered", "bounced", "failed", "complained"]
    detail: str | None = Field(default=None, max_length=1000)


class CallbackAck(BaseModel):
    received: bool = True
    notification_id: uuid.UUID | None
    status: NotificationStatus | None
