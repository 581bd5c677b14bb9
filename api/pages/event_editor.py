"""The organizer's event editor: create a draft, change its details, add and remove ticket
types, publish, duplicate, delete a draft, cancel with a reason (saying what it refunds). The
same bodies and service functions as the JSON API's `/events` routes, so the same rules; what
they refuse shows beside its field."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from typing import Annotated, Any

from fastapi import File, Form, Path, Request, UploadFile
from fastapi.responses import Response
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api.bookings import service as bookings_service
from api.bookings import workflows as bookings_workflows
from api.deps import SessionDep, SettingsDep, StorageDep
from api.errors import AppError
from api.events import Event, markdown
from api.events import media as media_service
from api.events import service as events_service
from api.events.schemas import (
    DuplicateRequest,
    EventCreate,
    EventUpdate,
    TicketTypeFields,
    TicketTypeUpdate,
)
from api.pages.back_office import Organizer
from api.pages.event_forms import (
    EVENT_FIELDS,
    NEW_EVENT,
    TICKET_FIELDS,
    event_body,
    event_values,
    event_zone,
    form_errors,
    ticket_body,
)
from api.pages.problems import Problem, Unreadable
from api.pages.rendering import redirect, render
from api.pages.routing import FormRejected, page_router
from api.pages.visitor import CheckedForm
from api.storage import Storage

router = page_router()
EventId = Annotated[uuid.UUID, Path()]


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
            session, organizer=user, data=EventCreate.model_validate(event_body(values))
        )
    except (ValidationError, AppError) as error:
        context = {
            "values": values,
            "errors": form_errors(error),
            "categories": await _categories(session),
        }
        raise FormRejected.render(request, "organizer_event_new.html", context) from None
    return redirect(request, f"/organizer/events/{event.id}")


async def _editor_context(
    request: Request, session: AsyncSession, event: Event, **extra: Any
) -> dict[str, Any]:
    storage: Storage = request.app.state.storage
    sales = (await bookings_service.sales_by_event(session, event_ids=[event.id]))[event.id]
    images = [
        {"id": m.id, "url": storage.url(m.storage_key), "alt": m.alt_text or ""}
        for m in await media_service.list_media(session, event=event)
    ]
    return {
        "images": images,
        "preview": None,
        "event": event,
        "values": event_values(event),
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
    return render(request, "organizer_event.html", await _editor_context(request, session, event))


async def _refuse(
    request: Request, session: AsyncSession, event: Event, **extra: Any
) -> FormRejected:
    context = await _editor_context(request, session, event, **extra)
    status = extra.pop("status", None) or (409 if "form" in extra.get("errors", {}) else 422)
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
    """Save the details; the form's "Preview" shows the description as the event's page will,
    and saves nothing."""
    event = await events_service.get_managed_or_raise(session, event_id=event_id, actor=user)
    values = await _form(request, EVENT_FIELDS)
    if (await request.form()).get("action") == "preview":
        shown = Markup(markdown.render(values["description"]))  # noqa: S704 - sanitised by nh3
        context = await _editor_context(request, session, event, values=values, preview=shown)
        return render(request, "organizer_event.html", context)
    try:
        changes = EventUpdate.model_validate(event_body(values))
        await events_service.update(session, event=event, changes=changes)
    except (ValidationError, AppError) as error:
        raise await _refuse(
            request, session, event, values=values, errors=form_errors(error)
        ) from None
    return redirect(request, f"/organizer/events/{event.id}?saved=details")


@router.post("/organizer/events/{event_id}/ticket-types")
async def add_ticket_type(
    request: Request, event_id: EventId, _form_ok: CheckedForm, user: Organizer, session: SessionDep
) -> Response:
    event = await events_service.get_managed_or_raise(session, event_id=event_id, actor=user)
    ticket = await _form(request, TICKET_FIELDS, prefix="ticket_")
    try:
        body = TicketTypeFields.model_validate(ticket_body(ticket, event_zone(event.timezone)))
        await events_service.add_ticket_type(session, event=event, data=body)
    except (ValidationError, AppError) as error:
        errors = form_errors(error, prefix="ticket_")
        renamed = {"ticket_price_cents": "ticket_price", "ticket_tax_rate_bps": "ticket_tax_rate"}
        errors = {renamed.get(field, field): problem for field, problem in errors.items()}
        if isinstance(error, AppError) and error.field is None:
            errors = {"ticket_form": Problem.of(error)}
        sent = {f"ticket_{name}": value for name, value in ticket.items()}
        raise await _refuse(request, session, event, ticket=sent, errors=errors) from None
    return redirect(request, f"/organizer/events/{event.id}#tickets")


@router.post("/organizer/events/{event_id}/ticket-types/{ticket_type_id}")
async def change_ticket_type(
    request: Request,
    event_id: EventId,
    ticket_type_id: Annotated[uuid.UUID, Path()],
    _form_ok: CheckedForm,
    user: Organizer,
    session: SessionDep,
) -> Response:
    """Change a ticket type (its price, how many, the window, the limits, the tax); seats it
    gains go to the waitlist first, as through the API."""
    event = await events_service.get_managed_or_raise(session, event_id=event_id, actor=user)
    events_service.get_ticket_type_or_raise(event, ticket_type_id)
    ticket = await _form(request, TICKET_FIELDS, prefix="ticket_")
    try:
        sent = ticket_body(ticket, event_zone(event.timezone))
        # The change form leaves the description as it is; an empty window's end clears it.
        changes = TicketTypeUpdate.model_validate(
            {k: v for k, v in sent.items() if k != "description"}
        )
        await bookings_workflows.change_ticket_type(
            session, event_id=event.id, ticket_type_id=ticket_type_id, actor=user, changes=changes
        )
    except (ValidationError, AppError) as error:
        first = next(iter(form_errors(error).values()))
        raise await _refuse(request, session, event, errors={"ticket_form": first}) from None
    return redirect(request, f"/organizer/events/{event.id}?saved=ticket#tickets")


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


@router.post("/organizer/events/{event_id}/images")
async def add_image(
    request: Request,
    event_id: EventId,
    _form_ok: CheckedForm,
    user: Organizer,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    image: Annotated[UploadFile | None, File()] = None,
    alt_text: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """Add an image: checked by its content, stored without its metadata (the API's rules)."""
    event = await events_service.get_managed_or_raise(session, event_id=event_id, actor=user)
    try:
        if image is None or not image.filename:
            raise Unreadable("Choose an image to upload.", field="image", code="validation.missing")
        data = await image.read(settings.media_max_bytes + 1)
        await media_service.add(
            session,
            storage,
            event=event,
            actor=user,
            data=data,
            max_bytes=settings.media_max_bytes,
            alt_text=alt_text.strip() or None,
        )
    except AppError as error:
        problem = {"image": Problem.of(error)}
        raise await _refuse(request, session, event, errors=problem, status=error.status) from None
    return redirect(request, f"/organizer/events/{event.id}?saved=image#images")


@router.post("/organizer/events/{event_id}/images/{media_id}/delete")
async def delete_image(
    request: Request,
    event_id: EventId,
    media_id: Annotated[uuid.UUID, Path()],
    _form_ok: CheckedForm,
    user: Organizer,
    session: SessionDep,
    storage: StorageDep,
) -> Response:
    event = await events_service.get_managed_or_raise(session, event_id=event_id, actor=user)
    await media_service.discard(session, storage, event=event, media_id=media_id)
    return redirect(request, f"/organizer/events/{event.id}#images")


@router.post("/organizer/events/{event_id}/images/{media_id}/move")
async def move_image(
    request: Request,
    event_id: EventId,
    media_id: Annotated[uuid.UUID, Path()],
    _form_ok: CheckedForm,
    user: Organizer,
    session: SessionDep,
    position: Annotated[int, Form(ge=0, le=100)],
) -> Response:
    """Move an image earlier or later; the first is the one listings and the event's page
    show on top."""
    event = await events_service.get_managed_or_raise(session, event_id=event_id, actor=user)
    await media_service.arrange(session, event=event, media_id=media_id, position=position)
    return redirect(request, f"/organizer/events/{event.id}?saved=image#images")
