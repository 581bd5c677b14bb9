"""Payment providers behind one interface: the sandbox (Stripe's test mode without an account),
Stripe, and manual payments (bank transfer, pay at the door).

A provider is another party's server. We call it outside our own transactions, always with an
idempotency key (our payment id), so a call repeated after a crash finds the first one's result
instead of charging twice.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx
import stripe
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.config import Settings
from api.db import utcnow
from api.payments.errors import UnknownManualMethod, UnknownStripeMethod, UnknownTestCard
from api.payments.models import (
    PaymentStatus,
    RefundStatus,
    SandboxEvent,
    SandboxIntent,
    SandboxRefund,
)


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
    # As read back from the provider: the payment it refunds and how much.
    payment_ref: str | None = None
    amount_cents: int | None = None


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


class WebhookSource(Protocol):
    """A provider that announces changes through webhooks; the handler reads each object again
    from it, so a forged, repeated or late event can only re-apply the provider's truth."""

    name: str

    async def retrieve(self, ref: str) -> ProviderPayment: ...

    async def retrieve_refund(self, ref: str) -> tuple[str | None, ProviderRefund]: ...

    async def refunds_of_charge(self, charge_id: str) -> list[str]: ...

    async def dispute_amount(self, dispute_id: str) -> tuple[str, int]: ...


@dataclass(frozen=True)
class TestCard:
    number: str
    token: str
    brand: str
    outcome: str  # "succeeded", "requires_action", "processing" or a decline code
    message: str
    # What happens later, as in Stripe's test mode: "succeeded" or a failure code for a
    # payment still processing, "dispute" for one that succeeded.
    later: str | None = None


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
    TestCard(
        "4000000000000259",
        "pm_card_createDispute",
        "visa",
        "succeeded",
        "Payment succeeded; the card holder disputes it later.",
        later="dispute",
    ),
    # SEPA Direct Debit test IBANs: the debit is `processing`, then clears or fails.
    TestCard(
        "DE89370400440532013000",
        "pm_sepaDebit_success",
        "sepa_debit",
        "processing",
        "The debit clears after a while.",
        later="succeeded",
    ),
    TestCard(
        "DE62370400440532013001",
        "pm_sepaDebit_failure",
        "sepa_debit",
        "processing",
        "The debit fails after a while.",
        later="insufficient_funds",
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
        if wanted in (card.number, card.token) or wanted.upper() == card.number:
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


# How Stripe names a PaymentIntent's status, and the event that announces it.
SANDBOX_STATUS = {
    PaymentStatus.succeeded: ("succeeded", "payment_intent.succeeded"),
    PaymentStatus.failed: ("requires_payment_method", "payment_intent.payment_failed"),
    PaymentStatus.requires_action: ("requires_action", "payment_intent.requires_action"),
    PaymentStatus.processing: ("processing", "payment_intent.processing"),
}


def stripe_signature(payload: bytes, secret: str, timestamp: int) -> str:
    """Stripe's webhook signature header: HMAC-SHA256 of "timestamp.payload" as `v1`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _webhook_backoff(attempts: int) -> timedelta:
    """Like Stripe's retries: soon at first, then less often, at most hourly."""
    return timedelta(seconds=min(3600.0, 5.0 * 3 ** max(0, attempts - 1)))


class SandboxProvider:
    """Behaves like Stripe's test mode: test cards decide the outcome, 3-D Secure cards wait for
    authentication, SEPA debits are `processing` and clear (or fail) later, a dispute card is
    disputed later, and a repeated call with one idempotency key returns the first result.
    Every change is announced as a Stripe-shaped event that the worker delivers, signed, to the
    sandbox webhook endpoint."""

    name = "sandbox"

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settle_after: timedelta = timedelta(seconds=5),
    ) -> None:
        self._sessions = sessionmaker
        self._settle_after = settle_after

    def check(self, payment_method: str) -> None:
        find_test_card(payment_method)

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

    @staticmethod
    def _announce(session: AsyncSession, kind: str, data: dict[str, Any]) -> None:
        session.add(
            SandboxEvent(
                id=f"evt_sandbox_{secrets.token_hex(12)}",
                type=kind,
                object_id=data["id"],
                data=data,
                created_at=utcnow(),
            )
        )

    def _announce_intent(self, session: AsyncSession, intent: SandboxIntent) -> None:
        status, kind = SANDBOX_STATUS[PaymentStatus(intent.status)]
        self._announce(
            session,
            kind,
            {
                "id": intent.id,
                "object": "payment_intent",
                "amount": intent.amount_cents,
                "currency": intent.currency.lower(),
                "status": status,
                "metadata": intent.extra.get("metadata", {}),
                "last_payment_error": (
                    {"code": intent.failure_code} if intent.failure_code else None
                ),
            },
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
        if card.outcome in ("succeeded", "requires_action", "processing"):
            status, failure = PaymentStatus(card.outcome), None
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
                settles_at=utcnow() + self._settle_after if card.later else None,
            )
            session.add(intent)
            self._announce_intent(session, intent)
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
            if intent is None:
                raise LookupError(f"no sandbox payment {ref}")
            return self._view(intent)

    async def authenticate(self, ref: str, *, succeed: bool) -> ProviderPayment:
        """The buyer passes (or fails) the 3-D Secure challenge."""
        async with self._sessions() as session:
            intent = await session.get(SandboxIntent, ref)
            assert intent is not None, f"no sandbox intent {ref}"
            if intent.status == PaymentStatus.requires_action.value:
                intent.status = (PaymentStatus.succeeded if succeed else PaymentStatus.failed).value
                intent.failure_code = None if succeed else "authentication_failed"
                self._announce_intent(session, intent)
                await session.commit()
            return self._view(intent)

    async def advance(self, now: datetime | None = None) -> int:
        """Let what Stripe's test mode does later happen: debits that were `processing` clear
        or fail, dispute cards are disputed. Each intent settles once, whoever runs this."""
        now = now or utcnow()
        async with self._sessions() as session:
            due = (
                await session.scalars(
                    select(SandboxIntent.id)
                    .where(SandboxIntent.settles_at <= now)
                    .order_by(SandboxIntent.settles_at)
                    .limit(100)
                )
            ).all()
            settled = 0
            for ref in due:
                taken = await session.execute(
                    update(SandboxIntent)
                    .where(SandboxIntent.id == ref, SandboxIntent.settles_at.is_not(None))
                    .values(settles_at=None)
                )
                if taken.rowcount != 1:  # type: ignore[attr-defined]
                    continue  # another worker settled it
                intent = await session.get(SandboxIntent, ref, populate_existing=True)
                assert intent is not None
                later = find_test_card(intent.card).later
                if later == "dispute":
                    self._announce(
                        session,
                        "charge.dispute.created",
                        {
                            "id": f"dp_sandbox_{secrets.token_hex(12)}",
                            "object": "dispute",
                            "amount": intent.amount_cents,
                            "currency": intent.currency.lower(),
                            "payment_intent": intent.id,
                            "reason": "fraudulent",
                            "status": "needs_response",
                        },
                    )
                elif intent.status == PaymentStatus.processing.value:
                    succeeded = later == "succeeded"
                    intent.status = (
                        PaymentStatus.succeeded if succeeded else PaymentStatus.failed
                    ).value
                    intent.failure_code = None if succeeded else later
                    self._announce_intent(session, intent)
                settled += 1
            await session.commit()
            return settled

    async def refund(
        self,
        *,
        ref: str,
        amount_cents: int,
        idempotency_key: str,
        metadata: dict[str, str] | None = None,
    ) -> ProviderRefund:
        """Give back part or all of a succeeded payment; never more than is left of it. Our
        refunds carry their id in the metadata; a refund made in the provider's dashboard
        carries none."""
        async with self._sessions() as session:
            done = await session.scalar(
                select(SandboxRefund).where(SandboxRefund.idempotency_key == idempotency_key)
            )
            if done is not None:
                return self._refund_view(done)
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
            self._announce(
                session,
                "refund.created",
                {
                    "id": refund.id,
                    "object": "refund",
                    "amount": amount_cents,
                    "currency": intent.currency.lower(),
                    "payment_intent": ref,
                    "status": "succeeded",
                    "metadata": {"refund_id": idempotency_key} if metadata is None else metadata,
                },
            )
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
                return await self.refund(
                    ref=ref, amount_cents=amount_cents, idempotency_key=idempotency_key
                )
            return self._refund_view(refund)

    @staticmethod
    def _refund_view(refund: SandboxRefund) -> ProviderRefund:
        return ProviderRefund(
            ref=refund.id,
            status=RefundStatus.succeeded,
            payment_ref=refund.intent_id,
            amount_cents=refund.amount_cents,
        )

    async def retrieve_refund(self, ref: str) -> tuple[str | None, ProviderRefund]:
        async with self._sessions() as session:
            refund = await session.get(SandboxRefund, ref)
            if refund is None:
                raise LookupError(f"no sandbox refund {ref}")
            return refund.idempotency_key, self._refund_view(refund)

    async def refunds_of_charge(self, charge_id: str) -> list[str]:
        async with self._sessions() as session:
            found = await session.scalars(
                select(SandboxRefund.id).where(SandboxRefund.intent_id == charge_id)
            )
            return list(found)

    async def dispute_amount(self, dispute_id: str) -> tuple[str, int]:
        async with self._sessions() as session:
            event = await session.scalar(
                select(SandboxEvent).where(SandboxEvent.object_id == dispute_id)
            )
            if event is None:
                raise LookupError(f"no sandbox dispute {dispute_id}")
            return str(event.data["payment_intent"]), int(event.data["amount"])

    async def deliver_events(self, http: httpx.AsyncClient, url: str, secret: str) -> int:
        """POST the events not yet delivered, oldest first, signed as Stripe signs them; an
        answer other than 2xx (or none) is tried again later with backoff. Delivery is at least
        once: the endpoint skips events it has handled."""
        now = utcnow()
        async with self._sessions() as session:
            due = (
                await session.scalars(
                    select(SandboxEvent)
                    .where(
                        SandboxEvent.delivered_at.is_(None),
                        or_(
                            SandboxEvent.next_attempt_at.is_(None),
                            SandboxEvent.next_attempt_at <= now,
                        ),
                    )
                    .order_by(SandboxEvent.created_at, SandboxEvent.id)
                    .limit(100)
                )
            ).all()
            pending = [(e.id, e.type, e.data, e.created_at, e.attempts) for e in due]
            await session.commit()
        delivered = 0
        for event_id, kind, data, created_at, attempts in pending:
            payload = json.dumps(
                {
                    "id": event_id,
                    "object": "event",
                    "type": kind,
                    "created": int(created_at.timestamp()),
                    "livemode": False,
                    "data": {"object": data},
                }
            ).encode()
            error: str | None = None
            try:
                answer = await http.post(
                    url,
                    content=payload,
                    headers={
                        "Content-Type": "application/json",
                        "Stripe-Signature": stripe_signature(
                            payload, secret, int(utcnow().timestamp())
                        ),
                    },
                )
                if not answer.is_success:
                    error = f"HTTP {answer.status_code}: {answer.text[:200]}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
            async with self._sessions() as session:
                values: dict[str, Any] = (
                    {"delivered_at": utcnow(), "last_error": None}
                    if error is None
                    else {
                        "attempts": attempts + 1,
                        "next_attempt_at": utcnow() + _webhook_backoff(attempts + 1),
                        "last_error": error,
                    }
                )
                await session.execute(
                    update(SandboxEvent).where(SandboxEvent.id == event_id).values(**values)
                )
                await session.commit()
            delivered += error is None
        return delivered


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
        "sandbox": SandboxProvider(
            sessionmaker, settle_after=timedelta(seconds=settings.sandbox_settle_seconds)
        ),
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


async def close_providers(providers: dict[str, PaymentProvider]) -> None:
    """Close the connections providers keep open (at shutdown)."""
    for provider in providers.values():
        if isinstance(provider, StripeProvider):
            await provider.aclose()
