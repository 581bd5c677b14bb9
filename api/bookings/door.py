"""The door: every scan decided exactly once under the id its device gave it, so a retry or an
offline batch sent twice gets the same answer; a ticket admitted offline at one door after
another door had admitted it is reported as a conflict, never silently admitted twice; the list
a device keeps to decide while offline; and the counters. Callers commit."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from api.bookings import checkin, tickets
from api.bookings.models import (
    Booking,
    CheckInScan,
    ScanOutcome,
    Ticket,
    TicketStatus,
)
from api.config import Settings
from api.db import utcnow
from api.errors import AppError, Conflict
from api.users import service as users_service

if TYPE_CHECKING:
    from api.events import Event
    from api.users import User


@dataclass(frozen=True)
class Scan:
    """A scan as the device sends it: its own id, what it read, when, and which device."""

    scan_id: uuid.UUID
    payload: str
    scanned_at: datetime | None = None
    device: str | None = None


@dataclass(frozen=True)
class Decision:
    scan_id: uuid.UUID
    outcome: ScanOutcome
    answer: checkin.DoorAnswer | None = None  # the ticket, when the scan named one of ours
    code: str | None = None  # why a refused scan was refused (the API's error code)
    first_device: str | None = None  # which device admitted the ticket first
    refusal: AppError | None = None  # a refused scan's error, to answer with online

    def refused(self) -> AppError:
        """The error a refused scan answers with online (as first said, or by its code)."""
        return self.refusal or Conflict(
            "This scan was refused.", code=self.code or "ticket.unknown"
        )


def scanned_at(sent: datetime | None, now: datetime) -> datetime:
    """When a scan counts as made: when its device says, never later than now."""
    return min(sent, now) if sent is not None else now


def device_label(device: str | None) -> str | None:
    """A device's name as kept with its scans."""
    return (device or "")[:100] or None


async def _claim(session: AsyncSession, row: dict[str, object]) -> bool:
    """Insert the scan unless its id was decided before (or is being decided: PostgreSQL waits
    for that transaction, then reports the row as taken)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    done = await session.execute(
        insert(CheckInScan).values(**row).on_conflict_do_nothing(index_elements=["id"])
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


async def _first_device(session: AsyncSession, ticket_id: uuid.UUID) -> str | None:
    return await session.scalar(
        select(CheckInScan.device).where(
            CheckInScan.ticket_id == ticket_id, CheckInScan.outcome == ScanOutcome.admitted
        )
    )


async def decide(
    session: AsyncSession,
    settings: Settings,
    *,
    event: Event,
    staff: User,
    scan: Scan,
    offline: bool,
) -> Decision:
    """Decide one scan, once. Online (`offline` False) a repeat scan is `already` (the door says
    no); in an offline batch it is a `conflict` (the device let someone in meanwhile). A scan
    that is no valid ticket of this event now is kept as `refused`, with the error's code."""
    now = utcnow()
    at = scanned_at(scan.scanned_at, now)
    claimed = await _claim(
        session,
        {
            "id": scan.scan_id,
            "event_id": event.id,
            "staff_id": staff.id,
            "device": device_label(scan.device),
            "offline": offline,
            "scanned_at": at,
            "decided_at": now,
            "outcome": ScanOutcome.pending,
        },
    )
    if not claimed:
        return await replay(session, event=event, scan_id=scan.scan_id)
    try:
        result = await checkin.check_in(
            session, settings, event=event, payload=scan.payload, staff=staff, at=at
        )
    except AppError as refused:  # raised before anything was written but the claim
        await _settle(session, scan.scan_id, ScanOutcome.refused, code=refused.code)
        return Decision(scan.scan_id, ScanOutcome.refused, code=refused.code, refusal=refused)
    outcome = ScanOutcome.admitted
    if result.already_checked_in:
        outcome = ScanOutcome.conflict if offline else ScanOutcome.already
    await _settle(session, scan.scan_id, outcome, ticket_id=result.ticket.id)
    answer = await checkin.door_answer(session, event=event, result=result)
    first = await _first_device(session, result.ticket.id) if result.already_checked_in else None
    return Decision(scan.scan_id, outcome, answer=answer, first_device=first)


async def _settle(
    session: AsyncSession,
    scan_id: uuid.UUID,
    outcome: ScanOutcome,
    *,
    ticket_id: uuid.UUID | None = None,
    code: str | None = None,
) -> None:
    await session.execute(
        update(CheckInScan)
        .where(CheckInScan.id == scan_id)
        .values(outcome=outcome, ticket_id=ticket_id, code=code)
        .execution_options(synchronize_session=False)
    )


async def replay(session: AsyncSession, *, event: Event, scan_id: uuid.UUID) -> Decision:
    """The answer a scan got when it was decided."""
    kept = await session.get(CheckInScan, scan_id)
    assert kept is not None
    assert kept.outcome != ScanOutcome.pending
    if kept.ticket_id is None:
        return Decision(scan_id, kept.outcome, code=kept.code)
    ticket = await session.get(Ticket, kept.ticket_id)
    assert ticket is not None
    assert ticket.checked_in_at is not None
    result = tickets.CheckIn(
        ticket=ticket,
        first_checked_in_at=ticket.checked_in_at,
        already_checked_in=kept.outcome != ScanOutcome.admitted,
    )
    answer = await checkin.door_answer(session, event=event, result=result)
    first = await _first_device(session, ticket.id) if result.already_checked_in else None
    return Decision(scan_id, kept.outcome, answer=answer, first_device=first)


@dataclass(frozen=True)
class Expected:
    """One ticket as a door device keeps it to decide offline: a hash of its code (not the
    code), its holder and type, and whether it is in."""

    code_hash: str
    holder_name: str
    ticket_type_name: str
    checked_in_at: datetime | None


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


async def expected(session: AsyncSession, *, event: Event) -> list[Expected]:
    """Every valid ticket of the event, for a device's offline list."""
    rows = (
        await session.execute(
            select(
                Ticket.code,
                Ticket.attendee_name,
                Ticket.ticket_type_id,
                Ticket.checked_in_at,
                Booking.user_id,
            )
            .join(Booking, Booking.id == Ticket.booking_id)
            .where(Ticket.event_id == event.id, Ticket.status == TicketStatus.valid)
            .order_by(Ticket.created_at, Ticket.id)
        )
    ).all()
    buyers = {
        u.id: u.public_name
        for u in await users_service.get_many(session, user_ids={row.user_id for row in rows})
    }
    names = {t.id: t.name for t in event.ticket_types}
    return [
        Expected(
            code_hash(row.code),
            row.attendee_name or buyers.get(row.user_id, ""),
            names.get(row.ticket_type_id, ""),
            row.checked_in_at,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class Counters:
    expected: int  # valid tickets
    checked_in: int
    conflicts: int  # offline scans of tickets another door had admitted


async def counters(session: AsyncSession, *, event: Event) -> Counters:
    """The event's counters, in one statement (the door's phones ask after every scan)."""
    conflicts = (
        select(func.count(CheckInScan.id))
        .where(CheckInScan.event_id == event.id, CheckInScan.outcome == ScanOutcome.conflict)
        .scalar_subquery()
    )
    found = (
        await session.execute(
            select(func.count(Ticket.id), func.count(Ticket.checked_in_at), conflicts).where(
                Ticket.event_id == event.id, Ticket.status == TicketStatus.valid
            )
        )
    ).one()
    return Counters(int(found[0]), int(found[1]), int(found[2] or 0))
