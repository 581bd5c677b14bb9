"""HTTP routes of bookings."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse

from api.auth.dependencies import CurrentUser
from api.bookings import attendee_list, service, tickets
from api.bookings.models import Booking, BookingStatus, WaitlistEntry, WaitlistStatus
from api.bookings.schemas import (
    AttendeePage,
    BookingCreate,
    BookingOut,
    BookingPage,
    CancelBooking,
    LineOut,
    TicketOut,
    WaitlistEntryOut,
    WaitlistJoin,
    WaitlistPage,
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
        tax_cents=booking.tax_cents,
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
    return await idempotency.respond(
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
    """Cancel a booking: attendees until the event's cut-off and while none of its tickets was
    checked in (409 `booking.ticket_used`), organizers and admins any time."""
    booking = await service.get_visible_or_raise(session, booking_id=bookingId, viewer=user)
    await service.cancel(
        session, booking=booking, actor=user, reason=(body or CancelBooking()).reason
    )
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
                attendee_name=ticket.attendee_name,
                checked_in_at=ticket.checked_in_at,
                qr_payload=payload,
                qr_svg=tickets.qr_svg(payload),
            )
        )
    return result


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


@router.post(
    "/bookings/{bookingId}/confirm",
    response_model=BookingOut,
    responses=problem_responses(404, 409),
)
async def confirm_booking(
    bookingId: uuid.UUID, user: CurrentUser, session: SessionDep
) -> BookingOut:
    """Accept a free hold (a waitlist offer of free tickets); paid holds confirm by payment."""
    booking = await service.get_visible_or_raise(session, booking_id=bookingId, viewer=user)
    await service.accept_free(session, booking=booking, user=user)
    return booking_view(booking)


@router.get(
    "/events/{eventId}/bookings",
    response_model=AttendeePage,
    tags=["bookings"],
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        **problem_responses(403, 404),
    },
)
async def event_attendees(
    eventId: uuid.UUID,
    staff: CurrentUser,
    session: SessionDep,
    status_: Annotated[list[BookingStatus], Query(alias="status")] = [],  # noqa: B006
    format_: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> AttendeePage | Response:
    """The event's attendees, one row per seat, for its organizer, an admin or its door staff.

    `q` finds bookings by the buyer's name or email, an attendee's name, or the booking's
    reference. `format=csv` downloads every matching row (no paging) as a spreadsheet-safe CSV
    file.
    """
    event = await events_service.get_staffed_or_raise(session, event_id=eventId, actor=staff)
    csv_wanted = format_ == "csv"
    lines, total = await service.attendees(
        session,
        event_id=event.id,
        statuses=status_,
        page=None if csv_wanted else page,
        page_size=page_size,
        search=q,
    )
    rows = attendee_list.rows(lines)
    if csv_wanted:
        return attendee_list.csv_file(rows, event)
    return AttendeePage(items=rows, total=total, page=page, page_size=page_size)


def _entry_view(entry: WaitlistEntry, position: int | None) -> WaitlistEntryOut:
    return WaitlistEntryOut.model_validate(entry).model_copy(update={"position": position})


@router.post(
    "/events/{eventId}/waitlist",
    status_code=status.HTTP_201_CREATED,
    response_model=WaitlistEntryOut,
    tags=["waitlist"],
    responses=problem_responses(404, 409),
)
async def join_waitlist(
    eventId: uuid.UUID, body: WaitlistJoin, user: CurrentUser, session: SessionDep
) -> WaitlistEntryOut:
    """Queue for seats of a sold-out ticket type; freed seats are offered first come, first
    served as a hold in your name (see `offer_expires_at`)."""
    event = await events_service.get_visible_or_raise(session, event_id=eventId, viewer=user)
    entry, position = await service.join_and_place(session, event=event, user=user, data=body)
    return _entry_view(entry, position)


@router.delete(
    "/events/{eventId}/waitlist",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["waitlist"],
    responses=problem_responses(404, 409),
)
async def leave_waitlist(
    eventId: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    ticket_type_id: uuid.UUID | None = None,
) -> Response:
    """Leave the waitlist (of one ticket type, or all of the event's); an offer you hold is
    released to the next person."""
    await events_service.get_visible_or_raise(session, event_id=eventId, viewer=user)
    await service.leave_waitlist(
        session, event_id=eventId, user=user, ticket_type_id=ticket_type_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/events/{eventId}/waitlist",
    response_model=WaitlistPage,
    tags=["waitlist"],
    responses=problem_responses(404),
)
async def list_waitlist(
    eventId: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    status_: Annotated[list[WaitlistStatus], Query(alias="status")] = [],  # noqa: B006
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> WaitlistPage:
    """The waitlist in queue order: all of it for the organizer and admins, your own entries
    (with your position) for anyone else."""
    event = await events_service.get_visible_or_raise(session, event_id=eventId, viewer=user)
    entries, total = await service.entries_seen_by(
        session, event=event, viewer=user, statuses=status_, page=page, page_size=page_size
    )
    return WaitlistPage(
        items=[_entry_view(e, p) for e, p in entries], total=total, page=page, page_size=page_size
    )
