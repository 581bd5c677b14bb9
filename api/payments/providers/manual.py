"""Manual payments: bank transfer or pay at the door, confirmed by finance."""

from __future__ import annotations

from api.payments.errors import UnknownManualMethod
from api.payments.models import PaymentStatus, RefundStatus
from api.payments.providers.base import ProviderPayment, ProviderRefund

MANUAL_METHODS = {
    "bank_transfer": "Transfer the amount to the organizer's account with the reference shown.",
    "pay_at_door": "Pay at the box office before the event; show the reference.",
}


class ManualProvider:
    """Bank transfer or pay at the door: nothing is charged here. The payment waits
    (`processing`) until finance marks it paid; refunds are paid out by finance and recorded."""

    name = "manual"

    def check(self, payment_method: str) -> None:
        if payment_method not in MANUAL_METHODS:
            raise UnknownManualMethod(
                f"Manual payments are one of: {', '.join(MANUAL_METHODS)}.",
                field="payment_method",
            )

    async def create(
        self,
        *,
        amount_cents: int,
        currency: str,
        payment_method: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> ProviderPayment:
        self.check(payment_method)
        reference = f"TSR-{idempotency_key[:8].upper()}"
        return ProviderPayment(
            ref=f"manual_{idempotency_key}",
            status=PaymentStatus.processing,
            method=payment_method,
            next_action={
                "type": payment_method,
                "reference": reference,
                "instructions": MANUAL_METHODS[payment_method],
            },
        )

    async def retrieve(self, ref: str) -> ProviderPayment:
        return ProviderPayment(ref=ref, status=PaymentStatus.processing)

    async def refund(self, *, ref: str, amount_cents: int, idempotency_key: str) -> ProviderRefund:
        return ProviderRefund(ref=f"manual_refund_{idempotency_key}", status=RefundStatus.succeeded)
