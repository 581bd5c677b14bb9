"""HTTP routes of bookings."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse

from api.auth.dependencies import CurrentUser, OrganizerDep
from api.bookings import service, tickets
from api.bookings.models import Booking
from api.bookings.schemas import (
    BookingCreate,
    BookingOut,
    BookingPage,
    CancelBooking,
    CheckInOut,
    CheckInRequest,
    LineOut,
    TicketOut,
)
from api.deps import SessionDep, SettingsDep
from api.errors import problem_responses
from api.events import service as events_service
from api.idempotency import IdempotencyDep

router = APIRouter(tags=["bookings"], responses=problem_responses(401, 422))


def booking_view(booking: Booking) -> BookingOut:
    return BookingOut(
        id=booking.id,
        user_id=booking.user_id,
        event_id=booking.event_id,
        status=service.effective_status(booking),
        currency=booking.currency,
        total_cents=booking.total_cents,
        seats=booking.seats,
        expires_at=booking.expires_at,
        created_at=booking.created_at,
        confirmed_at=booking.confirmed_at,
        cancelled_at=booking.cancelled_at,
        lines=[LineOut.model_validate(line) for line in booking.lines],
    )


@router.post(
    "/bookings",
    status_code=status.HTTP_201_CREATED,
    response_model=BookingOut,
    responses=problem_responses(404, 409, 503),
)
async def create_booking(
    body: BookingCreate,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """Hold seats on one event (several ticket types at once: all or nothing).

    Free bookings are confirmed at once; paid ones are held until `expires_at` for payment.
    """
    if (replay := await idempotency.replay(session, user.id)) is not None:
        return replay
    booking = await service.create(
        session,
        user=user,
        data=body,
        hold=timedelta(minutes=settings.booking_hold_minutes),
    )
    return await idempotency.commit(
        session, booking_view(booking), status_code=status.HTTP_201_CREATED, principal=user.id
    )


@router.get("/bookings/{bookingId}", response_model=BookingOut, responses=problem_responses(404))
async def get_booking(bookingId: uuid.UUID, user: CurrentUser, session: SessionDep) -> BookingOut:
    """A booking, for its holder, the event's organizer or an admin."""
    return booking_view(
        await service.get_visible_or_raise(session, booking_id=bookingId, viewer=user)
    )


@router.post(
    "/bookings/{bookingId}/cancel", response_model=BookingOut, responses=problem_responses(404, 409)
)
async def cancel_booking(
    bookingId: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    body: CancelBooking | None = None,
) -> BookingOut:
    """Cancel a booking: attendees until the event's cut-off, organizers and admins any time."""
    booking = await service.get_visible_or_raise(session, booking_id=bookingId, viewer=user)
    await service.cancel(
        session, booking=booking, actor=user, reason=(body or CancelBooking()).reason
    )
    await session.commit()
    return booking_view(booking)


@router.get(
    "/bookings/{bookingId}/tickets",
    response_model=list[TicketOut],
    tags=["tickets"],
    responses=problem_responses(404),
)
async def booking_tickets(
    bookingId: uuid.UUID, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> list[TicketOut]:
    """The tickets of a confirmed booking, each with its signed QR code."""
    booking = await service.get_visible_or_raise(session, booking_id=bookingId, viewer=user)
    result = []
    for ticket in await tickets.list_for_booking(session, booking_id=booking.id):
        payload = tickets.qr_payload(settings, ticket)
        result.append(
            TicketOut(
                id=ticket.id,
                booking_id=ticket.booking_id,
                ticket_type_id=ticket.ticket_type_id,
                status=ticket.status.value,
                checked_in_at=ticket.checked_in_at,
                qr_payload=payload,
                qr_svg=tickets.qr_svg(payload),
            )
        )
    return result


@router.post(
    "/events/{eventId}/check-ins",
    response_model=CheckInOut,
    tags=["tickets"],
    responses=problem_responses(403, 404, 409),
)
async def check_in(
    eventId: uuid.UUID,
    body: CheckInRequest,
    staff: OrganizerDep,
    session: SessionDep,
    settings: SettingsDep,
) -> CheckInOut:
    """Scan a ticket at the door: admitted once; a second scan says when it was first scanned."""
    await events_service.get_managed_or_raise(session, event_id=eventId, actor=staff)
    result = await tickets.check_in(
        session, settings, event_id=eventId, payload=body.payload, staff=staff
    )
    await session.commit()
    return CheckInOut(
        ticket_id=result.ticket.id,
        booking_id=result.ticket.booking_id,
        ticket_type_id=result.ticket.ticket_type_id,
        already_checked_in=result.already_checked_in,
        first_checked_in_at=result.first_checked_in_at,
    )


@router.get("/users/me/bookings", response_model=BookingPage)
async def my_bookings(
    user: CurrentUser,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> BookingPage:
    """The caller's bookings, newest first."""
    rows, total = await service.list_for_user(session, user=user, page=page, page_size=page_size)
    return BookingPage(
        items=[booking_view(b) for b in rows], total=total, page=page, page_size=page_size
    )
