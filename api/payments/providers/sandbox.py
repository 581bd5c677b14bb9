"""The sandbox: Stripe's test mode without an account, kept in our own database."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.db import utcnow
from api.payments.models import (
    PaymentStatus,
    RefundStatus,
    SandboxEvent,
    SandboxIntent,
    SandboxRefund,
)
from api.payments.providers.base import PaymentRequest, ProviderPayment, ProviderRefund
from api.payments.providers.sandbox_cards import FAILURES, find_test_card, stripe_card_fee
from api.payments.providers.sandbox_delivery import deliver_events

# How Stripe names a PaymentIntent's status, and the event that announces it.
SANDBOX_STATUS = {
    PaymentStatus.succeeded: ("succeeded", "payment_intent.succeeded"),
    PaymentStatus.failed: ("requires_payment_method", "payment_intent.payment_failed"),
    PaymentStatus.requires_action: ("requires_action", "payment_intent.requires_action"),
    PaymentStatus.processing: ("processing", "payment_intent.processing"),
}


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

    async def create(self, request: PaymentRequest) -> ProviderPayment:
        key, card = request.idempotency_key, find_test_card(request.payment_method)
        if card.outcome in ("succeeded", "requires_action", "processing"):
            status, failure = PaymentStatus(card.outcome), None
        else:
            status, failure = PaymentStatus.failed, card.outcome
        async with self._sessions() as session:
            existing = await self._by_key(session, key)
            if existing is not None:
                return self._view(existing)
            intent = SandboxIntent(
                id=f"pi_sandbox_{secrets.token_hex(12)}",
                idempotency_key=key,
                amount_cents=request.amount_cents,
                currency=request.currency,
                status=status.value,
                card=card.token,
                failure_code=failure,
                extra={"metadata": request.metadata, "secret": secrets.token_hex(12)},
                settles_at=utcnow() + self._settle_after if card.later else None,
            )
            session.add(intent)
            self._announce_intent(session, intent)
            try:
                await session.commit()
            except IntegrityError:  # the same key, concurrently: the first one stands
                await session.rollback()
                existing = await self._by_key(session, key)
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
        """POST the events not yet delivered, signed as Stripe signs them, to our endpoint."""
        return await deliver_events(self._sessions, http, url, secret)
