"""Request and response bodies of the payments domain."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api.inputs import Input, example
from api.payments.models import PaymentStatus, RefundStatus

PAYMENT_ID = "8c3f5e2a-9d1b-4a7c-b6e4-2f0d1c9b8a73"
BOOKING_ID = "6e1a9d4c-7b2f-4d3e-8a5c-9f0b1e2d3c4a"


class PaymentCreate(Input):
    model_config = example({"payment_method": "4242 4242 4242 4242"})

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
    model_config = example({"succeed": True})

    succeed: bool = Field(default=True, description="Pass or fail the 3-D Secure challenge")


class PaymentOut(BaseModel):
    model_config = example(
        {
            "id": PAYMENT_ID,
            "booking_id": BOOKING_ID,
            "event_id": "3f1c6d2e-8a4b-4c1e-9f7a-2b5d0c9e1a77",
            "provider": "sandbox",
            "provider_ref": "pi_sandbox_3b9f0c2e71d4a8e6f5b2c1d0",
            "status": "succeeded",
            "amount_cents": 5000,
            "currency": "EUR",
            "refunded_cents": 0,
            "provider_fee_cents": 95,
            "platform_fee_cents": 125,
            "organizer_payout_cents": 4780,
            "method": "visa •••• 4242",
            "failure_code": None,
            "failure_message": None,
            "next_action": None,
            "client_secret": None,
            "created_at": "2027-05-20T20:15:02+02:00",
            "succeeded_at": "2027-05-20T20:16:41+02:00",
        }
    )

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
    model_config = example({"amount_cents": 2500, "reason": "One of the two guests cannot come"})

    amount_cents: Annotated[int, Field(gt=0, le=100_000_000)] | None = Field(
        default=None, description="Minor units to give back; leave out to refund what remains"
    )
    reason: Annotated[str, Field(max_length=300)] | None = None


class RefundOut(BaseModel):
    model_config = example(
        {
            "id": "4a7d2e9f-6c3b-4e1a-9d8c-5b2f0e1a3c96",
            "payment_id": PAYMENT_ID,
            "booking_id": BOOKING_ID,
            "amount_cents": 2500,
            "currency": "EUR",
            "status": "succeeded",
            "reason": "One of the two guests cannot come",
            "provider_ref": "re_sandbox_7d1e4a9c2b5f8e0a3c6d9b1f",
            "failure_code": None,
            "created_at": "2027-06-02T11:20:00+02:00",
            "succeeded_at": "2027-06-02T11:20:03+02:00",
        },
        from_attributes=True,
    )

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
    model_config = example({"reference": "SEPA EREF-2027-0520-4417"})

    reference: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="The bank's or box office's reference for the money received"
    )


class WebhookAck(BaseModel):
    received: bool
    duplicate: bool = Field(description="This event was delivered and handled before")


class FeeTerms(Input):
    model_config = example({"fee_bps": 250, "fee_fixed_cents": 30})

    fee_bps: Annotated[int, Field(ge=0, le=10_000, description="250 is 2.5 % of each payment")]
    fee_fixed_cents: Annotated[int, Field(ge=0, le=100_000)] = 0


class FeeTermsOut(BaseModel):
    model_config = example(
        {
            "organizer_id": "7a2e9c41-5b3d-4f8e-a1c6-0d9b8e7f6a52",
            "fee_bps": 250,
            "fee_fixed_cents": 30,
            "agreed": True,
        }
    )

    organizer_id: uuid.UUID
    fee_bps: int
    fee_fixed_cents: int
    agreed: bool = Field(description="False: the platform's default applies")
