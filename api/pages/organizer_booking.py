"""One booking as its event's organizer (or an admin) sees it: the buyer, the seats and tickets
with their check-ins, the payment and its refunds, the booking's history, and a refund of all or
part of what is left. The same functions as the JSON API's booking and refund routes."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Path, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.bookings import service as bookings_service
from api.bookings import tickets as tickets_service
from api.bookings.models import Booking
from api.deps import SessionDep
from api.errors import AppError
from api.events import service as events_service
from api.pages.back_office import Organizer
from api.pages.checkout import form_once
from api.pages.problems import Problem, Unreadable
from api.pages.rendering import attachment, redirect, render
from api.pages.routing import FormRejected, page_router
from api.pages.visitor import CheckedForm
from api.payments import service as payments_service
from api.payments import workflows as payments_workflows
from api.payments.router import ProvidersDep
from api.users import User
from api.users import service as users_service

router = page_router()
BookingId = Annotated[uuid.UUID, Path()]


async def _context(session: AsyncSession, booking: Booking, user: User) -> dict[str, Any]:
    event = await events_service.get(session, event_id=booking.event_id)
    assert event is not None
    payment = await payments_service.live_payment(session, booking_id=booking.id)
    changes = await bookings_service.history(session, booking_id=booking.id)
    people = {
        u.id: u.public_name
        for u in await users_service.get_many(
            session,
            user_ids={booking.user_id} | {c.actor_id for c in changes if c.actor_id is not None},
        )
    }
    buyer = await users_service.get(session, user_id=booking.user_id)
    return {
        "booking": booking,
        "status": bookings_service.effective_status(booking).value,
        "event": event,
        "buyer": buyer,
        "names": {t.id: t.name for t in event.ticket_types},
        "tickets": await tickets_service.list_for_booking(session, booking_id=booking.id),
        "payment": payment,
        "left_cents": payment.amount_cents - payment.refunded_cents if payment else 0,
        "refunds": await payments_service.refunds_of(session, booking_id=booking.id),
        "history": [
            (change, people.get(change.actor_id, "") if change.actor_id else "")
            for change in changes
        ],
        "errors": {},
        "form_key": uuid.uuid4().hex,
    }


async def _managed(session: AsyncSession, booking_id: uuid.UUID, user: User) -> Booking:
    """A booking of one of the organizer's events (any for an admin); 404 otherwise, as the
    API answers."""
    return await bookings_service.get_visible_or_raise(session, booking_id=booking_id, viewer=user)


@router.get("/organizer/bookings/{booking_id}")
async def booking_page(
    request: Request, booking_id: BookingId, user: Organizer, session: SessionDep
) -> Response:
    booking = await _managed(session, booking_id, user)
    return render(request, "organizer_booking.html", await _context(session, booking, user))


def _amount(text: str) -> int | None:
    """The amount to refund in minor units; empty: all that is left."""
    if not text.strip():
        return None
    try:
        return int((Decimal(text.strip().replace(",", ".")) * 100).to_integral_value())
    except InvalidOperation:
        raise Unreadable("Give an amount, like 12.50.", field="amount") from None


@router.post("/organizer/bookings/{booking_id}/refund")
async def refund(
    request: Request,
    booking_id: BookingId,
    _form_ok: CheckedForm,
    user: Organizer,
    session: SessionDep,
    providers: ProvidersDep,
) -> Response:
    """Give back all or part of what is left of the payment; sent twice (a double click), it
    refunds once, as the API's `Idempotency-Key` does."""
    booking = await _managed(session, booking_id, user)
    form = await request.form()
    asked = {name: str(form.get(name, "")) for name in ("amount", "reason")}
    once = form_once(request, str(form.get("form_key", "")), urlencode(asked).encode())
    if await once.replay(session, user.id) is not None:
        return redirect(request, f"/organizer/bookings/{booking.id}?refunded=1")
    payment = await payments_service.live_payment(session, booking_id=booking.id)
    try:
        if payment is None:
            raise Unreadable("This booking has no payment to refund.", field="amount")
        await payments_workflows.refund_payment(
            session,
            providers,
            payment_id=payment.id,
            actor=user,
            amount_cents=_amount(asked["amount"]),
            reason=asked["reason"].strip() or None,
        )
    except AppError as error:
        context = await _context(session, booking, user)
        field = "reason" if (error.field or "").endswith("reason") else "amount"
        context["errors"] = {field: Problem.of(error)}
        raise FormRejected.render(
            request, "organizer_booking.html", context, status_code=error.status
        ) from None
    await once.respond(session, {"refunded": True}, status_code=303, principal=user.id)
    return redirect(request, f"/organizer/bookings/{booking.id}?refunded=1")


@router.get("/organizer/bookings/{booking_id}/invoice.pdf")
async def invoice_pdf(booking_id: BookingId, user: Organizer, session: SessionDep) -> Response:
    """The booking's invoice and credit notes as one PDF, for its organizer."""
    name, content = await payments_service.visible_invoice_pdf(
        session, booking_id=booking_id, viewer=user
    )
    return attachment(content, "application/pdf", name)
