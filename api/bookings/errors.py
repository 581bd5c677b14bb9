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
