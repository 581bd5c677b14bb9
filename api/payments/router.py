"""HTTP routes of payments."""

from __future__ import annotations

import uuid
from typing import Annotated

import stripe
from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.dependencies import AdminDep, CurrentUser, require_role
from api.config import Settings
from api.deps import Public, SessionDep, SettingsDep
from api.errors import problem_responses
from api.idempotency import IdempotencyDep
from api.payments import invoices, service
from api.payments.errors import (
    InvalidWebhook,
    NoActionNeeded,
    NotManual,
    NotPaymentManager,
    ProviderNotConfigured,
    UnknownWebhookObject,
)
from api.payments.models import Payment, PaymentStatus
from api.payments.providers import (
    PaymentProvider,
    ProviderPayment,
    SandboxProvider,
    StripeProvider,
    WebhookSource,
)
from api.payments.schemas import (
    FeeTerms,
    FeeTermsOut,
    MarkPaid,
    PaymentCreate,
    PaymentOut,
    RefundCreate,
    RefundOut,
    SandboxAuthentication,
    WebhookAck,
)
from api.users import service as users
from api.users.models import Role, User

router = APIRouter(tags=["payments"], responses=problem_responses(401, 422))


def _providers(request: Request) -> dict[str, PaymentProvider]:
    providers: dict[str, PaymentProvider] = request.app.state.payment_providers
    return providers


ProvidersDep = Annotated[dict[str, PaymentProvider], Depends(_providers)]


def payment_view(payment: Payment, viewer: User) -> PaymentOut:
    payout = (
        payment.amount_cents
        - payment.refunded_cents
        - payment.provider_fee_cents
        - payment.platform_fee_cents
        if payment.status == PaymentStatus.succeeded
        else 0
    )
    return PaymentOut(
        id=payment.id,
        booking_id=payment.booking_id,
        event_id=payment.event_id,
        provider=payment.provider,
        provider_ref=payment.provider_ref,
        status=payment.status,
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        refunded_cents=payment.refunded_cents,
        provider_fee_cents=payment.provider_fee_cents,
        platform_fee_cents=payment.platform_fee_cents,
        organizer_payout_cents=payout,
        method=payment.method,
        failure_code=payment.failure_code,
        failure_message=payment.failure_message,
        next_action=payment.next_action,
        client_secret=payment.client_secret if viewer.id == payment.user_id else None,
        created_at=payment.created_at,
        succeeded_at=payment.succeeded_at,
    )


@router.post(
    "/bookings/{bookingId}/payments",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentOut,
    responses=problem_responses(404, 409),
)
async def pay_booking(
    bookingId: uuid.UUID,
    body: PaymentCreate,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    providers: ProvidersDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """Pay for a held booking (send an `Idempotency-Key`).

    The answer is the payment as it stands: `succeeded` (the booking is confirmed and its
    tickets issued), `failed` (declined: `failure_code` says why; pay again with another
    method), or `requires_action` (the buyer must authenticate first).
    """
    if (replay := await idempotency.replay(session, user.id)) is not None:
        return replay
    name = body.provider or settings.payment_provider
    provider = providers.get(name)
    if provider is None:
        raise ProviderNotConfigured(f"Payments through {name} are off.", field="provider")
    provider.check(body.payment_method)
    payment = await service.start(session, booking_id=bookingId, payer=user, provider=provider.name)
    payment_id, amount, currency = payment.id, payment.amount_cents, payment.currency
    metadata = {"booking_id": str(payment.booking_id), "event_id": str(payment.event_id)}
    await session.commit()  # recorded before the provider hears of it
    result = await provider.create(
        amount_cents=amount,
        currency=currency,
        payment_method=body.payment_method,
        idempotency_key=str(payment_id),
        metadata=metadata,
    )
    payment = await service.apply(session, settings, payment_id=payment_id, result=result)
    return await idempotency.commit(
        session,
        payment_view(payment, user),
        status_code=status.HTTP_201_CREATED,
        principal=user.id,
    )


@router.get("/payments/{paymentId}", response_model=PaymentOut, responses=problem_responses(404))
async def get_payment(paymentId: uuid.UUID, user: CurrentUser, session: SessionDep) -> PaymentOut:
    """A payment, for its payer, the event's organizer, finance and admins."""
    payment = await service.get_visible_or_raise(session, payment_id=paymentId, viewer=user)
    return payment_view(payment, user)


@router.post(
    "/payments/{paymentId}/sandbox/authenticate",
    response_model=PaymentOut,
    responses=problem_responses(404, 409),
)
async def sandbox_authenticate(
    paymentId: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    providers: ProvidersDep,
    body: SandboxAuthentication | None = None,
) -> PaymentOut:
    """Sandbox only: the payer passes (or fails) the 3-D Secure challenge of a payment that
    `requires_action`, as the bank's page would in Stripe's test mode."""
    payment = await service.get_visible_or_raise(session, payment_id=paymentId, viewer=user)
    sandbox = providers.get("sandbox")
    if (
        payment.user_id != user.id
        or payment.status != PaymentStatus.requires_action
        or payment.provider_ref is None
        or not isinstance(sandbox, SandboxProvider)
    ):
        raise NoActionNeeded("This payment is not waiting for the payer's authentication.")
    ref, payment_id = payment.provider_ref, payment.id
    await session.commit()  # end the transaction: the provider is called outside it
    result = await sandbox.authenticate(ref, succeed=(body or SandboxAuthentication()).succeed)
    payment = await service.apply(session, settings, payment_id=payment_id, result=result)
    await session.commit()
    return payment_view(payment, user)


@router.post(
    "/payments/{paymentId}/refunds",
    status_code=status.HTTP_201_CREATED,
    response_model=RefundOut,
    responses=problem_responses(403, 404, 409),
)
async def refund_payment(
    paymentId: uuid.UUID,
    body: RefundCreate,
    user: CurrentUser,
    session: SessionDep,
    providers: ProvidersDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """Give back all or part of a payment (the event's organizer, finance, admins; send an
    `Idempotency-Key`). Never more than remains, even for concurrent requests; a payment
    refunded in full refunds its booking and frees its seats. Fees are not returned."""
    if (replay := await idempotency.replay(session, user.id)) is not None:
        return replay
    payment = await service.get_visible_or_raise(session, payment_id=paymentId, viewer=user)
    if not service.may_refund(payment, user):
        raise NotPaymentManager("Only the event's organizer, finance or an admin refunds.")
    refund = await service.request_refund(
        session,
        payment_id=payment.id,
        amount_cents=body.amount_cents,
        reason=body.reason,
        requested_by=user.id,
    )
    refund_id, amount = refund.id, refund.amount_cents
    provider, ref = providers[payment.provider], payment.provider_ref or ""
    await session.commit()  # the amount is set aside before the provider hears of it
    result = await provider.refund(ref=ref, amount_cents=amount, idempotency_key=str(refund_id))
    refund = await service.apply_refund(session, refund_id=refund_id, result=result)
    refund.attempts += 1
    return await idempotency.commit(
        session,
        RefundOut.model_validate(refund),
        status_code=status.HTTP_201_CREATED,
        principal=user.id,
    )


FinanceDep = Annotated[User, Depends(require_role(Role.finance, Role.admin))]


@router.post(
    "/payments/{paymentId}/mark-paid",
    response_model=PaymentOut,
    responses=problem_responses(403, 404, 409),
)
async def mark_paid(
    paymentId: uuid.UUID,
    staff: FinanceDep,
    session: SessionDep,
    settings: SettingsDep,
    body: MarkPaid | None = None,
) -> PaymentOut:
    """Finance records that the money of a bank transfer or a payment at the door arrived: the
    booking is confirmed (its seats claimed again if the hold lapsed meanwhile)."""
    payment = await service.get_visible_or_raise(session, payment_id=paymentId, viewer=staff)
    if payment.provider != "manual" or payment.status != PaymentStatus.processing:
        raise NotManual("Only a manual payment still waiting for its money can be marked paid.")
    result = ProviderPayment(
        ref=payment.provider_ref or f"manual_{payment.id}",
        status=PaymentStatus.succeeded,
        method=payment.method,
    )
    payment = await service.apply(
        session,
        settings,
        payment_id=payment.id,
        result=result,
        reference=(body or MarkPaid()).reference,
    )
    await session.commit()
    return payment_view(payment, staff)


WEBHOOK_BODY = {
    "requestBody": {
        "required": True,
        "description": "An event, signed in the Stripe-Signature header",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


async def _receive(
    request: Request,
    session: AsyncSession,
    settings: Settings,
    source: WebhookSource,
    secret: str,
) -> WebhookAck:
    payload = await request.body()
    try:
        event = stripe.Webhook.construct_event(
            payload, request.headers.get("stripe-signature"), secret, tolerance=300
        )
    except (ValueError, stripe.SignatureVerificationError) as exc:
        raise InvalidWebhook(f"This is not a valid {source.name} event: {exc}") from None
    await session.commit()  # the provider is read outside our transaction
    try:
        first = await service.handle_webhook_event(
            session,
            settings,
            source,
            event_id=event.id,
            kind=event.type,
            object_id=str(event.data.object.id),
        )
    except (LookupError, stripe.InvalidRequestError) as exc:
        raise UnknownWebhookObject(
            f"The event names something {source.name} does not have: {exc}"
        ) from None
    await session.commit()
    return WebhookAck(received=True, duplicate=not first)


@router.post(
    "/payments/webhooks/stripe",
    response_model=WebhookAck,
    dependencies=[Public],
    responses=problem_responses(400),
    openapi_extra=WEBHOOK_BODY,
)
async def stripe_webhook(
    request: Request, session: SessionDep, settings: SettingsDep, providers: ProvidersDep
) -> WebhookAck:
    """Stripe's calls about payments, refunds (also those made in Stripe's dashboard) and
    disputes. The signature (and its timestamp, 5 minutes' tolerance) is checked; each event is
    handled once; the object is read again from Stripe, so events that come twice or out of
    order leave the latest state."""
    provider = providers.get("stripe")
    secret = settings.stripe_webhook_secret
    if not isinstance(provider, StripeProvider) or secret is None:
        raise ProviderNotConfigured("Stripe is not configured here.")
    return await _receive(request, session, settings, provider, secret.get_secret_value())


@router.post(
    "/payments/webhooks/sandbox",
    response_model=WebhookAck,
    dependencies=[Public],
    responses=problem_responses(400),
    openapi_extra=WEBHOOK_BODY,
)
async def sandbox_webhook(
    request: Request, session: SessionDep, settings: SettingsDep, providers: ProvidersDep
) -> WebhookAck:
    """The sandbox's events, delivered by the worker exactly as Stripe delivers its own (the
    same signature scheme, with the sandbox webhook secret), so the whole asynchronous flow can
    be watched locally: a SEPA debit clearing, a dispute, a refund made at the provider."""
    sandbox = providers.get("sandbox")
    if not isinstance(sandbox, SandboxProvider):
        raise ProviderNotConfigured("The sandbox is not configured here.")
    return await _receive(
        request, session, settings, sandbox, settings.sandbox_webhook_secret.get_secret_value()
    )


@router.get(
    "/bookings/{bookingId}/invoice",
    response_class=Response,
    responses={
        200: {
            "description": "The invoice, then a credit note per refund, as one PDF",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        },
        **problem_responses(404),
    },
)
async def booking_invoice(bookingId: uuid.UUID, user: CurrentUser, session: SessionDep) -> Response:
    """The invoice of a paid booking and its credit notes (PDF): for the buyer, the organizer,
    finance and admins."""
    documents = await service.invoices_visible_or_raise(session, booking_id=bookingId, viewer=user)
    return Response(
        content=invoices.render_pdf(documents),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{documents[0].number}.pdf"'},
    )


@router.get(
    "/admin/organizers/{userId}/fees",
    response_model=FeeTermsOut,
    tags=["admin"],
    responses=problem_responses(403),
)
async def get_fee_terms(
    userId: uuid.UUID, _admin: AdminDep, session: SessionDep, settings: SettingsDep
) -> FeeTermsOut:
    """The platform fee an organizer pays on each payment (admins)."""
    bps, fixed, agreed = await service.fee_terms(session, settings, organizer_id=userId)
    return FeeTermsOut(organizer_id=userId, fee_bps=bps, fee_fixed_cents=fixed, agreed=agreed)


@router.put(
    "/admin/organizers/{userId}/fees",
    response_model=FeeTermsOut,
    tags=["admin"],
    responses=problem_responses(403, 404, 409),
)
async def put_fee_terms(
    userId: uuid.UUID, body: FeeTerms, admin: AdminDep, session: SessionDep
) -> FeeTermsOut:
    """Agree a platform fee with an organizer (admins); payments from now on use it."""
    organizer = await users.get_or_raise(session, user_id=userId)
    agreed = await service.set_fee_terms(
        session,
        organizer=organizer,
        bps=body.fee_bps,
        fixed_cents=body.fee_fixed_cents,
        actor=admin,
    )
    await session.commit()
    return FeeTermsOut(
        organizer_id=userId,
        fee_bps=agreed.fee_bps,
        fee_fixed_cents=agreed.fee_fixed_cents,
        agreed=True,
    )
