"""The organizer's event editor: create a draft, change its details, add and remove ticket
types, publish, duplicate, delete a draft, cancel with a reason (saying what it refunds). The
same bodies and service functions as the JSON API's `/events` routes, so the same rules; what
they refuse shows beside its field."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Form, Path, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api.bookings import service as bookings_service
from api.bookings import workflows as bookings_workflows
from api.deps import SessionDep, StorageDep
from api.errors import AppError
from api.events import Event
from api.events import media as media_service
from api.events import service as events_service
from api.events.schemas import (
    DuplicateRequest,
    EventCreate,
    EventUpdate,
    TicketTypeFields,
)
from api.pages.back_office import Organizer
from api.pages.problems import Problem
from api.pages.rendering import redirect, render
from api.pages.routing import FormRejected, page_router
from api.pages.visitor import CheckedForm

router = page_router()
EventId = Annotated[uuid.UUID, Path()]
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


class _Unreadable(AppError):
    status, code, title = 422, "validation.value_error", "Unprocessable Entity"


def _errors(error: ValidationError | AppError, prefix: str = "") -> dict[str, Problem]:
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


def _zone(name: str) -> ZoneInfo | None:
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
        raise _Unreadable("Give a date and a time.", field=field) from None
    return local.replace(tzinfo=zone).isoformat() if zone is not None else local.isoformat()


def _whole(text: str, field: str, default: int | None = None) -> int | None:
    """A number field's value (`default` when left empty)."""
    if not text.strip():
        return default
    try:
        return int(text.strip())
    except ValueError:
        raise _Unreadable("Give a whole number.", field=field) from None


def _event_body(form: dict[str, str]) -> dict[str, Any]:
    """The API's event body from the form's fields (the API's rules then judge it)."""
    zone = _zone(form.get("timezone", ""))
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
        raise _Unreadable("Give an amount, like 25.00.", field=field) from None
    return int((amount * 100).to_integral_value())


def _ticket_body(form: dict[str, str], zone: ZoneInfo | None) -> dict[str, Any]:
    try:
        rate = Decimal(form.get("tax_rate", "").strip().replace(",", ".") or "0")
    except InvalidOperation:
        raise _Unreadable("Give a rate in per cent, like 19.", field="ticket_tax_rate") from None
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


def _local(value: datetime | None, zone: str) -> str:
    """A time as a `datetime-local` field shows it, in the event's time zone."""
    if value is None:
        return ""
    found = _zone(zone)
    return (value.astimezone(found) if found else value).strftime("%Y-%m-%dT%H:%M")


def _event_values(event: Event) -> dict[str, str]:
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
        "starts_at": _local(event.starts_at, event.timezone),
        "ends_at": _local(event.ends_at, event.timezone),
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


async def _categories(session: AsyncSession) -> list[Any]:
    return [category for category, _ in await events_service.list_categories(session)]


async def _form(request: Request, names: tuple[str, ...], prefix: str = "") -> dict[str, str]:
    sent = await request.form()
    return {name: str(sent.get(prefix + name, "")) for name in names}


@router.get("/organizer/events/new")
async def new_event(request: Request, user: Organizer, session: SessionDep) -> Response:
    """A new event's details; it starts as a draft."""
    context = {"values": NEW_EVENT, "errors": {}, "categories": await _categories(session)}
    return render(request, "organizer_event_new.html", context)


@router.post("/organizer/events/new")
async def create_event(
    request: Request, _form_ok: CheckedForm, user: Organizer, session: SessionDep
) -> Response:
    values = await _form(request, EVENT_FIELDS)
    try:
        event = await events_service.create(
            session, organizer=user, data=EventCreate.model_validate(_event_body(values))
        )
    except (ValidationError, AppError) as error:
        context = {
            "values": values,
            "errors": _errors(error),
            "categories": await _categories(session),
        }
        raise FormRejected.render(request, "organizer_event_new.html", context) from None
    return redirect(request, f"/organizer/events/{event.id}")


async def _editor_context(session: AsyncSession, event: Event, **extra: Any) -> dict[str, Any]:
    sales = (await bookings_service.sales_by_event(session, event_ids=[event.id]))[event.id]
    return {
        "event": event,
        "values": _event_values(event),
        "ticket": {
            "ticket_min_per_order": "1",
            "ticket_max_per_order": "10",
            "ticket_tax_inclusive": "on",
        },
        "errors": {},
        "categories": await _categories(session),
        "sales": sales,
    } | extra


@router.get("/organizer/events/{event_id}")
async def edit_event(
    request: Request, event_id: EventId, user: Organizer, session: SessionDep
) -> Response:
    """One event: its details, ticket types, and what can be done with it now."""
    event = await events_service.get_managed_or_raise(session, event_id=event_id, actor=user)
    return render(request, "organizer_event.html", await _editor_context(session, event))


async def _refuse(
    request: Request, session: AsyncSession, event: Event, **extra: Any
) -> FormRejected:
    context = await _editor_context(session, event, **extra)
    status = 409 if "form" in extra.get("errors", {}) else 422
    return FormRejected.render(request, "organizer_event.html", context, status_code=status)


async def _or_refuse(
    request: Request, session: AsyncSession, event: Event, action: Awaitable[object]
) -> None:
    """Do `action`; what the rules refuse shows at the top of the event's page."""
    try:
        await action
    except AppError as error:
        raise await _refuse(request, session, event, errors={"form": Problem.of(error)}) from None


@router.post("/organizer/events/{event_id}")
async def update_event(
    request: Request, event_id: EventId, _form_ok: CheckedForm, user: Organizer, session: SessionDep
) -> Response:
    event = await events_service.get_managed_or_raise(session, event_id=event_id, actor=user)
    values = await _form(request, EVENT_FIELDS)
    try:
        changes = EventUpdate.model_validate(_event_body(values))
        await events_service.update(session, event=event, changes=changes)
    except (ValidationError, AppError) as error:
        raise await _refuse(request, session, event, values=values, errors=_errors(error)) from None
    return redirect(request, f"/organizer/events/{event.id}?saved=details")


@router.post("/organizer/events/{event_id}/ticket-types")
async def add_ticket_type(
    request: Request, event_id: EventId, _form_ok: CheckedForm, user: Organizer, session: SessionDep
) -> Response:
    event = await events_service.get_managed_or_raise(session, event_id=event_id, actor=user)
    ticket = await _form(request, TICKET_FIELDS, prefix="ticket_")
    try:
        body = TicketTypeFields.model_validate(_ticket_body(ticket, _zone(event.timezone)))
        await events_service.add_ticket_type(session, event=event, data=body)
    except (ValidationError, AppError) as error:
        errors = _errors(error, prefix="ticket_")
        renamed = {"ticket_price_cents": "ticket_price", "ticket_tax_rate_bps": "ticket_tax_rate"}
        errors = {renamed.get(field, field): problem for field, problem in errors.items()}
        if isinstance(error, AppError) and error.field is None:
            errors = {"ticket_form": Problem.of(error)}
        sent = {f"ticket_{name}": value for name, value in ticket.items()}
        raise await _refuse(request, session, event, ticket=sent, errors=errors) from None
    return redirect(request, f"/organizer/events/{event.id}#tickets")


@router.post("/organizer/events/{event_id}/ticket-types/{ticket_type_id}/delete")
async def delete_ticket_type(
    request: Request,
    event_id: EventId,
    ticket_type_id: Annotated[uuid.UUID, Path()],
    _form_ok: CheckedForm,
    user: Organizer,
    session: SessionDep,
) -> Response:
    event = await events_service.get_managed_or_raise(session, event_id=event_id, actor=user)
    ticket_type = events_service.get_ticket_type_or_raise(event, ticket_type_id)
    await events_service.delete_ticket_type(session, event=event, ticket_type=ticket_type)
    return redirect(request, f"/organizer/events/{event.id}#tickets")


@router.post("/organizer/events/{event_id}/publish")
async def publish_event(
    request: Request, event_id: EventId, _form_ok: CheckedForm, user: Organizer, session: SessionDep
) -> Response:
    event = await events_service.get_managed_or_raise(session, event_id=event_id, actor=user)
    await _or_refuse(request, session, event, events_service.publish(session, event=event))
    return redirect(request, f"/organizer/events/{event.id}?saved=published")


@router.post("/organizer/events/{event_id}/cancel")
async def cancel_event(
    request: Request,
    event_id: EventId,
    _form_ok: CheckedForm,
    user: Organizer,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Cancel with a reason: every booking is cancelled and every payment refunded."""
    event = await events_service.get_managed_or_raise(session, event_id=event_id, actor=user)
    if not reason.strip():
        problem = Problem(
            "Say why the event is cancelled: the attendees are told.", "validation.missing"
        )
        raise await _refuse(request, session, event, errors={"reason": problem})
    cancelling = bookings_workflows.cancel_event(
        session, event_id=event.id, actor=user, reason=reason.strip()
    )
    await _or_refuse(request, session, event, cancelling)
    return redirect(request, f"/organizer/events/{event.id}?saved=cancelled")


@router.post("/organizer/events/{event_id}/duplicate")
async def duplicate_event(
    request: Request,
    event_id: EventId,
    _form_ok: CheckedForm,
    user: Organizer,
    session: SessionDep,
    storage: StorageDep,
) -> Response:
    """A new draft with the same details, ticket types and images."""
    event = await events_service.get_managed_or_raise(session, event_id=event_id, actor=user)
    copy = await media_service.duplicate_with_images(
        session, storage, event=event, actor=user, options=DuplicateRequest()
    )
    return redirect(request, f"/organizer/events/{copy.id}?saved=duplicated")


@router.post("/organizer/events/{event_id}/delete")
async def delete_event(
    request: Request, event_id: EventId, _form_ok: CheckedForm, user: Organizer, session: SessionDep
) -> Response:
    """Delete a draft (a published event is cancelled instead)."""
    event = await events_service.get_managed_or_raise(session, event_id=event_id, actor=user)
    await _or_refuse(request, session, event, events_service.delete(session, event=event))
    return redirect(request, "/organizer/events")
