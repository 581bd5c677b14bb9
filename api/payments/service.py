"""Payments: one live payment per booking, provider calls outside our transactions, and a
ledger of every movement of money. Callers commit.

A payment is recorded (`pending`) and committed before the provider is called with the payment's
id as idempotency key; the provider's answer is applied in a second transaction. A crash in
between leaves a `pending` payment that the next attempt resumes with the same key, so the
provider returns the first result instead of charging again.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import outbox
from api.bookings import service as bookings_service
from api.config import Settings
from api.db import utcnow
from api.events import service as events_service
from api.payments import invoices
from api.payments.errors import (
    AlreadyPaid,
    InvoiceNotFound,
    NotAnOrganizer,
    NotPayable,
    NotRefundable,
    OverRefund,
    PaymentInProgress,
    PaymentNotFound,
)
from api.payments.models import (
    Invoice,
    LedgerEntry,
    LedgerKind,
    OrganizerFee,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    WebhookEvent,
)
from api.payments.providers import (
    PaymentProvider,
    ProviderPayment,
    ProviderRefund,
    WebhookSource,
)
from api.users.models import Role, User

FINAL = (PaymentStatus.succeeded, PaymentStatus.failed)
# A payment still `pending` this long after it was recorded was left by a crash, not by a
# request still talking to the provider: the next attempt resumes it.
RESUME_AFTER = timedelta(seconds=30)


def platform_fee(amount_cents: int, *, bps: int, fixed_cents: int) -> int:
    """Basis points of the amount, rounded half up, plus the fixed part; never above the amount."""
    fee = (amount_cents * bps + 5_000) // 10_000
    return min(amount_cents, fee + fixed_cents)


async def fee_terms(
    session: AsyncSession, settings: Settings, *, organizer_id: uuid.UUID
) -> tuple[int, int, bool]:
    """(basis points, fixed minor units, agreed with this organizer?)"""
    agreed = await session.get(OrganizerFee, organizer_id)
    if agreed is not None:
        return agreed.fee_bps, agreed.fee_fixed_cents, True
    return settings.platform_fee_bps, settings.platform_fee_fixed_cents, False


async def set_fee_terms(
    session: AsyncSession, *, organizer: User, bps: int, fixed_cents: int, actor: User
) -> OrganizerFee:
    """Agree a platform fee with an organizer; it applies to payments from now on."""
    if organizer.role not in (Role.organizer, Role.admin):
        raise NotAnOrganizer("Fees are agreed with organizers.", field="userId")
    agreed = await session.get(OrganizerFee, organizer.id)
    if agreed is None:
        agreed = OrganizerFee(organizer_id=organizer.id, fee_bps=bps, fee_fixed_cents=0)
        session.add(agreed)
    agreed.fee_bps = bps
    agreed.fee_fixed_cents = fixed_cents
    agreed.updated_by = actor.id
    await outbox.record(session, "organizer_fee.set", agreed)
    return agreed


async def get_visible_or_raise(
    session: AsyncSession, *, payment_id: uuid.UUID, viewer: User
) -> Payment:
    """A payment for its payer, the event's organizer, finance and admins; 404 for others."""
    payment = await session.get(Payment, payment_id)
    if payment is not None and (
        payment.user_id == viewer.id
        or payment.organizer_id == viewer.id
        or viewer.role in (Role.admin, Role.finance)
    ):
        return payment
    raise PaymentNotFound(f"No payment with id {payment_id}.", field="paymentId")


async def start(
    session: AsyncSession, *, booking_id: uuid.UUID, payer: User, provider: str
) -> Payment:
    """Record a payment for the payer's held booking, or resume one a crash left `pending`."""
    booking = await bookings_service.get_visible_or_raise(
        session, booking_id=booking_id, viewer=payer
    )
    if booking.user_id != payer.id:
        raise NotPayable("Only the person who booked pays for a booking.", field="bookingId")
    live = await session.scalar(
        select(Payment).where(
            Payment.booking_id == booking.id,
            Payment.status.in_(
                (
                    PaymentStatus.pending,
                    PaymentStatus.requires_action,
                    PaymentStatus.processing,
                    PaymentStatus.succeeded,
                )
            ),
        )
    )
    if live is not None and live.status == PaymentStatus.succeeded:
        raise AlreadyPaid("This booking is paid.", field="bookingId")
    if live is not None and (
        live.status != PaymentStatus.pending or live.created_at > utcnow() - RESUME_AFTER
    ):
        raise PaymentInProgress(
            f"Payment {live.id} of this booking is {live.status.value}.", field="bookingId"
        )
    if live is not None:
        return live  # left pending by a crash: the provider call is repeated with its key
    status = bookings_service.effective_status(booking)
    if status.value != "pending" or booking.total_cents == 0:
        raise NotPayable(
            f"A {status.value} booking of {booking.total_cents} {booking.currency} "
            "takes no payment.",
            field="bookingId",
        )
    event = await events_service.get_visible_or_raise(
        session, event_id=booking.event_id, viewer=payer
    )
    payment = Payment(
        id=uuid.uuid4(),
        booking_id=booking.id,
        user_id=payer.id,
        event_id=booking.event_id,
        organizer_id=event.organizer_id,
        provider=provider,
        status=PaymentStatus.pending,
        amount_cents=booking.total_cents,
        currency=booking.currency,
    )
    try:
        async with session.begin_nested():
            session.add(payment)
    except IntegrityError:  # a concurrent attempt for the same booking won
        raise PaymentInProgress("Another payment of this booking is under way.") from None
    await outbox.record(session, "payment.created", payment)
    return payment


async def apply(
    session: AsyncSession,
    settings: Settings,
    *,
    payment_id: uuid.UUID,
    result: ProviderPayment,
    reference: str | None = None,
) -> Payment:
    """Bring our payment in line with the provider's; a success confirms the booking and writes
    the ledger. Applying the same final state twice changes nothing."""
    payment = await session.scalar(
        select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if payment is None:
        raise PaymentNotFound(f"No payment with id {payment_id}.", field="paymentId")
    if payment.status in FINAL or (
        payment.status == result.status and payment.provider_ref == result.ref
    ):
        return payment
    now = utcnow()
    payment.provider_ref = result.ref
    payment.status = result.status
    payment.method = result.method
    payment.failure_code = result.failure_code
    payment.failure_message = result.failure_message
    payment.next_action = result.next_action
    payment.client_secret = result.client_secret
    if result.status == PaymentStatus.succeeded:
        payment.succeeded_at = now
        payment.provider_fee_cents = result.fee_cents
        bps, fixed, _ = await fee_terms(session, settings, organizer_id=payment.organizer_id)
        payment.platform_fee_cents = platform_fee(payment.amount_cents, bps=bps, fixed_cents=fixed)
        for kind, amount in (
            (LedgerKind.charge, payment.amount_cents),
            (LedgerKind.provider_fee, -payment.provider_fee_cents),
            (LedgerKind.platform_fee, -payment.platform_fee_cents),
        ):
            session.add(
                LedgerEntry(
                    payment_id=payment.id,
                    booking_id=payment.booking_id,
                    organizer_id=payment.organizer_id,
                    kind=kind,
                    amount_cents=amount,
                    currency=payment.currency,
                    reference=reference or result.ref,
                    created_at=now,
                )
            )
        await outbox.record(session, "payment.succeeded", payment)
        await invoices.issue_invoice(session, payment=payment)
        if not await bookings_service.confirm_paid(
            session, booking_id=payment.booking_id, payment_started_at=payment.created_at
        ):
            # The seats went to someone else while the buyer paid: announce it so the money
            # goes back (refunds pick this up).
            await outbox.record(session, "payment.unfulfilled", payment)
    else:
        await outbox.record(session, f"payment.{result.status.value}", payment)
        if result.status == PaymentStatus.processing and payment.provider == "manual":
            await bookings_service.extend_hold(
                session,
                booking_id=payment.booking_id,
                until=now + timedelta(hours=settings.manual_payment_hold_hours),
            )
    return payment


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


async def first_delivery(
    session: AsyncSession, *, provider: str, event_id: str, event_type: str
) -> bool:
    """Remember a provider's event; False when it was handled before (a redelivery)."""
    try:
        async with session.begin_nested():
            session.add(WebhookEvent(id=event_id, provider=provider, event_type=event_type))
    except IntegrityError:
        return False
    return True


async def by_provider_ref(session: AsyncSession, *, provider: str, ref: str) -> Payment | None:
    return await session.scalar(
        select(Payment).where(Payment.provider == provider, Payment.provider_ref == ref)
    )


async def chargeback(
    session: AsyncSession, *, payment: Payment, amount_cents: int, reference: str
) -> None:
    """The buyer's bank took the money back (a dispute): the ledger shows it."""
    session.add(
        LedgerEntry(
            payment_id=payment.id,
            booking_id=payment.booking_id,
            organizer_id=payment.organizer_id,
            kind=LedgerKind.chargeback,
            amount_cents=-amount_cents,
            currency=payment.currency,
            reference=reference,
        )
    )
    await outbox.record(session, "payment.disputed", payment)


async def invoices_visible_or_raise(
    session: AsyncSession, *, booking_id: uuid.UUID, viewer: User
) -> list[Invoice]:
    """A booking's invoice and credit notes, for the buyer, the organizer, finance and admins."""
    documents = await invoices.for_booking(session, booking_id=booking_id)
    if documents and (
        documents[0].buyer.get("id") == str(viewer.id)
        or documents[0].organizer_id == viewer.id
        or viewer.role in (Role.admin, Role.finance)
    ):
        return documents
    raise InvoiceNotFound(f"No invoice for booking {booking_id}.", field="bookingId")


REFUND_EVENTS = ("refund.created", "refund.updated", "refund.failed", "charge.refunded")


async def handle_webhook_event(
    session: AsyncSession,
    settings: Settings,
    source: WebhookSource,
    *,
    event_id: str,
    kind: str,
    object_id: str,
) -> bool:
    """Apply a provider's event; False when this event was handled before.

    The object is read again from the provider first (the caller holds no transaction open),
    so an event that comes late, twice or out of order applies the provider's current state,
    never the state the event described."""
    # Read first (outside any transaction), then record the event id, then apply.
    current: ProviderPayment | None = None
    dispute: tuple[str, int] | None = None
    refunds: list[tuple[str | None, ProviderRefund]] = []
    if kind.startswith("payment_intent."):
        current = await source.retrieve(object_id)
    elif kind == "charge.dispute.created":
        dispute = await source.dispute_amount(object_id)
    elif kind in REFUND_EVENTS:
        refund_ids = (
            await source.refunds_of_charge(object_id) if kind == "charge.refunded" else [object_id]
        )
        refunds = [await source.retrieve_refund(ref) for ref in refund_ids]
    if not await first_delivery(session, provider=source.name, event_id=event_id, event_type=kind):
        return False
    if current is not None:
        payment = await by_provider_ref(session, provider=source.name, ref=object_id)
        if payment is not None:
            await apply(session, settings, payment_id=payment.id, result=current)
    if dispute is not None:
        intent_id, amount = dispute
        payment = await by_provider_ref(session, provider=source.name, ref=intent_id)
        if payment is not None:
            await chargeback(session, payment=payment, amount_cents=amount, reference=object_id)
    for ours, answer in refunds:
        await settle_provider_refund(session, provider=source.name, ours=ours, result=answer)
    return True


async def settle_provider_refund(
    session: AsyncSession, *, provider: str, ours: str | None, result: ProviderRefund
) -> Refund | None:
    """Bring a refund the provider reports in line: one of ours (named in its metadata, or
    known by its provider id) gets the provider's answer; one made in the provider's dashboard
    is recorded as a refund of its payment (once, however often it is announced) with its
    ledger entry and credit note."""
    refund_id = await our_refund(session, refund_id=ours)
    if refund_id is None and result.ref:
        refund_id = await session.scalar(select(Refund.id).where(Refund.provider_ref == result.ref))
    if refund_id is None:
        refund_id = await _record_outside_refund(session, provider=provider, result=result)
    if refund_id is None:
        return None
    return await apply_refund(session, refund_id=refund_id, result=result)


async def _record_outside_refund(
    session: AsyncSession, *, provider: str, result: ProviderRefund
) -> uuid.UUID | None:
    if result.status == RefundStatus.failed or not result.payment_ref or not result.amount_cents:
        return None
    payment = await by_provider_ref(session, provider=provider, ref=result.payment_ref)
    if payment is None:
        return None
    try:
        async with session.begin_nested():
            refund = await request_refund(
                session,
                payment_id=payment.id,
                amount_cents=result.amount_cents,
                reason=f"refunded at {provider}",
                requested_by=None,
                provider_ref=result.ref,
            )
    except IntegrityError:  # announced twice at once: the other delivery recorded it
        return await session.scalar(select(Refund.id).where(Refund.provider_ref == result.ref))
    return refund.id


async def our_refund(session: AsyncSession, *, refund_id: str | None) -> uuid.UUID | None:
    """The id of our refund a provider's refund names in its metadata, if it is ours."""
    try:
        found = await session.get(Refund, uuid.UUID(refund_id or ""))
    except ValueError:
        return None
    return found.id if found is not None else None


async def invoice_pdf(session: AsyncSession, *, booking_id: uuid.UUID) -> tuple[str, bytes] | None:
    """A booking's invoice and credit notes as one PDF with its file name, if it has any."""
    documents = await invoices.for_booking(session, booking_id=booking_id)
    if not documents:
        return None
    return f"{documents[0].number}.pdf", invoices.render_pdf(documents)
