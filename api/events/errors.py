"""Errors of the events domain."""

from api.errors import Conflict, Forbidden, NotFound, Unprocessable


class EventNotFound(NotFound):
    code = "event.not_found"


class CategoryNotFound(NotFound):
    code = "category.not_found"


class TicketTypeNotFound(NotFound):
    code = "ticket_type.not_found"


class NotEventOwner(Forbidden):
    code = "event.not_owner"


class CategoryExists(Conflict):
    code = "category.exists"


class InvalidTransition(Conflict):
    code = "event.invalid_transition"


class NotEditable(Conflict):
    code = "event.not_editable"


class CurrencyLocked(Conflict):
    code = "event.currency_locked"


class NoTicketTypes(Conflict):
    code = "event.no_ticket_types"


class StartsInPast(Conflict):
    code = "event.starts_in_past"


class SlugTaken(Conflict):
    code = "event.slug_taken"


class CapacityExceeded(Unprocessable):
    code = "event.capacity_exceeded"


class InvalidCursor(Unprocessable):
    code = "pagination.invalid_cursor"


class TicketTypeInvalid(Unprocessable):
    code = "ticket_type.invalid"


class BelowReserved(Conflict):
    code = "ticket_type.below_reserved"


class SortNeedsSearch(Unprocessable):
    code = "event.sort_needs_search"


class NotEventStaff(Forbidden):
    code = "event.not_staff"


class StaffGrantNotFound(NotFound):
    code = "staff_grant.not_found"


class StaffAlreadyGranted(Conflict):
    code = "staff_grant.exists"
