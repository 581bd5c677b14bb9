"""Notifications: one row per message to one person on one channel, its delivery attempts,
the editable templates (versioned, with A/B variants), preferences and push subscriptions."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Enum,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, BigIntPK, new_id, utcnow


class Channel(enum.StrEnum):
    email = "email"
    sms = "sms"
    push = "push"
    in_app = "in_app"


class Category(enum.StrEnum):
    """What a message is about; preferences are kept per category and channel."""

    account = "account"  # verification, password reset, security notices
    orders = "orders"  # confirmations with tickets, cancellations, refunds, receipts
    event_updates = "event_updates"  # an event you hold tickets for changed or was cancelled
    reminders = "reminders"  # 24 h and 1 h before an event you hold tickets for
    waitlist = "waitlist"  # a seat you waited for is offered to you
    marketing = "marketing"  # new events from organizers you booked with (opt-in)


class NotificationStatus(enum.StrEnum):
    queued = "queued"  # waiting for its first attempt, or for a retry after a passing failure
    sending = "sending"  # a worker holds it (until lease_until)
    sent = "sent"  # the provider accepted it
    delivered = "delivered"  # the provider (or the inbox) says it reached the person
    failed = "failed"  # the provider reported it undeliverable (bounce, unreachable number)
    dead = "dead"  # given up: permanent error or retries exhausted (the dead-letter state)


def _enum(kind: type[enum.StrEnum]) -> Enum:
    return Enum(kind, native_enum=False, length=20, validate_strings=True)


JSONType = JSON()


class Notification(Base):
    __tablename__ = "notifications"
    __outbox_entity__ = "notification"
    # What the message says and where it goes stay in the database: the warehouse gets the facts.
    __outbox_exclude__ = frozenset({"recipient", "context", "sealed", "subject", "body", "error"})
    __table_args__ = (
        Index("ix_notifications_due", "status", "next_attempt_at"),
        Index("ix_notifications_inbox", "user_id", "channel", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # One message per (cause, person, channel): a cause planned twice still sends once.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    trigger: Mapped[str] = mapped_column(String(50), index=True)
    category: Mapped[Category] = mapped_column(_enum(Category))
    channel: Mapped[Channel] = mapped_column(_enum(Channel), index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    locale: Mapped[str] = mapped_column(String(35), default="en")
    campaign: Mapped[str | None] = mapped_column(String(100))
    variant: Mapped[str | None] = mapped_column(String(50))
    template_id: Mapped[uuid.UUID | None]
    template_version: Mapped[int | None]
    event_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    booking_id: Mapped[uuid.UUID | None]
    source_event_id: Mapped[uuid.UUID | None]
    context: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    sealed: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[str]] = mapped_column(JSONType, default=list)
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)  # kept for the in-app inbox only
    status: Mapped[NotificationStatus] = mapped_column(
        _enum(NotificationStatus), default=NotificationStatus.queued, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    provider: Mapped[str | None] = mapped_column(String(30))
    provider_message_id: Mapped[str | None] = mapped_column(String(200), index=True)
    error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class NotificationAttempt(Base):
    """One try at handing a notification to its provider."""

    __tablename__ = "notification_attempts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    notification_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # sent, retry, dead, interrupted (the worker died during it); empty while it runs
    outcome: Mapped[str | None] = mapped_column(String(20))
    provider: Mapped[str | None] = mapped_column(String(30))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(String(1000))


class NotificationTemplate(Base):
    """An editable template for one trigger, channel, locale and A/B variant. Its text is the
    latest of its versions; notifications keep the version they were rendered from."""

    __tablename__ = "notification_templates"
    __outbox_entity__ = "notification_template"
    __table_args__ = (UniqueConstraint("trigger", "channel", "locale", "variant"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    trigger: Mapped[str] = mapped_column(String(50))
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    locale: Mapped[str] = mapped_column(String(35))
    variant: Mapped[str] = mapped_column(String(50), default="default")
    weight: Mapped[int] = mapped_column(default=1)
    active: Mapped[bool] = mapped_column(default=True)
    subject: Mapped[str] = mapped_column(String(300), default="")
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[uuid.UUID | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class NotificationTemplateVersion(Base):
    """Every text a template has had, so a sent message can always be traced to its wording."""

    __tablename__ = "notification_template_versions"
    __table_args__ = (PrimaryKeyConstraint("template_id", "version"),)

    template_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("notification_templates.id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    weight: Mapped[int]
    active: Mapped[bool]
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[uuid.UUID | None]


class NotificationPreference(Base):
    """A person's choice for one category on one channel (absent: the category's default)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (PrimaryKeyConstraint("user_id", "category", "channel"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    category: Mapped[Category] = mapped_column(_enum(Category))
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    enabled: Mapped[bool]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PushSubscription(Base):
    """A browser's Web Push subscription (endpoint and keys, as PushManager.subscribe gives)."""

    __tablename__ = "push_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    endpoint: Mapped[str] = mapped_column(String(2048), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
