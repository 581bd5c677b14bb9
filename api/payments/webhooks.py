"""Providers' webhooks: each event is verified, handled once, and applied from the object as
the provider has it now (read again), so events that come twice, late or out of order leave the
latest state."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import stripe
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.config import Settings
from api.payments import service
from api.payments.errors import InvalidWebhook
from api.payments.models import LedgerEntry, LedgerKind, Payment, Refund, RefundStatus, WebhookEvent
from api.payments.providers import ProviderPayment, ProviderRefund, WebhookSource
from api.payments.refunds import apply_refund, request_refund

# Stripe's tolerance for a signature's timestamp, in seconds.
SIGNATURE_TOLERANCE = 300


@dataclass(frozen=True)
class Delivery:
    """What a verified webhook call announces: which event, of what kind, about which object."""

    event_id: str
    kind: str
    object_id: str


def verify(payload: bytes, signature: str | None, *, secret: str, source: str) -> Delivery:
    """The event a webhook call carries, if its signature (Stripe's scheme) is valid and recent."""
    try:
        event = stripe.Webhook.construct_event(
            payload, signature, secret, tolerance=SIGNATURE_TOLERANCE
        )
    except (ValueError, stripe.SignatureVerificationError) as exc:
        raise InvalidWebhook(f"This is not a valid {source} event: {exc}") from None
    return Delivery(event_id=event.id, kind=event.type, object_id=str(event.data.object.id))


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
            await service.apply(session, settings, payment_id=payment.id, result=current)
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
