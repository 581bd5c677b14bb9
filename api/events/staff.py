"""Door staff: an organizer grants an email address the door of one event or of all their
events. The person with that address (once they have verified it) may check tickets in and read
the attendee list of those events, and nothing else: staff is a grant, not a role, so an
attendee who helps at one door stays an attendee everywhere else. Callers commit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.db import utcnow
from api.events.errors import NotEventStaff, StaffAlreadyGranted, StaffGrantNotFound
from api.events.models import Event, EventStatus, StaffGrant
from api.events.queries import can_manage, get_managed_or_raise, get_visible_or_raise
from api.users import User
from api.users import service as users_service


def _normal(email: str) -> str:
    return email.strip().lower()


def _reaches(user: User) -> object:
    """The SQL condition: grants of this user's verified address that stand."""
    return (StaffGrant.email == _normal(user.email)) & StaffGrant.revoked_at.is_(None)


def _covers(event: Event) -> object:
    return or_(
        StaffGrant.event_id == event.id,
        StaffGrant.event_id.is_(None) & (StaffGrant.organizer_id == event.organizer_id),
    )


async def is_staff(session: AsyncSession, *, event: Event, user: User) -> bool:
    """Whether the user may work this event's door: its organizer, an admin, or staff granted
    this event or all of its organizer's (by a verified address)."""
    if can_manage(event, user):
        return True
    if user.email_verified_at is None:
        return False
    found = await session.scalar(
        select(StaffGrant.id).where(_reaches(user), _covers(event)).limit(1)  # type: ignore[arg-type]
    )
    return found is not None


async def get_staffed_or_raise(session: AsyncSession, *, event_id: uuid.UUID, actor: User) -> Event:
    """An event whose door the actor works (`is_staff`); 403 `event.not_staff` otherwise."""
    event = await get_visible_or_raise(session, event_id=event_id, viewer=actor)
    if not await is_staff(session, event=event, user=actor):
        raise NotEventStaff("Only the event's organizer, an admin or its door staff may do this.")
    return event


async def grant(
    session: AsyncSession, *, actor: User, email: str, event_id: uuid.UUID | None
) -> StaffGrant:
    """Grant `email` the door of one of the actor's events, or of all of them (`event_id`
    None). The same standing grant twice is a 409 `staff_grant.exists`."""
    organizer_id = actor.id
    if event_id is not None:
        event = await get_managed_or_raise(session, event_id=event_id, actor=actor)
        organizer_id = event.organizer_id
    address = _normal(email)
    standing = await session.scalar(
        select(StaffGrant.id).where(
            StaffGrant.organizer_id == organizer_id,
            StaffGrant.email == address,
            StaffGrant.revoked_at.is_(None),
            StaffGrant.event_id == event_id if event_id else StaffGrant.event_id.is_(None),
        )
    )
    if standing is not None:
        raise StaffAlreadyGranted(f"{address} already works this door.", field="email")
    made = StaffGrant(
        organizer_id=organizer_id, event_id=event_id, email=address, granted_by=actor.id
    )
    session.add(made)
    await outbox.record(session, "staff_grant.created", made)
    return made


async def grants_of(session: AsyncSession, *, actor: User) -> list[StaffGrant]:
    """The standing grants of the actor's events, newest first."""
    rows = await session.scalars(
        select(StaffGrant)
        .where(StaffGrant.organizer_id == actor.id, StaffGrant.revoked_at.is_(None))
        .order_by(StaffGrant.created_at.desc())
    )
    return list(rows)


async def revoke(session: AsyncSession, *, actor: User, grant_id: uuid.UUID) -> StaffGrant:
    """End a grant (its organizer or an admin); the person's next scan is refused."""
    found = await session.get(StaffGrant, grant_id)
    admin = actor.role == users_service.Role.admin
    if (
        found is None
        or found.revoked_at is not None
        or (found.organizer_id != actor.id and not admin)
    ):
        raise StaffGrantNotFound("No such door staff grant.")
    found.revoked_at = utcnow()
    await outbox.record(session, "staff_grant.revoked", found)
    return found


async def door_events(session: AsyncSession, *, user: User) -> list[Event]:
    """Events whose door the user works that have not ended more than a day ago, soonest
    first: their own (an organizer's), and those granted to their verified address."""
    since = datetime.now(UTC) - timedelta(days=1)
    mine = Event.organizer_id == user.id
    if user.email_verified_at is not None:
        granted = select(StaffGrant.event_id, StaffGrant.organizer_id).where(_reaches(user))  # type: ignore[arg-type]
        rows = (await session.execute(granted)).all()
        events = {event_id for event_id, _ in rows if event_id is not None}
        organizers = {organizer_id for event_id, organizer_id in rows if event_id is None}
        mine = or_(mine, Event.id.in_(events), Event.organizer_id.in_(organizers))
    found = await session.scalars(
        select(Event)
        .where(
            mine,
            Event.status.in_([EventStatus.published, EventStatus.completed]),
            Event.ends_at >= since,
        )
        .order_by(Event.starts_at)
        .limit(100)
    )
    return list(found)
