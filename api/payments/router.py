"""HTTP routes of payments."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import JSONResponse

from api.auth.dependencies import AdminDep, CurrentUser, require_role
from api.deps import Public, SessionDep, SettingsDep
from api.errors import problem_responses
from api.idempotency import IdempotencyDep
from api.payments import fees, service, workflows
from api.payments.models import Payment
from api.payments.providers import PaymentProvider
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
from api.users.models import Role, User

router = APIRouter(tags=["payments"], responses=problem_responses(401, 422))


async def _providers(request: Request) -> dict[str, PaymentProvider]:
    providers: dict[str, PaymentProvider] = request.app.state.payment_providers
    return providers


ProvidersDep = Annotated[dict[str, PaymentProvider], Depends(_providers)]


def payment_view(payment: Payment, viewer: User) -> PaymentOut:
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
        organizer_payout_cents=fees.organizer_payout(payment),
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
    payment = await workflows.take_payment(
        session,
        settings,
        providers,
        booking_id=bookingId,
        payer=user,
        provider=body.provider,
        payment_method=body.payment_method,
    )
    return await idempotency.respond(
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
    payment = await workflows.authenticate_sandbox_payment(
        session,
        settings,
        providers,
        payment_id=paymentId,
        payer=user,
        succeed=(body or SandboxAuthentication()).succeed,
    )
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
    refund = await workflows.refund_payment(
        session,
        providers,
        payment_id=paymentId,
        actor=user,
        amount_cents=body.amount_cents,
        reason=body.reason,
    )
    return await idempotency.respond(
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
    payment = await workflows.mark_paid(
        session,
        settings,
        payment_id=paymentId,
        staff=staff,
        reference=(body or MarkPaid()).reference,
    )
    return payment_view(payment, staff)


WebhookRoute = Callable[..., Awaitable[WebhookAck]]
ReceiveWebhook = Callable[..., Awaitable[bool]]

WEBHOOK_BODY = {
    "requestBody": {
        "required": True,
        "description": "An event, signed in the Stripe-Signature header",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


def _webhook_route(path: str) -> Callable[[WebhookRoute], WebhookRoute]:
    """A provider's webhook endpoint: public, a signed event in, an acknowledgement out."""
    return router.post(
        path,
        response_model=WebhookAck,
        dependencies=[Public],
        responses=problem_responses(400),
        openapi_extra=WEBHOOK_BODY,
    )


async def _acknowledge(
    receive: ReceiveWebhook,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    providers: ProvidersDep,
) -> WebhookAck:
    """Hand the signed call to its workflow; a duplicate event is acknowledged as such."""
    first = await receive(
        session,
        settings,
        providers,
        payload=await request.body(),
        signature=request.headers.get("stripe-signature"),
    )
    return WebhookAck(received=True, duplicate=not first)


@_webhook_route("/payments/webhooks/stripe")
async def stripe_webhook(
    request: Request, session: SessionDep, settings: SettingsDep, providers: ProvidersDep
) -> WebhookAck:
    """Stripe's calls about payments, refunds (also those made in Stripe's dashboard) and
    disputes. The signature (and its timestamp, 5 minutes' tolerance) is checked; each event is
    handled once; the object is read again from Stripe, so events that come twice or out of
    order leave the latest state."""
    return await _acknowledge(
        workflows.receive_stripe_webhook, request, session, settings, providers
    )


@_webhook_route("/payments/webhooks/sandbox")
async def sandbox_webhook(
    request: Request, session: SessionDep, settings: SettingsDep, providers: ProvidersDep
) -> WebhookAck:
    """The sandbox's events, delivered by the worker exactly as Stripe delivers its own (the
    same signature scheme, with the sandbox webhook secret), so the whole asynchronous flow can
    be watched locally: a SEPA debit clearing, a dispute, a refund made at the provider."""
    return await _acknowledge(
        workflows.receive_sandbox_webhook, request, session, settings, providers
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
    name, pdf = await service.visible_invoice_pdf(session, booking_id=bookingId, viewer=user)
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
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
    bps, fixed, agreed = await fees.fee_terms(session, settings, organizer_id=userId)
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
    agreed = await workflows.agree_fee_terms(
        session,
        organizer_id=userId,
        bps=body.fee_bps,
        fixed_cents=body.fee_fixed_cents,
        actor=admin,
    )
    return FeeTermsOut(
        organizer_id=userId,
        fee_bps=agreed.fee_bps,
        fee_fixed_cents=agreed.fee_fixed_cents,
        agreed=True,
    )
