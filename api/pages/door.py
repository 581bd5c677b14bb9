"""The door, for phones: the events a person works the door of, and a scanner for one of them.

The camera reads the QR code (`static/door.js`, with jsQR pinned in `static/vendor`), or door
staff type the code printed under it; the answer fills the screen, green or red, with the
holder's name and ticket type, and for a second scan when, by whom and at which door the first
was. Without a network the device decides against the ticket list it keeps and sends its scans
when the network returns; the server decides each once and reports a ticket two doors let in
as a conflict. The same workflows as the JSON API's `/events/{id}/check-ins` routes.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, Field

from api.bookings import door, workflows
from api.bookings.models import ScanOutcome
from api.deps import SessionDep, SettingsDep
from api.events import Event
from api.events import service as events_service
from api.formatting import format_moment
from api.pages.problems import Problem, said
from api.pages.rendering import gettext_in, render, visitor_locale
from api.pages.routing import page_router
from api.pages.visitor import CheckedForm, PageScriptUser, SignedIn

router = page_router()
scripts = APIRouter(include_in_schema=False)  # what door.js calls: JSON, errors too
EventId = Annotated[uuid.UUID, Path()]


@router.get("/door")
async def door_events(request: Request, user: SignedIn, session: SessionDep) -> Response:
    """The events whose door the visitor works, soonest first."""
    events = await events_service.door_events(session, user=user)
    return render(request, "door_events.html", {"events": events})


async def _door_context(
    session: SessionDep, event: Event, answer: dict[str, Any] | None
) -> dict[str, Any]:
    return {"event": event, "counters": await door.counters(session, event=event), "answer": answer}


@router.get("/door/{event_id}")
async def door_page(
    request: Request, event_id: EventId, user: SignedIn, session: SessionDep
) -> Response:
    """The scanner of one event's door, with its counters."""
    event = await events_service.get_staffed_or_raise(session, event_id=event_id, actor=user)
    return render(request, "door.html", await _door_context(session, event, None))


def _answer(request: Request, event: Event, decision: door.Decision) -> dict[str, Any]:
    """What the door shows of a decided scan, in the visitor's language (the page's and the
    script's answer alike)."""
    locale = visitor_locale(request)
    if decision.outcome == ScanOutcome.refused:
        return {"outcome": "refused", "detail": said(Problem.of(decision.refused()), locale)}
    found = decision.answer
    assert found is not None
    first = None
    if found.check_in.already_checked_in:
        first = gettext_in(request, "First scanned %(time)s by %(name)s at %(device)s") % {
            "time": format_moment(
                found.check_in.first_checked_in_at, locale=locale, timezone=event.timezone
            ),
            "name": found.first_checked_in_by or "?",
            "device": decision.first_device or "?",
        }
    return {
        "outcome": decision.outcome.value,
        "holder_name": found.holder_name,
        "ticket_type_name": found.ticket_type_name,
        "first": first,
    }


@router.post("/door/{event_id}/scan")
async def door_scan(
    request: Request,
    event_id: EventId,
    _form: CheckedForm,
    user: SignedIn,
    session: SessionDep,
    settings: SettingsDep,
    code: Annotated[str, Form(max_length=200)] = "",
    device: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """The typed code, without the script: the page again with the answer on it."""
    scan = door.Scan(uuid.uuid4(), code, device=device.strip() or None)
    event, decision = await workflows.check_in_ticket(
        session, settings, event_id=event_id, scan=scan, staff=user
    )
    answer = _answer(request, event, decision)
    status = decision.refused().status if decision.outcome == ScanOutcome.refused else 200
    return render(
        request, "door.html", await _door_context(session, event, answer), status_code=status
    )


class ScriptScan(BaseModel):
    scan_id: uuid.UUID
    payload: Annotated[str, Field(min_length=1, max_length=200)]
    scanned_at: AwareDatetime | None = None
    device: Annotated[str | None, Field(max_length=100)] = None


class ScriptBatch(BaseModel):
    scans: Annotated[list[ScriptScan], Field(min_length=1, max_length=500)]


@scripts.post("/door/{event_id}/scan.json")
async def door_scan_json(
    request: Request,
    event_id: EventId,
    body: ScriptScan,
    user: PageScriptUser,
    session: SessionDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """One scan from door.js, online: the answer in the page's language, and the counters."""
    scan = door.Scan(body.scan_id, body.payload, body.scanned_at, body.device)
    event, decision = await workflows.check_in_ticket(
        session, settings, event_id=event_id, scan=scan, staff=user
    )
    counters = await door.counters(session, event=event)
    return _answer(request, event, decision) | {"counters": vars(counters)}


@scripts.post("/door/{event_id}/offline.json")
async def door_offline_json(
    request: Request,
    event_id: EventId,
    body: ScriptBatch,
    user: PageScriptUser,
    session: SessionDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """The scans door.js kept while offline, decided once each (sent again: the same answers)."""
    event, decisions = await workflows.check_in_offline(
        session,
        settings,
        event_id=event_id,
        scans=[door.Scan(s.scan_id, s.payload, s.scanned_at, s.device) for s in body.scans],
        staff=user,
    )
    results = [{"scan_id": str(d.scan_id)} | _answer(request, event, d) for d in decisions]
    return {"results": results, "counters": vars(await door.counters(session, event=event))}


@scripts.get("/door/{event_id}/list.json")
async def door_list_json(
    event_id: EventId, user: PageScriptUser, session: SessionDep
) -> dict[str, Any]:
    """The tickets door.js keeps to decide while offline (hashes of their codes), and the
    counters."""
    event = await events_service.get_staffed_or_raise(session, event_id=event_id, actor=user)
    tickets = await door.expected(session, event=event)
    return {
        "tickets": {
            t.code_hash: {
                "name": t.holder_name,
                "type": t.ticket_type_name,
                "in": bool(t.checked_in_at),
            }
            for t in tickets
        },
        "counters": vars(await door.counters(session, event=event)),
    }
