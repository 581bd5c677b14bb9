"""Bookings: holding seats without ever overselling, and what becomes of them. Callers commit.

Other domains use the bookings domain through this module; the functions live in one module
per part: `creation` (holding seats), `queries` (reading), `cancellation`, `confirmation`
(paid, accepted, refunded), `checkin`, `waitlist_entries` (joining and leaving the queue),
`reminders` and `documents` (invoice lines, ticket PDFs), beside `capacity`, `tickets` and
`waitlist` (offering seats that come free). Operations that change an event and its
bookings together, committed whole, are in `workflows`.
"""

from __future__ import annotations

from api.bookings.cancellation import attendee_deadline, cancel, cancel_all_for_event
from api.bookings.checkin import check_in, check_in_window
from api.bookings.confirmation import (
    accept_free,
    confirm,
    confirm_paid,
    extend_hold,
    mark_refunded,
)
from api.bookings.creation import create
from api.bookings.documents import invoice_lines, tickets_pdf
from api.bookings.queries import (
    AttendeeLine,
    EventsWithSales,
    Holder,
    attendees,
    booked_event_ids,
    effective_status,
    get,
    get_visible_or_raise,
    has_ties,
    history,
    holders,
    list_for_user,
    organizer_events,
    past_customers,
    sales_by_event,
    sold_since,
)
from api.bookings.reminders import REMINDERS, announce_reminders
from api.bookings.waitlist import release_expired, seats_added
from api.bookings.waitlist_entries import (
    active_entries,
    entries_seen_by,
    join_and_place,
    leave_waitlist,
    places_of,
)

__all__ = [
    "REMINDERS",
    "AttendeeLine",
    "EventsWithSales",
    "Holder",
    "accept_free",
    "active_entries",
    "announce_reminders",
    "attendee_deadline",
    "attendees",
    "booked_event_ids",
    "cancel",
    "cancel_all_for_event",
    "check_in",
    "check_in_window",
    "confirm",
    "confirm_paid",
    "create",
    "effective_status",
    "entries_seen_by",
    "extend_hold",
    "get",
    "get_visible_or_raise",
    "has_ties",
    "history",
    "holders",
    "invoice_lines",
    "join_and_place",
    "leave_waitlist",
    "list_for_user",
    "mark_refunded",
    "organizer_events",
    "past_customers",
    "places_of",
    "release_expired",
    "sales_by_event",
    "seats_added",
    "sold_since",
    "tickets_pdf",
]
