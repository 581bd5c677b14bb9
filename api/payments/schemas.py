"""Request and response bodies of the payments domain."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from api.payments.models import PaymentStatus


class PaymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payment_method: Annotated[
        str,
        Field(
            min_length=3,
            max_length=100,
            description=(
                "Sandbox: one of Stripe's test cards, by number or token (pm_card_visa, "
                "pm_card_chargeDeclined, pm_card_chargeDeclinedInsufficientFunds, "
                "pm_card_authenticationRequired). Never a real card number."
            ),
        ),
    ]


class SandboxAuthentication(BaseModel):
    model_config = ConfigDict(extra="forbid")

    succeed: bool = Field(default=True, description="Pass or fail the 3-D Secure challenge")


class PaymentOut(BaseModel):
    id: uuid.UUID
    booking_id: uuid.UUID
    event_id: uuid.UUID
    provider: str
    provider_ref: str | None
    status: PaymentStatus
    amount_cents: int
    currency: str
    refunded_cents: int
    provider_fee_cents: int
    platform_fee_cents: int
    organizer_payout_cents: int = Field(
        description="What the organizer receives: amount less refunds, provider and platform fees"
    )
    method: str | None
    failure_code: str | None
    failure_message: str | None
    next_action: dict[str, Any] | None
    client_secret: str | None = Field(description="For the payer's browser only")
    created_at: datetime
    succeeded_at: datetime | None
