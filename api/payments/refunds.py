"""Refunds: the amount is set aside on the payment (never more than remains) and committed
before the provider is asked, with the refund's id as idempotency key; the provider's answer is
applied in a second transaction. The worker refunds cancelled bookings and retries what the
provider has not settled."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import outbox
from api.bookings import service as bookings_service
from api.db import utcnow
from api.payments import invoices
from api.payments.errors import NotRefundable, OverRefund, PaymentNotFound
from api.payments.models import (
    LedgerEntry,
    LedgerKind,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from api.payments.providers import PaymentProvider, ProviderRefund
from api.users import Role, User


def may_refund(payment: Payment, actor: User) -> bool:
    return payment.organizer_id == actor.id or actor.role in (Role.admin, Role.finance)


async def request_refund(
    session: AsyncSession,
    *,
    payment_id: uuid.UUID,
    amount_cents: int | None,
    reason: str | None,
    requested_by: uuid.UUID | None,
    source_event_id: uuid.UUID | None = None,
    provider_ref: str | None = None,
) -> Refund:
    """Set the amount aside on the payment (a conditional update: never more than remains, even
    for concurrent requests) and record the refund as pending; the caller commits, then asks
    the provider. `amount_cents` None refunds what remains."""
    payment = await session.get(Payment, payment_id, populate_existing=True)
    if payment is None:
        raise PaymentNotFound(f"No payment with id {payment_id}.", field="paymentId")
    if payment.status != PaymentStatus.succeeded:
        raise NotRefundable(f"A {payment.status.value} payment cannot be refunded.")
    remaining = payment.amount_cents - payment.refunded_cents
    amount = remaining if amount_cents is None else amount_cents
    if amount <= 0:
        raise OverRefund("Nothing is left to refund on this payment.", field="amount_cents")
    taken = await session.execute(
        update(Payment)
        .where(
            Payment.id == payment.id,
            Payment.refunded_cents + amount <= Payment.amount_cents,
        )
        .values(refunded_cents=Payment.refunded_cents + amount, version=Payment.version + 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise OverRefund(
            f"At most {remaining} {payment.currency} minor units are left to refund.",
            field="amount_cents",
        )
    refund = Refund(
        id=uuid.uuid4(),
        payment_id=payment.id,
        booking_id=payment.booking_id,
        amount_cents=amount,
        currency=payment.currency,
        status=RefundStatus.pending,
        reason=reason,
        requested_by=requested_by,
        source_event_id=source_event_id,
        provider_ref=provider_ref,
    )
    session.add(refund)
    await outbox.record(session, "refund.created", refund)
    await session.refresh(payment)
    return refund


async def apply_refund(
    session: AsyncSession, *, refund_id: uuid.UUID, result: ProviderRefund
) -> Refund:
    """Record the provider's answer: a success goes to the ledger (and a payment refunded in
    full refunds its booking); a failure gives the set-aside amount back. Applying twice
    changes nothing."""
    refund = await session.scalar(
        select(Refund)
        .where(Refund.id == refund_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert refund is not None
    if refund.status != RefundStatus.pending:
        return refund
    now = utcnow()
    payment = await session.get(Payment, refund.payment_id, populate_existing=True)
    assert payment is not None
    if result.status == RefundStatus.succeeded:
        refund.status = RefundStatus.succeeded
        refund.provider_ref = result.ref
        refund.succeeded_at = now
        session.add(
            LedgerEntry(
                payment_id=payment.id,
                booking_id=payment.booking_id,
                organizer_id=payment.organizer_id,
                kind=LedgerKind.refund,
                amount_cents=-refund.amount_cents,
                currency=refund.currency,
                reference=result.ref,
                created_at=now,
            )
        )
        await outbox.record(session, "refund.succeeded", refund)
        await invoices.issue_credit_note(session, payment=payment, refund=refund)
        others_pending = await session.scalar(
            select(func.count()).where(
                Refund.payment_id == payment.id,
                Refund.status == RefundStatus.pending,
                Refund.id != refund.id,
            )
        )
        if payment.refunded_cents == payment.amount_cents and not others_pending:
            await bookings_service.mark_refunded(
                session, booking_id=payment.booking_id, actor_id=refund.requested_by
            )
    elif result.status == RefundStatus.failed:
        refund.status = RefundStatus.failed
        refund.failure_code = result.failure_code
        await session.execute(
            update(Payment)
            .where(Payment.id == payment.id)
            .values(
                refunded_cents=Payment.refunded_cents - refund.amount_cents,
                version=Payment.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        await outbox.record(session, "refund.failed", refund)
    return refund


def _backoff(attempts: int) -> timedelta:
    """Exponential, 30 s doubling up to an hour, with jitter so retries do not bunch."""
    base = min(3600.0, 30.0 * 2 ** max(0, attempts - 1))
    return timedelta(seconds=base * (0.5 + secrets.SystemRandom().random() / 2))


# A cancelled booking gives back what remains of its payment; so does money that arrived after
# the seats it was for were gone.
REFUND_TRIGGERS = ("booking.cancelled", "payment.unfulfilled")


async def refund_cancelled_bookings(
    sessionmaker: async_sessionmaker[AsyncSession],
    providers: dict[str, PaymentProvider],
    *,
    batch: int = 100,
) -> int:
    """The worker's refund job: every cancelled booking that was paid, and every payment that
    arrived for seats already gone, gets what remains of its payment back, once. The triggers
    are read from the outbox after a cursor kept in the same transaction as the refunds they
    cause; refunds the provider has not settled (a crash, an outage) are retried with backoff,
    always with the refund's id as idempotency key."""
    async with sessionmaker() as session:
        work = await outbox.read_after(
            session, consumer="refunds", event_types=REFUND_TRIGGERS, limit=batch
        )
        for row in work.rows:
            paid_for = (
                Payment.booking_id == uuid.UUID(row.entity_id)
                if row.entity == "booking"
                else Payment.id == uuid.UUID(row.entity_id)
            )
            payment = await session.scalar(
                select(Payment).where(
                    paid_for,
                    Payment.status == PaymentStatus.succeeded,
                    Payment.refunded_cents < Payment.amount_cents,
                )
            )
            if payment is not None:
                await request_refund(
                    session,
                    payment_id=payment.id,
                    amount_cents=None,
                    reason=(
                        "booking cancelled"
                        if row.entity == "booking"
                        else "paid after the seats were gone"
                    ),
                    requested_by=row.actor_id,
                    source_event_id=row.event_id,
                )
            await work.done(row)
        await work.close()
        await session.commit()
    settled = 0
    now = utcnow()
    async with sessionmaker() as session:
        due = (
            await session.execute(
                select(Refund.id, Payment.provider, Payment.provider_ref, Refund.amount_cents)
                .join(Payment, Payment.id == Refund.payment_id)
                .where(
                    Refund.status == RefundStatus.pending,
                    (Refund.attempts == 0) | (Refund.next_attempt_at <= now),
                )
                .order_by(Refund.created_at)
                .limit(100)
            )
        ).all()
        await session.commit()
    for refund_id, provider_name, ref, amount in due:
        settled += await _settle(
            sessionmaker, providers[provider_name], refund_id=refund_id, ref=ref, amount=amount
        )
    return settled


async def _settle(
    sessionmaker: async_sessionmaker[AsyncSession],
    provider: PaymentProvider,
    *,
    refund_id: uuid.UUID,
    ref: str | None,
    amount: int,
) -> int:
    try:
        result = await provider.refund(
            ref=ref or "", amount_cents=amount, idempotency_key=str(refund_id)
        )
    except Exception:  # the provider is unreachable: try again later
        async with sessionmaker() as session:
            refund = await session.get(Refund, refund_id)
            if refund is not None and refund.status == RefundStatus.pending:
                refund.attempts += 1
                refund.next_attempt_at = utcnow() + _backoff(refund.attempts)
                await session.commit()
        return 0
    async with sessionmaker() as session:
        refund = await apply_refund(session, refund_id=refund_id, result=result)
        refund.attempts += 1
        await session.commit()
        return int(refund.status == RefundStatus.succeeded)
