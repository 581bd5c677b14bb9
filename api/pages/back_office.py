"""The organizer's back office: their events with live sales (read from the transactional
database, not the warehouse), their money from the ledger, and their team of door staff. The
same service functions as the JSON API's `/events/organizer` and `/staff-grants` routes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Form, Path, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.bookings import service as bookings_service
from api.deps import SessionDep, SettingsDep, declares_access
from api.errors import AppError, Forbidden
from api.events import service as events_service
from api.events.schemas import EventSort
from api.pages.problems import Problem, Unreadable
from api.pages.rendering import redirect, render
from api.pages.routing import FormRejected, page_router
from api.pages.visitor import CheckedForm, SignedIn
from api.payments import service as payments_service
from api.payments.fees import fee_terms
from api.users import User
from api.users import service as users_service

router = page_router()
MANAGERS = (users_service.Role.organizer, users_service.Role.admin)


@declares_access("organizers and admins, signed in (others are sent to sign in)")
async def organizer_visitor(user: SignedIn) -> User:
    if user.role not in MANAGERS:
        raise Forbidden("The back office is for organizers.")
    return user


Organizer = Annotated[User, Depends(organizer_visitor)]


def _today_started(user: User) -> datetime:
    """Midnight today where the organizer lives."""
    zone = ZoneInfo(user.timezone or "UTC")
    return datetime.combine(datetime.now(zone).date(), time(), zone).astimezone(UTC)


@router.get("/organizer/events")
async def my_events(
    request: Request, user: Organizer, session: SessionDep, settings: SettingsDep
) -> Response:
    """The organizer's events in every status: seats sold of capacity, today's sales and the
    revenue so far, live; each with its page, its door and its figures in the dashboards."""
    page = await bookings_service.organizer_events(
        session,
        organizer=user,
        filters=events_service.EventFilters(),
        sort=EventSort.starts_at,
        limit=100,
        cursor=None,
    )
    ids = [event.id for event in page.events]
    today = await bookings_service.sold_since(session, event_ids=ids, since=_today_started(user))
    rows = [
        {"event": event, "sales": page.sales[event.id], "today": today[event.id]}
        for event in page.events
    ]
    dashboards = settings.dashboards_url.rstrip("/")
    return render(
        request,
        "organizer_events.html",
        {"rows": rows, "total": page.total, "dashboards": dashboards},
    )


async def _team_context(session: AsyncSession, user: User) -> dict[str, Any]:
    grants = await events_service.grants_of(session, actor=user)
    mine, _, _ = await events_service.list_events(  # their titles only, not their sales
        session,
        filters=events_service.EventFilters(),
        sort=EventSort.starts_at,
        limit=100,
        cursor=None,
        organizer=user,
    )
    titles = {event.id: event.title for event in mine}
    return {"grants": grants, "events": mine, "titles": titles, "errors": {}, "chosen": {}}


@router.get("/organizer/team")
async def team(request: Request, user: Organizer, session: SessionDep) -> Response:
    """The organizer's door staff: who may check tickets in where, and inviting more."""
    return render(request, "organizer_team.html", await _team_context(session, user))


@router.post("/organizer/team")
async def invite(
    request: Request,
    _form: CheckedForm,
    user: Organizer,
    session: SessionDep,
    email: Annotated[str, Form(max_length=320)] = "",
    scope: Annotated[str, Form(max_length=40)] = "all",
) -> Response:
    """Give an address the door of one event or of all; they are told by email."""
    event_id = None if scope == "all" else uuid.UUID(scope) if _is_uuid(scope) else None
    address = email.strip()
    try:
        if "@" not in address or " " in address:
            raise Unreadable(
                "Give the email address of the person to invite.",
                field="email",
                code="validation.email",
            )
        await events_service.grant_staff(session, actor=user, email=address, event_id=event_id)
    except AppError as refused:
        context = await _team_context(session, user)
        context["errors"] = {refused.field or "email": Problem.of(refused)}
        context["chosen"] = {"email": email, "scope": scope}
        raise FormRejected.render(
            request, "organizer_team.html", context, status_code=refused.status
        ) from None
    return redirect(request, "/organizer/team")


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


@router.post("/organizer/team/{grant_id}/revoke")
async def revoke(
    request: Request,
    grant_id: Annotated[uuid.UUID, Path()],
    _form: CheckedForm,
    user: Organizer,
    session: SessionDep,
) -> Response:
    """End a grant: the person's next scan is refused."""
    await events_service.revoke_staff(session, actor=user, grant_id=grant_id)
    return redirect(request, "/organizer/team")


@router.get("/organizer/money")
async def money(
    request: Request, user: Organizer, session: SessionDep, settings: SettingsDep
) -> Response:
    """What the organizer's sales came to, live from the ledger: sold, refunded, charged back,
    the fees, and the payout; the platform fee agreed; their invoices and credit notes."""
    bps, fixed, agreed = await fee_terms(session, settings, organizer_id=user.id)
    context = {
        "totals": await payments_service.ledger_totals(session, organizer_id=user.id),
        "documents": await payments_service.invoices_of_organizer(session, organizer_id=user.id),
        "fee": {"percent": bps / 100, "fixed": fixed, "agreed": agreed},
    }
    return render(request, "organizer_money.html", context)
