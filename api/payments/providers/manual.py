"""Manual payments: bank transfer or pay at the door, confirmed by finance."""

from __future__ import annotations

from api.payments.errors import UnknownManualMethod
from api.payments.models import PaymentStatus, RefundStatus
from api.payments.providers.base import PaymentRequest, ProviderPayment, ProviderRefund

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

    async def create(self, request: PaymentRequest) -> ProviderPayment:
        method = request.payment_method
        self.check(method)
        reference = f"TSR-{request.idempotency_key[:8].upper()}"
        return ProviderPayment(
            ref=f"manual_{request.idempotency_key}",
            status=PaymentStatus.processing,
            method=method,
            next_action={
                "type": method,
                "reference": reference,
                "instructions": MANUAL_METHODS[method],
            },
        )

    async def retrieve(self, ref: str) -> ProviderPayment:
        return ProviderPayment(ref=ref, status=PaymentStatus.processing)

    async def refund(self, *, ref: str, amount_cents: int, idempotency_key: str) -> ProviderRefund:
        return ProviderRefund(ref=f"manual_refund_{idempotency_key}", status=RefundStatus.succeeded)
