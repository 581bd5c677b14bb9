"""HTTP routes of the door: scans (one at a time, and the batch a device made offline), the
list a device keeps to decide offline, and the counters. For the event's organizer, an admin,
or its door staff."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from api.auth.dependencies import CurrentUser
from api.bookings import door, workflows
from api.bookings.schemas import (
    CheckInOut,
    CheckInRequest,
    CountersOut,
    DoorListOut,
    ExpectedOut,
    OfflineResultsOut,
    OfflineScans,
    ScanResultOut,
)
from api.deps import SessionDep, SettingsDep
from api.errors import problem_responses
from api.events import service as events_service

router = APIRouter(tags=["tickets"], responses=problem_responses(401, 403, 404, 422))


def _check_in_out(decision: door.Decision) -> CheckInOut:
    answer = decision.answer
    assert answer is not None
    ticket = answer.check_in.ticket
    return CheckInOut(
        ticket_id=ticket.id,
        booking_id=ticket.booking_id,
        ticket_type_id=ticket.ticket_type_id,
        already_checked_in=answer.check_in.already_checked_in,
        first_checked_in_at=answer.check_in.first_checked_in_at,
        holder_name=answer.holder_name,
        ticket_type_name=answer.ticket_type_name,
        first_checked_in_by=answer.first_checked_in_by,
        first_checked_in_device=decision.first_device,
        outcome=decision.outcome.value,
    )


def _scan(body: CheckInRequest) -> door.Scan:
    return door.Scan(
        scan_id=body.scan_id or uuid.uuid4(),
        payload=body.payload,
        scanned_at=body.scanned_at,
        device=body.device,
    )


@router.post(
    "/events/{eventId}/check-ins", response_model=CheckInOut, responses=problem_responses(409)
)
async def check_in(
    eventId: uuid.UUID,
    body: CheckInRequest,
    staff: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> CheckInOut:
    """Scan a ticket at the door (the event's organizer, an admin, or its door staff): admitted
    once; a second scan says when, by whom and on which device it was first scanned. With a
    `scan_id`, the same scan sent again (a retry after a lost answer) gets the same answer.

    Only inside the event's check-in window: from `checkin_opens_minutes_before` its start
    until its end (409 `ticket.checkin_not_open` / `ticket.checkin_closed` outside it)."""
    _event, decision = await workflows.check_in_ticket(
        session, settings, event_id=eventId, scan=_scan(body), staff=staff
    )
    if decision.answer is None:
        raise decision.refused()
    return _check_in_out(decision)


@router.post("/events/{eventId}/check-ins/offline", response_model=OfflineResultsOut)
async def check_in_offline(
    eventId: uuid.UUID,
    body: OfflineScans,
    staff: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> OfflineResultsOut:
    """The scans a door device made while offline, in the order it made them. Each is decided
    once: the batch sent again gets the same answers. A ticket another door admitted first is a
    `conflict` (someone was let in twice: look at the two scans); a scan that is no valid ticket
    of this event is `refused` with the error code the online scan would have had."""
    _event, decisions = await workflows.check_in_offline(
        session,
        settings,
        event_id=eventId,
        scans=[
            door.Scan(s.scan_id, s.payload, scanned_at=s.scanned_at, device=s.device)
            for s in body.scans
        ],
        staff=staff,
    )
    return OfflineResultsOut(
        results=[
            ScanResultOut(
                scan_id=d.scan_id,
                outcome=d.outcome.value,
                code=d.code,
                scan=_check_in_out(d) if d.answer is not None else None,
            )
            for d in decisions
        ]
    )


@router.get("/events/{eventId}/check-ins/list", response_model=DoorListOut)
async def door_list(eventId: uuid.UUID, staff: CurrentUser, session: SessionDep) -> DoorListOut:
    """What a door device keeps to decide while offline: every valid ticket (a hash of its code,
    never the code), its holder and type and whether it is in; and the counters."""
    event = await events_service.get_staffed_or_raise(session, event_id=eventId, actor=staff)
    found = await door.counters(session, event=event)
    return DoorListOut(
        counters=CountersOut(**vars(found)),
        tickets=[ExpectedOut(**vars(e)) for e in await door.expected(session, event=event)],
    )


@router.get("/events/{eventId}/check-ins/counters", response_model=CountersOut)
async def door_counters(eventId: uuid.UUID, staff: CurrentUser, session: SessionDep) -> CountersOut:
    """Checked in of expected, and the conflicts offline scans found."""
    event = await events_service.get_staffed_or_raise(session, event_id=eventId, actor=staff)
    return CountersOut(**vars(await door.counters(session, event=event)))
