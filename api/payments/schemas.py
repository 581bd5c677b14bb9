"""Request and response bodies of the payments domain."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.inputs import Input
from api.payments.models import PaymentStatus, RefundStatus


class PaymentCreate(Input):
    provider: Literal["sandbox", "stripe", "manual"] | None = Field(
        default=None,
        description="Leave out for the platform's card provider; `manual` for bank transfer "
        "or pay at the door",
    )
    payment_method: Annotated[
        str,
        Field(
            min_length=3,
            max_length=100,
            description=(
                "Sandbox: one of Stripe's test cards, by number or token (pm_card_visa, "
                "pm_card_chargeDeclined, pm_card_chargeDeclinedInsufficientFunds, "
                "pm_card_authenticationRequired). Never a real card number. "
                "Manual: bank_transfer or pay_at_door."
            ),
        ),
    ]


class SandboxAuthentication(Input):
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


class RefundCreate(Input):
    amount_cents: Annotated[int, Field(gt=0, le=100_000_000)] | None = Field(
        default=None, description="Minor units to give back; leave out to refund what remains"
    )
    reason: Annotated[str, Field(max_length=300)] | None = None


class RefundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    payment_id: uuid.UUID
    booking_id: uuid.UUID
    amount_cents: int
    currency: str
    status: RefundStatus
    reason: str | None
    provider_ref: str | None
    failure_code: str | None
    created_at: datetime
    succeeded_at: datetime | None


class MarkPaid(Input):
    reference: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="The bank's or box office's reference for the money received"
    )


class WebhookAck(BaseModel):
    received: bool
    duplicate: bool = Field(description="This event was delivered and handled before")


class FeeTerms(Input):
    fee_bps: Annotated[int, Field(ge=0, le=10_000, description="250 is 2.5 % of each payment")]
    fee_fixed_cents: Annotated[int, Field(ge=0, le=100_000)] = 0


class FeeTermsOut(BaseModel):
    organizer_id: uuid.UUID
    fee_bps: int
    fee_fixed_cents: int
    agreed: bool = Field(description="False: the platform's default applies")
