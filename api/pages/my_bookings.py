"""The buyer's bookings: the list, and one booking with its tickets and QR codes, the tickets
as PDF, the invoice and credit notes, a calendar entry, and cancellation within the event's
policy. The same functions as the JSON API's booking routes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from api.bookings import service as bookings_service
from api.bookings import tickets
from api.bookings.models import Booking, BookingStatus, TicketStatus
from api.config import Settings
from api.deps import SessionDep, SettingsDep
from api.errors import AppError, NotFound
from api.events import service as events_service
from api.notifications.causes import booking_context, event_context
from api.notifications.compose import calendar_entry
from api.pages.checkout import BookingId, own_booking
from api.pages.problems import Problem
from api.pages.rendering import attachment, redirect, render
from api.pages.routing import FormRejected, page_router
from api.pages.visitor import CheckedForm, SignedIn
from api.payments import service as payments_service
from api.payments.models import PaymentStatus

router = page_router()


@router.get("/my/bookings")
async def my_bookings(request: Request, user: SignedIn, session: SessionDep) -> Response:
    """The visitor's bookings, newest first, their places on waitlists with any offer, and the
    doors they work."""
    bookings, total = await bookings_service.list_for_user(
        session, user=user, page=1, page_size=100
    )
    places = await bookings_service.places_of(session, user_id=user.id)
    event_ids = {b.event_id for b in bookings} | {entry.event_id for entry, _ in places}
    events = {e.id: e for e in await events_service.get_many(session, event_ids=list(event_ids))}
    rows = [
        (b, events.get(b.event_id), bookings_service.effective_status(b).value) for b in bookings
    ]
    waitlist = []
    for entry, position in places:
        event = events[entry.event_id]
        ticket_type = next(t for t in event.ticket_types if t.id == entry.ticket_type_id)
        waitlist.append((entry, position, event, ticket_type))
    # Door staff (granted by an organizer) find the events whose tickets they check here.
    doors = await events_service.door_events(session, user=user)
    context = {"rows": rows, "total": total, "waitlist": waitlist, "doors": doors}
    return render(request, "my_bookings.html", context)


async def _booking_context(
    session: AsyncSession, settings: Settings, booking: Booking
) -> dict[str, Any]:
    event = await events_service.get(session, event_id=booking.event_id)
    assert event is not None  # a booking's event is never deleted, only cancelled
    issued = await tickets.list_for_booking(session, booking_id=booking.id)
    live = await payments_service.live_payment(session, booking_id=booking.id)
    status = bookings_service.effective_status(booking)
    deadline = bookings_service.attendee_deadline(event)
    return {
        "booking": booking,
        "event": event,
        "status": status.value,
        "names": {t.id: t.name for t in event.ticket_types},
        "tickets": [
            # segno's SVG of our own signed payload: no text of anyone's in it. A void ticket
            # (its booking cancelled) shows no code: it admits nobody.
            (
                ticket,
                Markup(tickets.qr_svg(tickets.qr_payload(settings, ticket)))  # noqa: S704
                if ticket.status == TicketStatus.valid
                else None,
            )
            for ticket in issued
        ],
        # Bank transfer: what to send where, until finance sees it arrive.
        "transfer": live.next_action
        if live is not None and live.status == PaymentStatus.processing
        else None,
        "payment": live,
        "paid": live is not None and live.status == PaymentStatus.succeeded,
        # The event's policy, said before the button; the service decides.
        "cancel_until": deadline,
        "cancellable": status in (BookingStatus.pending, BookingStatus.confirmed)
        and deadline is not None
        and datetime.now(UTC) <= deadline,
        "errors": {},
    }


@router.get("/my/bookings/{booking_id}")
async def my_booking(
    request: Request,
    booking_id: BookingId,
    user: SignedIn,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """One booking: what it holds, what it cost, its tickets with their QR codes, and what can
    be done with it."""
    booking = await own_booking(session, booking_id=booking_id, user=user)
    return render(request, "my_booking.html", await _booking_context(session, settings, booking))


@router.post("/my/bookings/{booking_id}/cancel")
async def cancel(
    request: Request,
    booking_id: BookingId,
    form_ok: CheckedForm,
    user: SignedIn,
    session: SessionDep,
    settings: SettingsDep,
    reason: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Cancel within the event's policy; a paid booking is refunded as the API's cancellation
    is (the refund follows from `booking.cancelled`)."""
    booking = await own_booking(session, booking_id=booking_id, user=user)
    try:
        await bookings_service.cancel(
            session, booking=booking, actor=user, reason=reason.strip() or None
        )
    except AppError as error:
        context = await _booking_context(session, settings, booking)
        context["errors"] = {"form": Problem.of(error)}
        raise FormRejected.render(request, "my_booking.html", context, 409) from error
    return redirect(request, f"/my/bookings/{booking.id}")


@router.get("/my/bookings/{booking_id}/tickets.pdf")
async def tickets_pdf(
    booking_id: BookingId, user: SignedIn, session: SessionDep, settings: SettingsDep
) -> Response:
    """The tickets to print, one page each (the same PDF the confirmation email carries)."""
    booking = await own_booking(session, booking_id=booking_id, user=user)
    pdf = await bookings_service.tickets_pdf(session, settings, booking_id=booking.id)
    if pdf is None:
        raise NotFound("This booking has no tickets yet.")
    return attachment(pdf, "application/pdf", f"tickets-{booking.id.hex[:8]}.pdf")


@router.get("/my/bookings/{booking_id}/invoice.pdf")
async def invoice_pdf(booking_id: BookingId, user: SignedIn, session: SessionDep) -> Response:
    """The invoice and any credit notes, as the API's `GET /bookings/{id}/invoice` gives them."""
    booking = await own_booking(session, booking_id=booking_id, user=user)
    name, pdf = await payments_service.visible_invoice_pdf(
        session, booking_id=booking.id, viewer=user
    )
    return attachment(pdf, "application/pdf", name)


@router.get("/my/bookings/{booking_id}/event.ics")
async def calendar(
    booking_id: BookingId, user: SignedIn, session: SessionDep, settings: SettingsDep
) -> Response:
    """The event in the buyer's calendar (the entry the confirmation email carries)."""
    booking = await own_booking(session, booking_id=booking_id, user=user)
    event = await events_service.get(session, event_id=booking.event_id)
    assert event is not None
    context = event_context(settings, event) | booking_context(settings, booking.id)
    entry = calendar_entry(context, uid=f"{booking.id}@tessera")
    return attachment(entry, "text/calendar", f"event-{booking.id.hex[:8]}.ics")
