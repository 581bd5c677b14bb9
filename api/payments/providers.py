"""Payment providers behind one interface: the sandbox now; Stripe and manual payments next.

A provider is another party's server. We call it outside our own transactions, always with an
idempotency key (our payment id), so a call repeated after a crash finds the first one's result
instead of charging twice.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Protocol

import stripe
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.config import Settings
from api.payments.errors import UnknownManualMethod, UnknownStripeMethod, UnknownTestCard
from api.payments.models import PaymentStatus, RefundStatus, SandboxIntent, SandboxRefund


@dataclass(frozen=True)
class ProviderPayment:
    """A provider's payment as it stands now."""

    ref: str
    status: PaymentStatus
    fee_cents: int = 0
    method: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    client_secret: str | None = None
    next_action: dict[str, Any] | None = field(default=None)


@dataclass(frozen=True)
class ProviderRefund:
    ref: str
    status: RefundStatus
    failure_code: str | None = None


class PaymentProvider(Protocol):
    name: str

    def check(self, payment_method: str) -> None:
        """Refuse (422) a payment method this provider cannot take, before anything is recorded."""

    async def create(
        self,
        *,
        amount_cents: int,
        currency: str,
        payment_method: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> ProviderPayment: ...

    async def retrieve(self, ref: str) -> ProviderPayment: ...

    async def refund(
        self, *, ref: str, amount_cents: int, idempotency_key: str
    ) -> ProviderRefund: ...


@dataclass(frozen=True)
class TestCard:
    number: str
    token: str
    brand: str
    outcome: str  # "succeeded", "requires_action" or a decline code
    message: str


# Stripe's documented test cards and their PaymentMethod tokens.
TEST_CARDS = (
    TestCard("4242424242424242", "pm_card_visa", "visa", "succeeded", "Payment succeeded."),
    TestCard(
        "5555555555554444", "pm_card_mastercard", "mastercard", "succeeded", "Payment succeeded."
    ),
    TestCard(
        "4000000000000002",
        "pm_card_chargeDeclined",
        "visa",
        "card_declined",
        "Your card was declined.",
    ),
    TestCard(
        "4000000000009995",
        "pm_card_chargeDeclinedInsufficientFunds",
        "visa",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    TestCard(
        "4000002500003155",
        "pm_card_authenticationRequired",
        "visa",
        "requires_action",
        "This payment needs 3-D Secure authentication.",
    ),
)


FAILURES = {
    "card_declined": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "authentication_failed": "The card holder did not pass 3-D Secure authentication.",
}


def find_test_card(payment_method: str) -> TestCard:
    wanted = payment_method.replace(" ", "").replace("-", "")
    for card in TEST_CARDS:
        if wanted in (card.number, card.token):
            return card
    raise UnknownTestCard(
        "The sandbox takes Stripe's test cards: "
        + ", ".join(f"{c.number} / {c.token} ({c.outcome})" for c in TEST_CARDS)
        + ".",
        field="payment_method",
    )


def stripe_card_fee(amount_cents: int) -> int:
    """Stripe's standard card pricing, 2.9 % + 30 minor units, rounded half up."""
    return (amount_cents * 29 + 500) // 1000 + 30


class SandboxProvider:
    """Behaves like Stripe's test mode: test cards decide the outcome, 3-D Secure cards wait for
    authentication, and a repeated call with one idempotency key returns the first result."""

    name = "sandbox"

    def check(self, payment_method: str) -> None:
        find_test_card(payment_method)

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessionmaker

    def _view(self, intent: SandboxIntent) -> ProviderPayment:
        card = find_test_card(intent.card)
        status = PaymentStatus(intent.status)
        return ProviderPayment(
            ref=intent.id,
            status=status,
            fee_cents=stripe_card_fee(intent.amount_cents)
            if status == PaymentStatus.succeeded
            else 0,
            method=f"{card.brand} •••• {card.number[-4:]}",
            failure_code=intent.failure_code,
            failure_message=FAILURES.get(intent.failure_code or ""),
            client_secret=f"{intent.id}_secret_{intent.extra.get('secret', '')}",
            next_action=(
                {"type": "authenticate", "sandbox": True}
                if status == PaymentStatus.requires_action
                else None
            ),
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
        card = find_test_card(payment_method)
        if card.outcome == "succeeded":
            status, failure = PaymentStatus.succeeded, None
        elif card.outcome == "requires_action":
            status, failure = PaymentStatus.requires_action, None
        else:
            status, failure = PaymentStatus.failed, card.outcome
        async with self._sessions() as session:
            existing = await self._by_key(session, idempotency_key)
            if existing is not None:
                return self._view(existing)
            intent = SandboxIntent(
                id=f"pi_sandbox_{secrets.token_hex(12)}",
                idempotency_key=idempotency_key,
                amount_cents=amount_cents,
                currency=currency,
                status=status.value,
                card=card.token,
                failure_code=failure,
                extra={"metadata": metadata, "secret": secrets.token_hex(12)},
            )
            session.add(intent)
            try:
                await session.commit()
            except IntegrityError:  # the same key, concurrently: the first one stands
                await session.rollback()
                existing = await self._by_key(session, idempotency_key)
                assert existing is not None
                return self._view(existing)
            return self._view(intent)

    async def _by_key(self, session: AsyncSession, key: str) -> SandboxIntent | None:
        return await session.scalar(
            select(SandboxIntent).where(SandboxIntent.idempotency_key == key)
        )

    async def retrieve(self, ref: str) -> ProviderPayment:
        async with self._sessions() as session:
            intent = await session.get(SandboxIntent, ref)
            assert intent is not None, f"no sandbox intent {ref}"
            return self._view(intent)

    async def authenticate(self, ref: str, *, succeed: bool) -> ProviderPayment:
        """The buyer passes (or fails) the 3-D Secure challenge."""
        async with self._sessions() as session:
            intent = await session.get(SandboxIntent, ref)
            assert intent is not None, f"no sandbox intent {ref}"
            if intent.status == PaymentStatus.requires_action.value:
                intent.status = (PaymentStatus.succeeded if succeed else PaymentStatus.failed).value
                intent.failure_code = None if succeed else "authentication_failed"
                await session.commit()
            return self._view(intent)

    async def refund(self, *, ref: str, amount_cents: int, idempotency_key: str) -> ProviderRefund:
        """Give back part or all of a succeeded payment; never more than is left of it."""
        async with self._sessions() as session:
            done = await session.scalar(
                select(SandboxRefund).where(SandboxRefund.idempotency_key == idempotency_key)
            )
            if done is not None:
                return ProviderRefund(ref=done.id, status=RefundStatus.succeeded)
            intent = await session.get(SandboxIntent, ref)
            if intent is None or intent.status != PaymentStatus.succeeded.value:
                return ProviderRefund(
                    ref="", status=RefundStatus.failed, failure_code="charge_not_refundable"
                )
            refunded = await session.scalar(
                select(func.coalesce(func.sum(SandboxRefund.amount_cents), 0)).where(
                    SandboxRefund.intent_id == ref
                )
            )
            if int(refunded or 0) + amount_cents > intent.amount_cents:
                return ProviderRefund(
                    ref="", status=RefundStatus.failed, failure_code="amount_too_large"
                )
            refund = SandboxRefund(
                id=f"re_sandbox_{secrets.token_hex(12)}",
                idempotency_key=idempotency_key,
                intent_id=ref,
                amount_cents=amount_cents,
            )
            session.add(refund)
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
                return await self.refund(
                    ref=ref, amount_cents=amount_cents, idempotency_key=idempotency_key
                )
            return ProviderRefund(ref=refund.id, status=RefundStatus.succeeded)


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


def make_providers(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> dict[str, PaymentProvider]:
    """Every provider this deployment can reach, by name; Stripe when it has a key."""
    providers: dict[str, PaymentProvider] = {
        "sandbox": SandboxProvider(sessionmaker),
        "manual": ManualProvider(),
    }
    if settings.stripe_secret_key is not None:
        providers["stripe"] = StripeProvider(
            settings.stripe_secret_key.get_secret_value(), settings.stripe_api_base
        )
    return providers


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

    async def create(
        self,
        *,
        amount_cents: int,
        currency: str,
        payment_method: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> ProviderPayment:
        try:
            intent = await self._client.v1.payment_intents.create_async(
                {
                    "amount": amount_cents,
                    "currency": currency.lower(),
                    "payment_method": payment_method,
                    "confirm": True,
                    "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
                    "metadata": metadata,
                },
                {"idempotency_key": idempotency_key},
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
        return ProviderRefund(ref=refund.id, status=status, failure_code=failure)

    async def retrieve_refund(self, ref: str) -> tuple[str | None, ProviderRefund]:
        """Our refund's id (from the metadata we sent) and the refund as Stripe has it now."""
        refund = await self._client.v1.refunds.retrieve_async(ref)
        metadata = getattr(refund, "metadata", None)
        ours = getattr(metadata, "refund_id", None) if metadata is not None else None
        return (str(ours) if ours else None), self._refund_view(refund)

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


async def close_providers(providers: dict[str, PaymentProvider]) -> None:
    """Close the connections providers keep open (at shutdown)."""
    for provider in providers.values():
        if isinstance(provider, StripeProvider):
            await provider.aclose()
