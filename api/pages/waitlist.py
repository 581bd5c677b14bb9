"""The waitlist from the event's page: queue for a sold-out ticket type, or leave the queue.
The seats that come free are offered as a hold in the person's name, paid at the checkout like
any booking (`/my/bookings` lists the places and the offers). The same functions as the API's
`POST` and `DELETE /events/{id}/waitlist`."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

from fastapi import Form, Path, Request
from fastapi.responses import Response
from pydantic import ValidationError

from api.bookings import service as bookings_service
from api.bookings.schemas import WaitlistJoin
from api.deps import SessionDep, StorageDep
from api.errors import AppError
from api.events import service as events_service
from api.pages.account import field_errors
from api.pages.rendering import redirect
from api.pages.routing import FormRejected, page_router
from api.pages.storefront import event_context
from api.pages.visitor import CheckedForm, SignedIn

router = page_router()
Slug = Annotated[str, Path(max_length=120)]


@router.post("/event/{slug}/waitlist")
async def join(
    request: Request,
    slug: Slug,
    form_ok: CheckedForm,
    user: SignedIn,
    session: SessionDep,
    storage: StorageDep,
    ticket_type_id: Annotated[str, Form(max_length=40)] = "",
    quantity: Annotated[str, Form(max_length=4)] = "1",
    names: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Take a place in the queue; the page says which."""
    event = await events_service.get_by_slug_or_raise(session, slug=slug, viewer=user)
    given = [n.strip() for n in names.splitlines() if n.strip()]
    try:
        # The form's text read as the API reads its JSON body, by the same rules.
        data = WaitlistJoin.model_validate_json(
            json.dumps(
                {
                    "ticket_type_id": ticket_type_id,
                    "quantity": int(quantity) if quantity.strip().isdigit() else quantity,
                    "attendees": (given or None) if event.attendee_names_required else None,
                }
            )
        )
        await bookings_service.join_and_place(session, event=event, user=user, data=data)
    except (ValidationError, AppError) as error:
        context = await event_context(session, event, viewer=user, storage=storage)
        context["errors"] = {"waitlist": next(iter(field_errors(error).values()))}
        context["chosen"] = {"waitlist-ticket_type_id": ticket_type_id, "waitlist-names": names}
        raise FormRejected.render(request, "event.html", context) from error
    return redirect(request, f"/event/{event.slug}#waitlist")


@router.post("/event/{slug}/waitlist/leave")
async def leave(
    request: Request,
    slug: Slug,
    form_ok: CheckedForm,
    user: SignedIn,
    session: SessionDep,
    ticket_type_id: Annotated[uuid.UUID | None, Form()] = None,
    back: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Give up a place (and any offer in hand, whose seats go to the next person)."""
    event = await events_service.get_by_slug_or_raise(session, slug=slug, viewer=user)
    await bookings_service.leave_waitlist(
        session, event_id=event.id, user=user, ticket_type_id=ticket_type_id
    )
    return redirect(request, "/my/bookings" if back == "mine" else f"/event/{event.slug}")
