"""What the development mailer has delivered, keyed by the outbox event it came from."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, utcnow


class NotificationDelivery(Base):
    __tablename__ = "notification_deliveries"

    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    template: Mapped[str] = mapped_column(String(100))
    location: Mapped[str] = mapped_column(String(500))
    delivered_at: Mapped[datetime] = mapped_column(default=utcnow)
