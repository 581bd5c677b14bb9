"""The event editor's forms: the API's event and ticket type bodies read from form fields
(times in the event's own time zone, amounts in major units, rates in per cent), an event's
fields as the form shows them, and what the API's rules said, by form field."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from api.errors import AppError
from api.events import Event
from api.pages.problems import Problem, Unreadable
from api.pages.rendering import local_input

EVENT_FIELDS = (
    "title", "description", "category_id", "tags", "venue_name", "venue_address", "venue_city",
    "venue_country", "online_url", "starts_at", "ends_at", "timezone", "visibility", "capacity",
    "currency", "attendee_cancellation_hours", "attendee_names_required",
    "waitlist_offer_hours", "checkin_opens_minutes_before",
)  # fmt: skip
TICKET_FIELDS = (
    "name", "description", "price", "quantity", "min_per_order", "max_per_order", "sales_start",
    "sales_end", "tax_name", "tax_rate", "tax_inclusive",
)  # fmt: skip


def form_errors(error: ValidationError | AppError, prefix: str = "") -> dict[str, Problem]:
    """What the rules said, by the form's field names (`venue.city` is `venue_city`)."""
    if isinstance(error, AppError):
        field = (error.field or "form").removeprefix("body.").replace(".", "_")
        return {field: Problem.of(error)}
    found: dict[str, Problem] = {}
    for problem in error.errors():
        field = "_".join(str(part) for part in problem["loc"]) or "form"
        field = {"venue": "venue_name"}.get(field, field)
        message = problem["msg"].removeprefix("Value error, ")
        found.setdefault(prefix + field, Problem(message, f"validation.{problem['type']}"))
    return found


def event_zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name.strip()) if name.strip() else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _moment(text: str, zone: ZoneInfo | None, field: str) -> str | None:
    """A `datetime-local` value, in the event's time zone, as the API's aware time."""
    if not text.strip():
        return None
    try:
        local = datetime.fromisoformat(text.strip())
    except ValueError:
        raise Unreadable("Give a date and a time.", field=field) from None
    return local.replace(tzinfo=zone).isoformat() if zone is not None else local.isoformat()


def _whole(text: str, field: str, default: int | None = None) -> int | None:
    """A number field's value (`default` when left empty)."""
    if not text.strip():
        return default
    try:
        return int(text.strip())
    except ValueError:
        raise Unreadable("Give a whole number.", field=field) from None


def event_body(form: dict[str, str]) -> dict[str, Any]:
    """The API's event body from the form's fields (the API's rules then judge it)."""
    zone = event_zone(form.get("timezone", ""))
    venue = {
        key: form.get(f"venue_{key}", "").strip() or None
        for key in ("name", "address", "city", "country")
    }
    body: dict[str, Any] = {
        "title": form.get("title", "").strip(),
        "description": form.get("description", ""),
        "category_id": form.get("category_id") or None,
        "tags": [t.strip() for t in form.get("tags", "").split(",") if t.strip()],
        "venue": venue if any(venue.values()) else None,
        "online_url": form.get("online_url", "").strip() or None,
        "starts_at": _moment(form.get("starts_at", ""), zone, "starts_at"),
        "ends_at": _moment(form.get("ends_at", ""), zone, "ends_at"),
        "timezone": form.get("timezone", "").strip(),
        "visibility": form.get("visibility") or "public",
        "capacity": _whole(form.get("capacity", ""), "capacity"),
        "currency": form.get("currency", "").strip().upper(),
        "attendee_cancellation_hours": _whole(
            form.get("attendee_cancellation_hours", ""), "attendee_cancellation_hours"
        ),
        "attendee_names_required": form.get("attendee_names_required") == "on",
        "waitlist_offer_hours": _whole(
            form.get("waitlist_offer_hours", ""), "waitlist_offer_hours", 24
        ),
        "checkin_opens_minutes_before": _whole(
            form.get("checkin_opens_minutes_before", ""), "checkin_opens_minutes_before", 360
        ),
    }
    return body


def _cents(text: str, field: str) -> int:
    try:
        amount = Decimal(text.strip().replace(",", ".") or "0")
    except InvalidOperation:
        raise Unreadable("Give an amount, like 25.00.", field=field) from None
    return int((amount * 100).to_integral_value())


def ticket_body(form: dict[str, str], zone: ZoneInfo | None) -> dict[str, Any]:
    try:
        rate = Decimal(form.get("tax_rate", "").strip().replace(",", ".") or "0")
    except InvalidOperation:
        raise Unreadable("Give a rate in per cent, like 19.", field="ticket_tax_rate") from None
    return {
        "name": form.get("name", "").strip(),
        "description": form.get("description", "").strip() or None,
        "price_cents": _cents(form.get("price", ""), "ticket_price"),
        "quantity": _whole(form.get("quantity", ""), "ticket_quantity"),
        "min_per_order": _whole(form.get("min_per_order", ""), "ticket_min_per_order", 1),
        "max_per_order": _whole(form.get("max_per_order", ""), "ticket_max_per_order", 10),
        "sales_start": _moment(form.get("sales_start", ""), zone, "ticket_sales_start"),
        "sales_end": _moment(form.get("sales_end", ""), zone, "ticket_sales_end"),
        "tax_name": form.get("tax_name", "").strip() or None,
        "tax_rate_bps": int(rate * 100),
        "tax_inclusive": form.get("tax_inclusive") == "on",
    }


def event_values(event: Event) -> dict[str, str]:
    hours = event.attendee_cancellation_hours
    return {
        "title": event.title,
        "description": event.description,
        "category_id": str(event.category_id or ""),
        "tags": ", ".join(event.tags or []),
        "venue_name": event.venue_name or "",
        "venue_address": event.address or "",
        "venue_city": event.city or "",
        "venue_country": event.country or "",
        "online_url": event.online_url or "",
        "starts_at": local_input(event.starts_at, event.timezone),
        "ends_at": local_input(event.ends_at, event.timezone),
        "timezone": event.timezone,
        "visibility": event.visibility.value,
        "capacity": str(event.capacity),
        "currency": event.currency,
        "attendee_cancellation_hours": "" if hours is None else str(hours),
        "attendee_names_required": "on" if event.attendee_names_required else "",
        "waitlist_offer_hours": str(event.waitlist_offer_hours),
        "checkin_opens_minutes_before": str(event.checkin_opens_minutes_before),
    }


NEW_EVENT = {
    "timezone": "Europe/Berlin",
    "currency": "EUR",
    "capacity": "100",
    "visibility": "public",
    "attendee_cancellation_hours": "24",
    "waitlist_offer_hours": "24",
    "checkin_opens_minutes_before": "360",
}
