"""Events: the catalogue, its lifecycle and ticket types. Callers commit.

Other domains use the events domain through this module; the functions live in one module per
part: `categories`, `queries` (reading and listing), `lifecycle` (writing, from draft to
cancelled) and `ticket_types`.
"""

from __future__ import annotations

from api.events.categories import (
    category_names,
    create_category,
    get_category_or_raise,
    list_categories,
)
from api.events.lifecycle import (
    cancel,
    check_capacity,
    complete_ended,
    create,
    delete,
    duplicate,
    publish,
    record_view,
    record_view_apart,
    require_editable,
    update,
)
from api.events.models import EventStatus
from api.events.queries import (
    SEARCH_ONLY_SORTS,
    EventFilters,
    can_manage,
    find_published,
    get,
    get_by_slug_or_raise,
    get_managed_or_raise,
    get_many,
    get_visible_or_raise,
    list_events,
    listed_in_order,
    publicly_listed,
    search_sort,
    seats_left,
    ticket_types_of,
)
from api.events.schemas import EventSort
from api.events.staff import (
    door_events,
    get_staffed_or_raise,
    grants_of,
    is_staff,
)
from api.events.staff import grant as grant_staff
from api.events.staff import revoke as revoke_staff
from api.events.ticket_types import (
    add_ticket_type,
    delete_ticket_type,
    get_ticket_type_or_raise,
    update_ticket_type,
)

__all__ = [
    "SEARCH_ONLY_SORTS",
    "EventFilters",
    "EventSort",
    "EventStatus",
    "add_ticket_type",
    "can_manage",
    "cancel",
    "category_names",
    "check_capacity",
    "complete_ended",
    "create",
    "create_category",
    "delete",
    "delete_ticket_type",
    "door_events",
    "duplicate",
    "find_published",
    "get",
    "get_by_slug_or_raise",
    "get_category_or_raise",
    "get_managed_or_raise",
    "get_many",
    "get_staffed_or_raise",
    "get_ticket_type_or_raise",
    "get_visible_or_raise",
    "grant_staff",
    "grants_of",
    "is_staff",
    "list_categories",
    "list_events",
    "listed_in_order",
    "publicly_listed",
    "publish",
    "record_view",
    "record_view_apart",
    "require_editable",
    "revoke_staff",
    "search_sort",
    "seats_left",
    "ticket_types_of",
    "update",
    "update_ticket_type",
]
