"""Stripe, through its official SDK. (The module is not called `stripe` so that it never
stands in for the SDK.)"""

from __future__ import annotations

import dataclasses
from typing import Any

import stripe

from api.payments.errors import UnknownStripeMethod
from api.payments.models import PaymentStatus, RefundStatus
from api.payments.providers.base import PaymentRequest, ProviderPayment, ProviderRefund


class StripeProvider:
    """Stripe through its official SDK. The buyer's browser turns card (or wallet) details into
    a PaymentMethod with Stripe.js, so card data never reaches us (PCI SAQ-A); we create and
    confirm a PaymentIntent with automatic payment methods, our idempotency key and the booking
    in its metadata. 3-D Secure and other asynchronous outcomes arrive through webhooks."""

    name = "stripe"

    def __init__(self, api_key: str, api_base: str | None = None) -> None:
        self._http = stripe.HTTPXClient(allow_sync_methods=False)
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=self._http,
            max_network_retries=2,
        )

    async def aclose(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]

    def check(self, payment_method: str) -> None:
        if not payment_method.startswith("pm_"):
            raise UnknownStripeMethod(
                "Stripe payments take a PaymentMethod id (pm_...) made by Stripe.js in the "
                "buyer's browser; card numbers never reach Tessera.",
                field="payment_method",
            )

    def _view(self, intent: Any) -> ProviderPayment:
        status = STRIPE_STATUSES.get(intent.status, PaymentStatus.pending)
        error = getattr(intent, "last_payment_error", None)
        if intent.status in ("requires_payment_method", "canceled") and (
            error or intent.status == "canceled"
        ):
            status = PaymentStatus.failed
        charge = getattr(intent, "latest_charge", None)
        txn = getattr(charge, "balance_transaction", None)
        fee = int(getattr(txn, "fee", 0) or 0)
        card = getattr(getattr(charge, "payment_method_details", None), "card", None) or getattr(
            getattr(intent, "payment_method", None), "card", None
        )
        method = f"{card.brand} •••• {card.last4}" if card is not None else None
        failed = status == PaymentStatus.failed
        return ProviderPayment(
            ref=intent.id,
            status=status,
            fee_cents=fee,
            method=method,
            failure_code=(
                getattr(error, "decline_code", None) or getattr(error, "code", None) or "canceled"
            )
            if failed
            else None,
            failure_message=getattr(error, "message", None) if failed else None,
            client_secret=intent.client_secret,
            next_action=(
                {"type": "use_stripe_sdk", "client_secret": intent.client_secret}
                if status == PaymentStatus.requires_action
                else None
            ),
        )

    async def create(self, request: PaymentRequest) -> ProviderPayment:
        try:
            intent = await self._client.v1.payment_intents.create_async(
                {
                    "amount": request.amount_cents,
                    "currency": request.currency.lower(),
                    "payment_method": request.payment_method,
                    "confirm": True,
                    "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
                    "metadata": request.metadata,
                },
                {"idempotency_key": request.idempotency_key},
            )
        except stripe.CardError as exc:
            body: dict[str, Any] = exc.json_body if isinstance(exc.json_body, dict) else {}
            error = body.get("error", {})
            intent_id = (error.get("payment_intent") or {}).get("id")
            if intent_id:
                return await self.retrieve(intent_id)
            return ProviderPayment(
                ref="",
                status=PaymentStatus.failed,
                failure_code=error.get("decline_code") or exc.code or "card_declined",
                failure_message=exc.user_message,
            )
        return await self.retrieve(intent.id)

    async def retrieve(self, ref: str) -> ProviderPayment:
        intent = await self._client.v1.payment_intents.retrieve_async(
            ref, {"expand": ["latest_charge.balance_transaction", "payment_method"]}
        )
        return self._view(intent)

    async def refund(self, *, ref: str, amount_cents: int, idempotency_key: str) -> ProviderRefund:
        try:
            refund = await self._client.v1.refunds.create_async(
                {
                    "payment_intent": ref,
                    "amount": amount_cents,
                    "metadata": {"refund_id": idempotency_key},
                },
                {"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError as exc:
            return ProviderRefund(
                ref="", status=RefundStatus.failed, failure_code=exc.code or "invalid_request"
            )
        return self._refund_view(refund)

    def _refund_view(self, refund: Any) -> ProviderRefund:
        status = {
            "succeeded": RefundStatus.succeeded,
            "failed": RefundStatus.failed,
            "canceled": RefundStatus.failed,
        }.get(refund.status or "", RefundStatus.pending)
        failure = getattr(refund, "failure_reason", None) if status == RefundStatus.failed else None
        intent = getattr(refund, "payment_intent", None)
        return ProviderRefund(
            ref=refund.id,
            status=status,
            failure_code=failure,
            payment_ref=str(getattr(intent, "id", intent)) if intent else None,
            amount_cents=int(refund.amount) if getattr(refund, "amount", None) else None,
        )

    async def retrieve_refund(self, ref: str) -> tuple[str | None, ProviderRefund]:
        """Our refund's id (from the metadata we sent; none for a refund made in Stripe's
        dashboard) and the refund as Stripe has it now."""
        refund = await self._client.v1.refunds.retrieve_async(ref)
        metadata = getattr(refund, "metadata", None)
        ours = getattr(metadata, "refund_id", None) if metadata is not None else None
        view = self._refund_view(refund)
        if view.payment_ref is None and getattr(refund, "charge", None):
            charge = await self._client.v1.charges.retrieve_async(str(refund.charge))
            view = dataclasses.replace(view, payment_ref=str(charge.payment_intent))
        return (str(ours) if ours else None), view

    async def refunds_of_charge(self, charge_id: str) -> list[str]:
        """The refunds of a charge (a `charge.refunded` event names the charge only)."""
        found = await self._client.v1.refunds.list_async({"charge": charge_id, "limit": 100})
        return [str(refund.id) for refund in found.data]

    async def dispute_amount(self, dispute_id: str) -> tuple[str, int]:
        """The payment intent and amount of a dispute, read again from Stripe."""
        dispute = await self._client.v1.disputes.retrieve_async(dispute_id)
        return str(dispute.payment_intent), int(dispute.amount)


STRIPE_STATUSES = {
    "requires_payment_method": PaymentStatus.requires_action,
    "requires_confirmation": PaymentStatus.requires_action,
    "requires_action": PaymentStatus.requires_action,
    "processing": PaymentStatus.processing,
    "requires_capture": PaymentStatus.processing,
    "succeeded": PaymentStatus.succeeded,
    "canceled": PaymentStatus.failed,
}
