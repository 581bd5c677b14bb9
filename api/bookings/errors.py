"""Errors of the bookings domain."""

from api.errors import Conflict, NotFound, Unprocessable


class BookingNotFound(NotFound):
    code = "booking.not_found"


class SoldOut(Conflict):
    code = "booking.sold_out"


class NotOnSale(Conflict):
    code = "booking.not_on_sale"


class OrderLimit(Unprocessable):
    code = "booking.order_limit"


class UnknownTicketType(Unprocessable):
    code = "booking.unknown_ticket_type"


class NotCancellable(Conflict):
    code = "booking.not_cancellable"


class CancellationClosed(Conflict):
    code = "booking.cancellation_closed"


class AttendeeNames(Unprocessable):
    code = "booking.attendee_names"


class PaymentRequired(Conflict):
    code = "booking.payment_required"


class NotConfirmable(Conflict):
    code = "booking.not_confirmable"


class WaitlistClosed(Conflict):
    code = "waitlist.closed"


class SeatsAvailable(Conflict):
    code = "waitlist.seats_available"


class AlreadyWaiting(Conflict):
    code = "waitlist.already_joined"


class NotWaiting(NotFound):
    code = "waitlist.not_found"


class TicketUsed(Conflict):
    """A ticket of the booking was scanned at the door: its holder cannot cancel it any more."""

    code = "booking.ticket_used"


class CheckInNotOpen(Conflict):
    code = "ticket.checkin_not_open"


class CheckInClosed(Conflict):
    code = "ticket.checkin_closed"
