"""Payments: one live payment per booking, provider calls outside our transactions, and a
ledger of every movement of money. Callers commit (`workflows` holds the operations that
commit between steps).

A payment is recorded (`pending`) and committed before the provider is called with the payment's
id as idempotency key; the provider's answer is applied in a second transaction. A crash in
between leaves a `pending` payment that the next attempt resumes with the same key, so the
provider returns the first result instead of charging again.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.bookings import service as bookings_service
from api.config import Settings
from api.db import utcnow
from api.events import service as events_service
from api.payments import invoices
from api.payments.errors import (
    AlreadyPaid,
    InvoiceNotFound,
    NotPayable,
    PaymentInProgress,
    PaymentNotFound,
)
from api.payments.fees import fee_terms, platform_fee
from api.payments.models import (
    LIVE_PAYMENT,
    Invoice,
    LedgerEntry,
    LedgerKind,
    Payment,
    PaymentStatus,
    Refund,
)
from api.payments.providers import ProviderPayment
from api.payments.refunds import REFUND_TRIGGERS as REFUND_TRIGGERS
from api.payments.refunds import refund_cancelled_bookings as refund_cancelled_bookings
from api.payments.refunds import request_refund as request_refund
from api.users import Role, User

FINAL = (PaymentStatus.succeeded, PaymentStatus.failed)
# A payment still `pending` this long after it was recorded was left by a crash, not by a
# request still talking to the provider: the next attempt resumes it.
RESUME_AFTER = timedelta(seconds=30)


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


async def live_payment(session: AsyncSession, *, booking_id: uuid.UUID) -> Payment | None:
    """A booking's payment that is under way or succeeded (there is at most one)."""
    return await session.scalar(
        select(Payment).where(Payment.booking_id == booking_id, Payment.status.in_(LIVE_PAYMENT))
    )


async def ledger_totals(
    session: AsyncSession, *, organizer_id: uuid.UUID
) -> dict[str, dict[str, int]]:
    """An organizer's money so far from the ledger, per currency: each kind of movement
    (signed, minor units) and the payout, what is left for them after refunds, chargebacks and
    fees (the payouts report's rule)."""
    rows = await session.execute(
        select(LedgerEntry.currency, LedgerEntry.kind, func.sum(LedgerEntry.amount_cents))
        .where(LedgerEntry.organizer_id == organizer_id)
        .group_by(LedgerEntry.currency, LedgerEntry.kind)
    )
    totals: dict[str, dict[str, int]] = {}
    for currency, kind, amount in rows.all():
        found = totals.setdefault(currency, {k.value: 0 for k in LedgerKind})
        found[kind.value] = int(amount or 0)
    for found in totals.values():
        found["payout"] = sum(found[k.value] for k in LedgerKind)
    return totals


async def invoices_of_organizer(
    session: AsyncSession, *, organizer_id: uuid.UUID, limit: int = 200
) -> list[Invoice]:
    """An organizer's invoices and credit notes, newest first."""
    rows = await session.scalars(
        select(Invoice)
        .where(Invoice.organizer_id == organizer_id)
        .order_by(Invoice.sequence.desc())
        .limit(limit)
    )
    return list(rows)


async def refunds_of(session: AsyncSession, *, booking_id: uuid.UUID) -> list[Refund]:
    """A booking's refunds, oldest first."""
    rows = await session.scalars(
        select(Refund).where(Refund.booking_id == booking_id).order_by(Refund.created_at)
    )
    return list(rows)


async def start(
    session: AsyncSession, *, booking_id: uuid.UUID, payer: User, provider: str
) -> Payment:
    """Record a payment for the payer's held booking, or resume one a crash left `pending`."""
    booking = await bookings_service.get_visible_or_raise(
        session, booking_id=booking_id, viewer=payer
    )
    if booking.user_id != payer.id:
        raise NotPayable("Only the person who booked pays for a booking.", field="bookingId")
    live = await live_payment(session, booking_id=booking.id)
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


async def invoice_pdf(session: AsyncSession, *, booking_id: uuid.UUID) -> tuple[str, bytes] | None:
    """A booking's invoice and credit notes as one PDF with its file name, if it has any."""
    documents = await invoices.for_booking(session, booking_id=booking_id)
    if not documents:
        return None
    return f"{documents[0].number}.pdf", invoices.render_pdf(documents)


async def visible_invoice_pdf(
    session: AsyncSession, *, booking_id: uuid.UUID, viewer: User
) -> tuple[str, bytes]:
    """A booking's invoice and credit notes as one PDF with its file name, for those who may
    see them (the buyer, the organizer, finance and admins)."""
    documents = await invoices_visible_or_raise(session, booking_id=booking_id, viewer=viewer)
    return f"{documents[0].number}.pdf", invoices.render_pdf(documents)
