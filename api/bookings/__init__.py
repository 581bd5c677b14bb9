"""Bookings: holds on seats, confirmed bookings, tickets and the waitlist.

What other domains may use of it: `BookingStatus`. They call its functions through
`api.bookings.service` (and `api.bookings.workflows` for the operations that span domains). Its
models, schemas and errors modules are its own (`.importlinter`).
"""

from api.bookings.models import BookingStatus

__all__ = ["BookingStatus"]
