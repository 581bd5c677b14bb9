"""Every mapped table, imported in one place for Alembic and the schema check."""

from api.audit import AuditEntry
from api.auth.models import AuthSession, PhoneCode, RefreshToken, UserToken
from api.bookings.models import Booking, BookingLine, BookingTransition, Ticket
from api.db import Base
from api.events.models import Category, Event, EventMedia, EventSlug, TicketType
from api.idempotency import IdempotencyRecord
from api.notifications.models import NotificationDelivery
from api.outbox import OutboxEvent
from api.users.models import User

metadata = Base.metadata

__all__ = [
    "AuditEntry",
    "AuthSession",
    "Booking",
    "BookingLine",
    "BookingTransition",
    "Category",
    "Event",
    "EventMedia",
    "EventSlug",
    "IdempotencyRecord",
    "NotificationDelivery",
    "OutboxEvent",
    "PhoneCode",
    "RefreshToken",
    "Ticket",
    "TicketType",
    "User",
    "UserToken",
    "metadata",
]
