"""Every mapped table, imported in one place for Alembic and the schema check."""

from api.audit import AuditEntry
from api.auth.models import (
    AuthSession,
    OAuthIdentity,
    OAuthState,
    PhoneCode,
    RefreshToken,
    UserToken,
)
from api.bookings.models import (
    Booking,
    BookingLine,
    BookingReminder,
    BookingTransition,
    Ticket,
    WaitlistEntry,
)
from api.db import Base
from api.events.models import Category, Event, EventMedia, EventSlug, TicketType
from api.idempotency import IdempotencyRecord
from api.notifications.models import (
    Notification,
    NotificationAttempt,
    NotificationPreference,
    NotificationTemplate,
    NotificationTemplateVersion,
    PushSubscription,
)
from api.outbox import OutboxConsumed, OutboxCursor, OutboxEvent
from api.payments.models import (
    Invoice,
    InvoiceCounter,
    LedgerEntry,
    OrganizerFee,
    Payment,
    Refund,
    SandboxIntent,
    SandboxRefund,
    WebhookEvent,
)
from api.users.models import User

metadata = Base.metadata

__all__ = [
    "AuditEntry",
    "AuthSession",
    "Booking",
    "BookingLine",
    "BookingReminder",
    "BookingTransition",
    "Category",
    "Event",
    "EventMedia",
    "EventSlug",
    "IdempotencyRecord",
    "Invoice",
    "InvoiceCounter",
    "LedgerEntry",
    "Notification",
    "NotificationAttempt",
    "NotificationPreference",
    "NotificationTemplate",
    "NotificationTemplateVersion",
    "OAuthIdentity",
    "OAuthState",
    "OrganizerFee",
    "OutboxConsumed",
    "OutboxCursor",
    "OutboxEvent",
    "Payment",
    "PhoneCode",
    "PushSubscription",
    "RefreshToken",
    "Refund",
    "SandboxIntent",
    "SandboxRefund",
    "Ticket",
    "TicketType",
    "User",
    "UserToken",
    "WaitlistEntry",
    "WebhookEvent",
    "metadata",
]
