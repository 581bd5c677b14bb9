"""HTTP routes of door staff: an organizer's grants, and the events a person works the door of."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from api.auth.dependencies import CurrentUser, OrganizerDep
from api.deps import SessionDep
from api.errors import problem_responses
from api.events import service
from api.events.schemas import EventOut, StaffGrantIn, StaffGrantOut
from api.events.views import event_view

router = APIRouter(tags=["door staff"], responses=problem_responses(401, 422))


@router.post(
    "/staff-grants",
    status_code=status.HTTP_201_CREATED,
    response_model=StaffGrantOut,
    responses=problem_responses(403, 404, 409),
)
async def grant_staff(
    body: StaffGrantIn, actor: OrganizerDep, session: SessionDep
) -> StaffGrantOut:
    """Let the person with this email check tickets in and read the attendees of one of your
    events, or of all of them (`event_id` empty). It takes effect once their account's address
    is verified; they may do nothing else."""
    made = await service.grant_staff(session, actor=actor, email=body.email, event_id=body.event_id)
    return StaffGrantOut.model_validate(made)


@router.get("/staff-grants", response_model=list[StaffGrantOut])
async def list_staff_grants(actor: OrganizerDep, session: SessionDep) -> list[StaffGrantOut]:
    """Your door staff: the grants that stand, newest first."""
    return [StaffGrantOut.model_validate(g) for g in await service.grants_of(session, actor=actor)]


@router.delete(
    "/staff-grants/{grantId}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(403, 404),
)
async def revoke_staff_grant(
    grantId: uuid.UUID, actor: OrganizerDep, session: SessionDep
) -> Response:
    """End a grant: the person's next scan or attendee list is refused."""
    await service.revoke_staff(session, actor=actor, grant_id=grantId)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/users/me/door-events", response_model=list[EventOut])
async def my_door_events(user: CurrentUser, session: SessionDep) -> list[EventOut]:
    """Events whose door you work (your own, or granted to you) that have not ended more than a
    day ago, soonest first."""
    return [event_view(e) for e in await service.door_events(session, user=user)]
