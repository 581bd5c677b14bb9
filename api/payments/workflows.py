"""The operations people ask payments for, one function each, called by the JSON API and by pages.

Each owns its transactions: what we are about to ask a provider is recorded and committed first,
the provider is called outside any transaction of ours (with our id as idempotency key), and its
answer is applied in a second transaction. A crash in between leaves a record the next attempt
resumes. Operations answered through `Idempotency-Key` leave that last transaction open: the
caller commits it together with the answer it stores.
"""

from __future__ import annotations

import uuid

import stripe
from sqlalchemy.ext.asyncio import AsyncSession

from api.config import Settings
from api.payments import fees, refunds, service, webhooks
from api.payments.errors import (
    NoActionNeeded,
    NotManual,
    NotPaymentManager,
    ProviderNotConfigured,
    UnknownWebhookObject,
)
from api.payments.models import OrganizerFee, Payment, PaymentStatus, Refund
from api.payments.providers import (
    PaymentProvider,
    ProviderPayment,
    SandboxProvider,
    StripeProvider,
    WebhookSource,
)
from api.payments.providers.base import PaymentRequest
from api.users import User
from api.users import service as users_service

Providers = dict[str, PaymentProvider]


async def take_payment(
    session: AsyncSession,
    settings: Settings,
    providers: Providers,
    *,
    booking_id: uuid.UUID,
    payer: User,
    provider: str | None,
    payment_method: str,
) -> Payment:
    """Pay for the payer's held booking through a provider (the deployment's default when none
    is named) and apply its answer; the caller commits that answer."""
    name = provider or settings.payment_provider
    chosen = providers.get(name)
    if chosen is None:
        raise ProviderNotConfigured(f"Payments through {name} are off.", field="provider")
    chosen.check(payment_method)
    payment = await service.start(session, booking_id=booking_id, payer=payer, provider=chosen.name)
    payment_id = payment.id
    request = PaymentRequest(
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        payment_method=payment_method,
        idempotency_key=str(payment_id),
        metadata={"booking_id": str(payment.booking_id), "event_id": str(payment.event_id)},
    )
    await session.commit()  # recorded before the provider hears of it
    result = await chosen.create(request)
    return await service.apply(session, settings, payment_id=payment_id, result=result)


async def authenticate_sandbox_payment(
    session: AsyncSession,
    settings: Settings,
    providers: Providers,
    *,
    payment_id: uuid.UUID,
    payer: User,
    succeed: bool,
) -> Payment:
    """The payer passes (or fails) the sandbox's 3-D Secure challenge of a payment that
    `requires_action`; the outcome is applied and committed."""
    payment = await service.get_visible_or_raise(session, payment_id=payment_id, viewer=payer)
    sandbox = providers.get("sandbox")
    if (
        payment.user_id != payer.id
        or payment.status != PaymentStatus.requires_action
        or payment.provider_ref is None
        or not isinstance(sandbox, SandboxProvider)
    ):
        raise NoActionNeeded("This payment is not waiting for the payer's authentication.")
    ref, payment_id = payment.provider_ref, payment.id
    await session.commit()  # end the transaction: the provider is called outside it
    result = await sandbox.authenticate(ref, succeed=succeed)
    payment = await service.apply(session, settings, payment_id=payment_id, result=result)
    await session.commit()
    return payment


async def refresh_payment(
    session: AsyncSession,
    settings: Settings,
    providers: Providers,
    *,
    payment_id: uuid.UUID,
    payer: User,
) -> Payment:
    """The payer came back from the provider's own authentication step (Stripe.js shows the
    bank's page): read the payment back from the provider and apply it, committed. The webhook
    brings the same answer later; applying it twice changes nothing."""
    payment = await service.get_visible_or_raise(session, payment_id=payment_id, viewer=payer)
    chosen = providers.get(payment.provider)
    if payment.user_id != payer.id or payment.provider_ref is None or chosen is None:
        raise NoActionNeeded("This payment is not waiting for the payer's authentication.")
    if payment.status != PaymentStatus.requires_action:
        return payment
    ref, payment_id = payment.provider_ref, payment.id
    await session.commit()  # end the transaction: the provider is called outside it
    result = await chosen.retrieve(ref)
    payment = await service.apply(session, settings, payment_id=payment_id, result=result)
    await session.commit()
    return payment


async def refund_payment(
    session: AsyncSession,
    providers: Providers,
    *,
    payment_id: uuid.UUID,
    actor: User,
    amount_cents: int | None,
    reason: str | None,
) -> Refund:
    """Give back all or part of a payment (its organizer, finance, admins): the amount is set
    aside and committed, the provider asked, its answer applied and the attempt counted; the
    caller commits that answer."""
    payment = await service.get_visible_or_raise(session, payment_id=payment_id, viewer=actor)
    if not refunds.may_refund(payment, actor):
        raise NotPaymentManager("Only the event's organizer, finance or an admin refunds.")
    refund = await refunds.request_refund(
        session,
        payment_id=payment.id,
        amount_cents=amount_cents,
        reason=reason,
        requested_by=actor.id,
    )
    refund_id, amount = refund.id, refund.amount_cents
    provider, ref = providers[payment.provider], payment.provider_ref or ""
    await session.commit()  # the amount is set aside before the provider hears of it
    result = await provider.refund(ref=ref, amount_cents=amount, idempotency_key=str(refund_id))
    refund = await refunds.apply_refund(session, refund_id=refund_id, result=result)
    refund.attempts += 1
    return refund


async def mark_paid(
    session: AsyncSession,
    settings: Settings,
    *,
    payment_id: uuid.UUID,
    staff: User,
    reference: str | None,
) -> Payment:
    """Finance records that the money of a manual payment arrived: the payment succeeds and its
    booking is confirmed (its seats claimed again if the hold lapsed meanwhile)."""
    payment = await service.get_visible_or_raise(session, payment_id=payment_id, viewer=staff)
    if payment.provider != "manual" or payment.status != PaymentStatus.processing:
        raise NotManual("Only a manual payment still waiting for its money can be marked paid.")
    result = ProviderPayment(
        ref=payment.provider_ref or f"manual_{payment.id}",
        status=PaymentStatus.succeeded,
        method=payment.method,
    )
    payment = await service.apply(
        session, settings, payment_id=payment.id, result=result, reference=reference
    )
    await session.commit()
    return payment


async def receive_stripe_webhook(
    session: AsyncSession,
    settings: Settings,
    providers: Providers,
    *,
    payload: bytes,
    signature: str | None,
) -> bool:
    """Handle a call to Stripe's webhook endpoint; False when its event was handled before."""
    provider = providers.get("stripe")
    secret = settings.stripe_webhook_secret
    if not isinstance(provider, StripeProvider) or secret is None:
        raise ProviderNotConfigured("Stripe is not configured here.")
    return await _receive(
        session,
        settings,
        provider,
        secret=secret.get_secret_value(),
        payload=payload,
        signature=signature,
    )


async def receive_sandbox_webhook(
    session: AsyncSession,
    settings: Settings,
    providers: Providers,
    *,
    payload: bytes,
    signature: str | None,
) -> bool:
    """Handle a call to the sandbox's webhook endpoint (signed as Stripe signs, with the
    sandbox's secret); False when its event was handled before."""
    sandbox = providers.get("sandbox")
    if not isinstance(sandbox, SandboxProvider):
        raise ProviderNotConfigured("The sandbox is not configured here.")
    return await _receive(
        session,
        settings,
        sandbox,
        secret=settings.sandbox_webhook_secret.get_secret_value(),
        payload=payload,
        signature=signature,
    )


async def _receive(
    session: AsyncSession,
    settings: Settings,
    source: WebhookSource,
    *,
    secret: str,
    payload: bytes,
    signature: str | None,
) -> bool:
    delivery = webhooks.verify(payload, signature, secret=secret, source=source.name)
    await session.commit()  # the provider is read outside our transaction
    try:
        first = await webhooks.handle_webhook_event(
            session,
            settings,
            source,
            event_id=delivery.event_id,
            kind=delivery.kind,
            object_id=delivery.object_id,
        )
    except (LookupError, stripe.InvalidRequestError) as exc:
        raise UnknownWebhookObject(
            f"The event names something {source.name} does not have: {exc}"
        ) from None
    await session.commit()
    return first


async def agree_fee_terms(
    session: AsyncSession,
    *,
    organizer_id: uuid.UUID,
    bps: int,
    fixed_cents: int,
    actor: User,
) -> OrganizerFee:
    """Agree a platform fee with an organizer (admins); payments from now on use it."""
    organizer = await users_service.get_or_raise(session, user_id=organizer_id)
    agreed = await fees.set_fee_terms(
        session, organizer=organizer, bps=bps, fixed_cents=fixed_cents, actor=actor
    )
    await session.commit()
    return agreed
