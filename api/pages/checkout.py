"""Buying: the booking form on an event's page holds the seats, the checkout takes the payment
(the sandbox's test cards, its authentication step, or bank transfer), and the buyer's bookings
show the tickets with their QR codes. The same functions as `POST /bookings` and
`POST /bookings/{id}/payments`."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Path, Request
from fastapi.responses import Response
from pydantic import ValidationError

from api.bookings import service as bookings_service
from api.bookings.errors import BookingNotFound
from api.bookings.models import Booking, BookingStatus
from api.bookings.schemas import BookingCreate
from api.config import Settings
from api.deps import SessionDep, SettingsDep, StorageDep, WritingSessionDep
from api.errors import AppError
from api.events import Event
from api.events import service as events_service
from api.idempotency import Idempotency
from api.pages.account import field_errors
from api.pages.problems import Problem
from api.pages.rendering import CSP, STRIPE_CSP, redirect, render
from api.pages.routing import FormRejected, page_router
from api.pages.storefront import event_context
from api.pages.visitor import CheckedForm, SignedIn
from api.payments import service as payments_service
from api.payments import workflows as payments
from api.payments.models import Payment, PaymentStatus
from api.payments.providers.sandbox_cards import TEST_CARDS
from api.payments.router import ProvidersDep
from api.users import User

router = page_router()
BookingId = Annotated[uuid.UUID, Path()]


async def own_booking(session: Any, *, booking_id: uuid.UUID, user: User) -> Booking:
    """The visitor's own booking (organizers and admins see others' in the back office)."""
    booking = await bookings_service.get_visible_or_raise(
        session, booking_id=booking_id, viewer=user
    )
    if booking.user_id != user.id:
        raise BookingNotFound(f"No booking with id {booking_id}.")
    return booking


def _lines_from(form: Any, event: Event) -> list[dict[str, Any]]:
    """What the booking form asked for: a quantity per ticket type, and attendee names one
    per line where the event asks for them."""
    lines = []
    for ticket_type in event.ticket_types:
        raw = str(form.get(f"qty-{ticket_type.id}", "0") or "0").strip()
        quantity = int(raw) if raw.isdigit() else -1
        if quantity == 0:
            continue
        line: dict[str, Any] = {"ticket_type_id": ticket_type.id, "quantity": quantity}
        names = str(form.get(f"names-{ticket_type.id}", "")).splitlines()
        if event.attendee_names_required:
            line["attendees"] = [n.strip() for n in names if n.strip()]
        lines.append(line)
    return lines


@router.post("/event/{slug}/book")
async def book(
    request: Request,
    slug: Annotated[str, Path(max_length=120)],
    form_ok: CheckedForm,
    user: SignedIn,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
) -> Response:
    """Hold the seats chosen on the event's page; free ones are confirmed at once. The form
    sent twice (a double click, a retry after a timeout) holds the seats once: its key works as
    the API's `Idempotency-Key`, with the same race rules."""
    event = await events_service.get_by_slug_or_raise(session, slug=slug, viewer=user)
    form = await request.form()
    asked = urlencode(sorted((name, str(value)) for name, value in form.multi_items()))
    once = form_once(request, str(form.get("form_key", "")), asked.encode())
    if (replay := await once.replay(session, user.id)) is not None:
        return _to_booking(request, replay)
    try:
        data = BookingCreate(event_id=event.id, lines=_lines_from(form, event))
        booking = await bookings_service.create(
            session, user=user, data=data, hold=timedelta(minutes=settings.booking_hold_minutes)
        )
    except (ValidationError, AppError) as error:
        errors = field_errors(error)
        context = await event_context(session, event, viewer=user, storage=storage) | {
            "errors": {"form": next(iter(errors.values()))},
            "chosen": {k: str(v) for k, v in form.items() if k != "csrf_token"},
        }
        raise FormRejected.render(request, "event.html", context) from error
    held = {"booking_id": str(booking.id), "confirmed": booking.status == BookingStatus.confirmed}
    return _to_booking(
        request, await once.respond(session, held, status_code=303, principal=user.id)
    )


def form_once(request: Request, form_key: str, body: bytes) -> Idempotency:
    """The booking form's key, with what it asked for: the same form sent again is a replay,
    a changed one (back, another quantity, again) a new request."""
    key = hashlib.sha256(form_key.encode() + b"|" + body).hexdigest() if form_key else None
    return Idempotency(key, request.method, request.url.path, body)


def _to_booking(request: Request, answer: Response) -> Response:
    held = json.loads(bytes(answer.body))
    if held["confirmed"]:
        return redirect(request, f"/my/bookings/{held['booking_id']}")
    return redirect(request, f"/checkout/{held['booking_id']}")


@router.get("/checkout/{booking_id}")
async def checkout(
    request: Request,
    booking_id: BookingId,
    user: SignedIn,
    session: SessionDep,
    settings: SettingsDep,
    providers: ProvidersDep,
    declined: uuid.UUID | None = None,
) -> Response:
    """The hold, its countdown, and how to pay."""
    booking = await own_booking(session, booking_id=booking_id, user=user)
    live = await payments_service.live_payment(session, booking_id=booking.id)
    if booking.status == BookingStatus.confirmed or (
        live is not None and live.status == PaymentStatus.processing
    ):
        return redirect(request, f"/my/bookings/{booking.id}")
    message = None
    if declined is not None:  # the answer to the last try, after its redirect
        payment = await payments_service.get_visible_or_raise(
            session, payment_id=declined, viewer=user
        )
        if payment.booking_id == booking.id and payment.status == PaymentStatus.failed:
            text = payment.failure_message or payment.failure_code or ""
            message = Problem(text, f"decline.{payment.failure_code}")
    return _checkout_page(
        request, await _checkout_context(session, settings, providers, booking, message)
    )


def _checkout_page(request: Request, context: dict[str, Any], status_code: int = 200) -> Response:
    csp = STRIPE_CSP if context["stripe_key"] else CSP
    return render(request, "checkout.html", context, status_code=status_code, csp=csp)


@router.post("/checkout/{booking_id}/pay")
async def pay(
    request: Request,
    booking_id: BookingId,
    form_ok: CheckedForm,
    user: SignedIn,
    session: SessionDep,
    settings: SettingsDep,
    providers: ProvidersDep,
) -> Response:
    """Pay with a test card of the sandbox, or choose bank transfer. A declined card is said
    so on the checkout page, where another can be tried."""
    booking = await own_booking(session, booking_id=booking_id, user=user)
    form = await request.form()
    method = str(form.get("method", "")).strip()
    card = str(form.get("card", "")).strip().replace(" ", "")
    if method == "stripe":  # the PaymentMethod id Stripe.js made from the Payment Element
        provider, payment_method = "stripe", str(form.get("payment_method", "")).strip()
    elif method == "bank_transfer":
        provider, payment_method = "manual", "bank_transfer"
    else:
        provider, payment_method = "sandbox", card or method
    try:
        payment = await payments.take_payment(
            session,
            settings,
            providers,
            booking_id=booking.id,
            payer=user,
            provider=provider,
            payment_method=payment_method,
        )
    except AppError as error:
        errors = field_errors(error)
        message = next(iter(errors.values()))
        context = await _checkout_context(session, settings, providers, booking, message)
        raise FormRejected(_checkout_page(request, context, 422)) from error
    return _after(request, booking, payment)


async def _checkout_context(
    session: Any,
    settings: Settings,
    providers: dict[str, Any],
    booking: Booking,
    message: str | None,
) -> dict[str, Any]:
    event = await events_service.get(session, event_id=booking.event_id)
    stripe_key = settings.stripe_publishable_key if "stripe" in providers else None
    return {
        "stripe_key": stripe_key,
        "booking": booking,
        "event": event,
        "status": bookings_service.effective_status(booking).value,
        "names": {t.id: t.name for t in event.ticket_types} if event else {},
        # The sandbox's test cards only where it is the deployment's provider.
        "cards": TEST_CARDS if settings.payment_provider == "sandbox" else (),
        "bank_transfer": "manual" in providers,
        "errors": {"form": message} if message else {},
    }


def _after(request: Request, booking: Booking, payment: Payment) -> Response:
    """Where a payment's answer takes the buyer."""
    if payment.status == PaymentStatus.requires_action:
        return redirect(request, f"/checkout/{booking.id}/authenticate/{payment.id}")
    if payment.status == PaymentStatus.failed:
        return redirect(request, f"/checkout/{booking.id}?declined={payment.id}")
    return redirect(request, f"/my/bookings/{booking.id}")


@router.get("/checkout/{booking_id}/authenticate/{payment_id}")
async def authenticate_form(
    request: Request,
    booking_id: BookingId,
    payment_id: Annotated[uuid.UUID, Path()],
    user: SignedIn,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """The sandbox's stand-in for the bank's 3-D Secure page."""
    booking = await own_booking(session, booking_id=booking_id, user=user)
    payment = await payments_service.get_visible_or_raise(
        session, payment_id=payment_id, viewer=user
    )
    if payment.status != PaymentStatus.requires_action:
        return _after(request, booking, payment)
    if payment.provider == "stripe":  # the bank's own step, shown by Stripe.js
        context = {
            "booking": booking,
            "payment": payment,
            "stripe_key": settings.stripe_publishable_key,
        }
        return render(request, "authenticate_stripe.html", context, csp=STRIPE_CSP)
    return render(request, "authenticate.html", {"booking": booking, "payment": payment})


@router.get("/checkout/{booking_id}/authenticated/{payment_id}")
async def authenticated(
    request: Request,
    booking_id: BookingId,
    payment_id: Annotated[uuid.UUID, Path()],
    user: SignedIn,
    session: WritingSessionDep,
    settings: SettingsDep,
    providers: ProvidersDep,
) -> Response:
    """Where Stripe.js comes back after the bank's step: the payment is read back from Stripe
    (its webhook brings the same answer later) and the buyer sees where it stands."""
    booking = await own_booking(session, booking_id=booking_id, user=user)
    payment = await payments.refresh_payment(
        session, settings, providers, payment_id=payment_id, payer=user
    )
    return _after(request, booking, payment)


@router.post("/checkout/{booking_id}/authenticate/{payment_id}")
async def authenticate(
    request: Request,
    booking_id: BookingId,
    payment_id: Annotated[uuid.UUID, Path()],
    form_ok: CheckedForm,
    user: SignedIn,
    session: SessionDep,
    settings: SettingsDep,
    providers: ProvidersDep,
) -> Response:
    booking = await own_booking(session, booking_id=booking_id, user=user)
    form = await request.form()
    payment = await payments.authenticate_sandbox_payment(
        session,
        settings,
        providers,
        payment_id=payment_id,
        payer=user,
        succeed=form.get("outcome") == "pass",
    )
    return _after(request, booking, payment)
