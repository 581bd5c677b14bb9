"""Bookings: holding seats without ever overselling. Callers commit.

Seats are claimed and given back through `capacity` (conditional updates of a counter).
Expired holds give their seats back inside the same transaction as the claim that needs them,
so they stop counting at their expiry time without waiting for the periodic clean-up; seats
that come back go to the waitlist first (`waitlist`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox
from api.bookings import capacity, tickets, waitlist
from api.bookings.errors import (
    BookingNotFound,
    CancellationClosed,
    CheckInClosed,
    CheckInNotOpen,
    NotCancellable,
    NotConfirmable,
    NotOnSale,
    NotWaiting,
    OrderLimit,
    PaymentRequired,
    SoldOut,
    TicketUsed,
    UnknownTicketType,
)
from api.bookings.models import (
    ACTIVE_WAITLIST,
    Booking,
    BookingLine,
    BookingReminder,
    BookingStatus,
    Ticket,
    TicketStatus,
    WaitlistStatus,
)
from api.bookings.schemas import BookingCreate
from api.bookings.waitlist import release_expired
from api.config import Settings
from api.db import utcnow
from api.events import service as events_service
from api.events.models import Event, EventStatus, TicketType
from api.users.models import Role, User

__all__ = ["release_expired"]


def _check_line(ticket_type: TicketType, quantity: int, now: datetime, index: int) -> None:
    field = f"lines.{index}.quantity"
    if ticket_type.sales_start is not None and now < ticket_type.sales_start:
        raise NotOnSale(
            f"{ticket_type.name} goes on sale at {ticket_type.sales_start}.", field=field
        )
    if ticket_type.sales_end is not None and now >= ticket_type.sales_end:
        raise NotOnSale(f"Sales of {ticket_type.name} have ended.", field=field)
    if not ticket_type.min_per_order <= quantity <= ticket_type.max_per_order:
        raise OrderLimit(
            f"{ticket_type.name}: between {ticket_type.min_per_order} and "
            f"{ticket_type.max_per_order} per order.",
            field=field,
        )


async def create(
    session: AsyncSession, *, user: User, data: BookingCreate, hold: timedelta
) -> Booking:
    """Hold every requested seat or none; free bookings are confirmed at once."""
    event = await events_service.get_visible_or_raise(session, event_id=data.event_id, viewer=user)
    if event.status != EventStatus.published:
        raise NotOnSale("This event is not on sale.", field="event_id")
    now = utcnow()
    types = {t.id: t for t in event.ticket_types}
    for index, line in enumerate(data.lines):
        ticket_type = types.get(line.ticket_type_id)
        if ticket_type is None:
            raise UnknownTicketType(
                "No such ticket type on this event.", field=f"lines.{index}.ticket_type_id"
            )
        _check_line(ticket_type, line.quantity, now, index)
        waitlist.check_attendee_names(
            event, line.attendees, line.quantity, f"lines.{index}.attendees"
        )
    lines = [
        capacity.new_line(types[line.ticket_type_id], line.quantity, line.attendees)
        for line in data.lines
    ]
    total = sum(line.gross_cents for line in lines)
    free = total == 0
    booking = Booking(
        id=uuid.uuid4(),
        user_id=user.id,
        event_id=event.id,
        status=BookingStatus.confirmed if free else BookingStatus.pending,
        currency=event.currency,
        total_cents=total,
        tax_cents=sum(line.tax_cents for line in lines),
        seats=sum(line.quantity for line in data.lines),
        expires_at=None if free else now + hold,
        created_at=now,
        confirmed_at=now if free else None,
        lines=lines,
    )
    session.add(booking)
    capacity.transition(session, booking, from_status=None, at=now, actor_id=user.id)
    await capacity.announce(session, "booking.created", booking)
    if free:
        await capacity.announce(session, "booking.confirmed", booking)
        await tickets.issue(session, booking=booking)
    await _claim_all(session, data=data, types=types, now=now)
    return booking


async def _claim_all(
    session: AsyncSession, *, data: BookingCreate, types: dict[uuid.UUID, TicketType], now: datetime
) -> None:
    """Take the seats last, just before the caller commits: the hot ticket-type rows stay
    locked for two round trips (claim, commit) instead of the whole transaction.
    A refusal raises, and the caller's rollback removes the booking written above."""
    # Claims in one order (by id) so concurrent multi-line bookings cannot deadlock.
    for index, line in sorted(enumerate(data.lines), key=lambda item: item[1].ticket_type_id):
        claimed = await capacity.claim(
            session, ticket_type_id=line.ticket_type_id, quantity=line.quantity
        )
        if not claimed and await release_expired(
            session, now=now, ticket_type_id=line.ticket_type_id
        ):
            claimed = await capacity.claim(
                session, ticket_type_id=line.ticket_type_id, quantity=line.quantity
            )
        if not claimed:
            name = types[line.ticket_type_id].name
            raise SoldOut(f"Not enough {name} tickets left.", field=f"lines.{index}.quantity")


def effective_status(booking: Booking, now: datetime | None = None) -> BookingStatus:
    """A hold past its expiry is expired, whether or not the clean-up has run yet."""
    if (
        booking.status == BookingStatus.pending
        and booking.expires_at is not None
        and booking.expires_at <= (now or utcnow())
    ):
        return BookingStatus.expired
    return booking.status


async def get_visible_or_raise(
    session: AsyncSession, *, booking_id: uuid.UUID, viewer: User
) -> Booking:
    """A booking its owner, the event's organizer or an admin may see; 404 for anyone else."""
    booking = await session.get(Booking, booking_id)
    if booking is not None and (booking.user_id == viewer.id or viewer.role == Role.admin):
        return booking
    if booking is not None and viewer.role == Role.organizer:
        event = await events_service.get_visible_or_raise(
            session, event_id=booking.event_id, viewer=viewer
        )
        if event.organizer_id == viewer.id:
            return booking
    raise BookingNotFound(f"No booking with id {booking_id}.", field="bookingId")


async def list_for_user(
    session: AsyncSession, *, user: User, page: int, page_size: int
) -> tuple[list[Booking], int]:
    query = select(Booking).where(Booking.user_id == user.id)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(Booking.created_at.desc(), Booking.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return list(rows), total


async def booked_event_ids(session: AsyncSession, *, user_id: uuid.UUID) -> list[uuid.UUID]:
    """Events the user holds or has seats at (pending or confirmed), most recent first."""
    rows = await session.execute(
        select(Booking.event_id, func.max(Booking.created_at).label("latest"))
        .where(
            Booking.user_id == user_id,
            Booking.status.in_([BookingStatus.pending, BookingStatus.confirmed]),
        )
        .group_by(Booking.event_id)
        .order_by(func.max(Booking.created_at).desc())
    )
    return [row[0] for row in rows.all()]


async def _lock(session: AsyncSession, booking: Booking) -> None:
    """Lock the booking's row and read it again. Cancelling and checking in take this lock
    first, so one waits for the other and then sees what it did (a ticket checked in, or
    voided); SQLite's single writer gives the same order."""
    await session.execute(
        select(Booking)
        .where(Booking.id == booking.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )


async def _has_checked_in_ticket(session: AsyncSession, *, booking_id: uuid.UUID) -> bool:
    used = await session.scalar(
        select(exists().where(Ticket.booking_id == booking_id, Ticket.checked_in_at.is_not(None)))
    )
    return bool(used)


async def cancel(
    session: AsyncSession,
    *,
    booking: Booking,
    actor: User,
    reason: str | None,
    event_cancelled: bool = False,
) -> Booking:
    """Cancel a held or confirmed booking and give its seats back; emits `booking.cancelled`.

    Attendees follow the event's policy and cannot cancel once a ticket was checked in; the
    organizer and admins may always cancel. The status change is conditional, so a booking is
    never cancelled (and its seats returned) twice. The outbox row says who cancelled
    (`cancelled_by`: attendee, staff or event), so its consumers need not guess from later state.
    """
    await _lock(session, booking)
    now = utcnow()
    if effective_status(booking, now) not in (BookingStatus.pending, BookingStatus.confirmed):
        raise NotCancellable(
            f"A {effective_status(booking, now).value} booking cannot be cancelled."
        )
    event = await events_service.get_visible_or_raise(
        session, event_id=booking.event_id, viewer=actor
    )
    staff = actor.role == Role.admin or actor.id == event.organizer_id
    if not staff:
        hours = event.attendee_cancellation_hours
        if hours is None or now > event.starts_at - timedelta(hours=hours):
            raise CancellationClosed(
                "This event no longer accepts cancellations."
                if hours is not None
                else "This event does not accept cancellations by attendees."
            )
        if await _has_checked_in_ticket(session, booking_id=booking.id):
            raise TicketUsed(
                "A ticket of this booking was checked in at the door; it cannot be cancelled "
                "any more. The organizer can refund it."
            )
    previous = booking.status
    changed = await session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == previous)
        .values(status=BookingStatus.cancelled, cancelled_at=now, version=Booking.version + 1)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise NotCancellable("This booking changed meanwhile; read it again.")
    seats = capacity.seats_of(booking.lines)
    await capacity.give_back(session, seats)
    await tickets.void_for_booking(session, booking_id=booking.id)
    await session.refresh(booking)
    capacity.transition(
        session,
        booking,
        from_status=previous,
        at=now,
        actor_id=actor.id,
        reason=reason or ("by organizer" if staff else "by attendee"),
    )
    by = "event" if event_cancelled else "staff" if staff else "attendee"
    await capacity.announce(session, "booking.cancelled", booking, extra={"cancelled_by": by})
    if previous == BookingStatus.pending:
        await waitlist.close_offer(
            session, booking_id=booking.id, status=WaitlistStatus.declined, now=now
        )
    if event.status == EventStatus.published:
        await waitlist.offer(session, ticket_type_ids=[t for t, _ in seats], now=now)
    return booking


def check_in_window(event: Event) -> tuple[datetime, datetime]:
    """When door staff may check tickets in: from `checkin_opens_minutes_before` the start
    until the event's end."""
    return event.starts_at - timedelta(minutes=event.checkin_opens_minutes_before), event.ends_at


async def check_in(
    session: AsyncSession, settings: Settings, *, event: Event, payload: str, staff: User
) -> tickets.CheckIn:
    """Admit a ticket at the door, inside the event's check-in window (outside it the ticket
    is left as it is). The ticket's booking is locked first, as `cancel` does, so a scan and a
    cancellation racing each other never both succeed."""
    code = tickets.code_from_payload(settings, payload)
    now = utcnow()
    opens, closes = check_in_window(event)
    if now < opens:
        raise CheckInNotOpen(f"Check-in for this event opens at {opens.isoformat()}.")
    if now > closes:
        raise CheckInClosed(f"Check-in for this event closed at {closes.isoformat()}.")
    booking_id = await session.scalar(select(Ticket.booking_id).where(Ticket.code == code))
    if booking_id is not None:
        await session.execute(
            select(Booking.id).where(Booking.id == booking_id).with_for_update(key_share=True)
        )
    return await tickets.check_in(
        session, settings, event_id=event.id, payload=payload, staff=staff
    )


async def cancel_all_for_event(session: AsyncSession, *, event_id: uuid.UUID, actor: User) -> int:
    """When an event is cancelled, every live booking of it is cancelled too (one its holder
    cancelled meanwhile is left as it is)."""
    await waitlist.close_for_event(session, event_id=event_id, now=utcnow())
    # All of them locked before any seat is given back, so a holder's own cancellation (one
    # booking, then its ticket types) waits for this one or goes first, never deadlocks with it.
    live = await session.scalars(
        select(Booking)
        .where(
            Booking.event_id == event_id,
            Booking.status.in_((BookingStatus.pending, BookingStatus.confirmed)),
        )
        .order_by(Booking.created_at, Booking.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    count = 0
    for booking in list(live):
        if effective_status(booking) in (BookingStatus.pending, BookingStatus.confirmed):
            try:
                await cancel(
                    session,
                    booking=booking,
                    actor=actor,
                    reason="event cancelled",
                    event_cancelled=True,
                )
            except NotCancellable:  # cancelled by its holder meanwhile: nothing written yet
                continue
            count += 1
    return count


async def sales_by_event(
    session: AsyncSession, *, event_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, int]]:
    """Per event: confirmed seats, seats on live holds, and their revenue in minor units."""
    now = utcnow()
    rows = await session.execute(
        select(
            Booking.event_id, Booking.status, Booking.expires_at, Booking.seats, Booking.total_cents
        ).where(
            Booking.event_id.in_(event_ids),
            Booking.status.in_((BookingStatus.pending, BookingStatus.confirmed)),
        )
    )
    sales = {
        event_id: {"confirmed_seats": 0, "held_seats": 0, "confirmed_cents": 0}
        for event_id in event_ids
    }
    for event_id, status, expires_at, seats, total in rows.all():
        if status == BookingStatus.confirmed:
            sales[event_id]["confirmed_seats"] += seats
            sales[event_id]["confirmed_cents"] += total
        elif expires_at is not None and expires_at > now:
            sales[event_id]["held_seats"] += seats
    return sales


async def confirm(
    session: AsyncSession, *, booking: Booking, actor_id: uuid.UUID | None, reason: str | None
) -> Booking:
    """A held booking becomes confirmed (paid, or a free waitlist offer accepted): its tickets
    are issued and `booking.confirmed` announced. Refused once the hold has lapsed."""
    now = utcnow()
    if effective_status(booking, now) != BookingStatus.pending:
        raise NotConfirmable(
            f"A {effective_status(booking, now).value} booking cannot be confirmed."
        )
    changed = await session.execute(
        update(Booking)
        .where(
            Booking.id == booking.id,
            Booking.status == BookingStatus.pending,
            Booking.expires_at > now,
        )
        .values(
            status=BookingStatus.confirmed,
            confirmed_at=now,
            expires_at=None,
            version=Booking.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise NotConfirmable("This booking changed meanwhile; read it again.")
    await session.refresh(booking)
    capacity.transition(
        session,
        booking,
        from_status=BookingStatus.pending,
        at=now,
        actor_id=actor_id,
        reason=reason,
    )
    await capacity.announce(session, "booking.confirmed", booking)
    await tickets.issue(session, booking=booking)
    await waitlist.close_offer(
        session, booking_id=booking.id, status=WaitlistStatus.converted, now=now
    )
    return booking


async def accept_free(session: AsyncSession, *, booking: Booking, user: User) -> Booking:
    """The holder accepts a free hold (a waitlist offer of free tickets)."""
    if booking.user_id != user.id:
        raise BookingNotFound(f"No booking with id {booking.id}.", field="bookingId")
    if booking.total_cents != 0:
        raise PaymentRequired("This booking is confirmed by paying for it.")
    return await confirm(session, booking=booking, actor_id=user.id, reason="accepted")


async def seats_added(session: AsyncSession, *, ticket_type_id: uuid.UUID) -> int:
    """A ticket type may have more seats: the waitlist gets them first."""
    return await waitlist.offer(session, ticket_type_ids=[ticket_type_id], now=utcnow())


async def leave_waitlist(
    session: AsyncSession, *, event_id: uuid.UUID, user: User, ticket_type_id: uuid.UUID | None
) -> int:
    """Leave the queue (of one ticket type, or all of the event's); an offer in hand is
    cancelled and its seats go to the next person."""
    entries = [
        entry
        for entry in await waitlist.active_entries(session, event_id=event_id, user_id=user.id)
        if ticket_type_id is None or entry.ticket_type_id == ticket_type_id
    ]
    if not entries:
        raise NotWaiting("You are not on this event's waitlist.", field="eventId")
    now = utcnow()
    for entry in entries:
        offered = entry.booking_id if entry.status == WaitlistStatus.offered else None
        if not await waitlist.move(
            session, entry, to=WaitlistStatus.left, only_from=ACTIVE_WAITLIST, closed_at=now
        ):
            continue  # settled meanwhile (offer lapsed or accepted)
        booking = await session.get(Booking, offered) if offered else None
        if booking is not None and effective_status(booking, now) == BookingStatus.pending:
            await cancel(session, booking=booking, actor=user, reason="left the waitlist")
    return len(entries)


@dataclass(frozen=True)
class AttendeeLine:
    """One line of a booking with what the attendee list shows of it."""

    booking: Booking
    line: BookingLine
    ticket_type: TicketType
    buyer: User
    tickets: list[Ticket]


async def attendees(
    session: AsyncSession,
    *,
    event_id: uuid.UUID,
    statuses: list[BookingStatus],
    page: int | None,
    page_size: int,
) -> tuple[list[AttendeeLine], int]:
    """The event's bookings line by line, with buyer, ticket type and tickets; `page` None
    gives them all (the CSV export)."""
    query = select(Booking).where(Booking.event_id == event_id)
    if statuses:
        query = query.where(Booking.status.in_(statuses))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    query = query.order_by(Booking.created_at, Booking.id)
    if page is not None:
        query = query.offset((page - 1) * page_size).limit(page_size)
    bookings = list(await session.scalars(query))
    ids = [b.id for b in bookings]
    buyers = {
        u.id: u
        for u in await session.scalars(
            select(User).where(User.id.in_({b.user_id for b in bookings}))
        )
    }
    types = {
        t.id: t
        for t in await session.scalars(select(TicketType).where(TicketType.event_id == event_id))
    }
    by_line: dict[tuple[uuid.UUID, uuid.UUID], list[Ticket]] = {}
    for ticket in await session.scalars(
        select(Ticket).where(Ticket.booking_id.in_(ids)).order_by(Ticket.created_at, Ticket.id)
    ):
        by_line.setdefault((ticket.booking_id, ticket.ticket_type_id), []).append(ticket)
    rows = [
        AttendeeLine(
            booking=booking,
            line=line,
            ticket_type=types[line.ticket_type_id],
            buyer=buyers[booking.user_id],
            tickets=by_line.get((booking.id, line.ticket_type_id), []),
        )
        for booking in bookings
        for line in booking.lines
    ]
    return rows, total


REMINDERS = (("24h", timedelta(hours=24)), ("1h", timedelta(hours=1)))


async def announce_reminders(session: AsyncSession, *, now: datetime, limit: int = 500) -> int:
    """Announce `booking.reminder_due` for confirmed bookings of events starting within 24 h
    and within 1 h, once each (the reminder's key says so). A booking made after a reminder
    was due does not get it: its confirmation just went out."""
    announced = 0
    for kind, lead in REMINDERS:
        due = await session.execute(
            select(Booking, Event.starts_at)
            .join(Event, Event.id == Booking.event_id)
            .outerjoin(
                BookingReminder,
                (BookingReminder.booking_id == Booking.id) & (BookingReminder.kind == kind),
            )
            .where(
                Booking.status == BookingStatus.confirmed,
                Event.status == EventStatus.published,
                Event.starts_at > now,
                Event.starts_at <= now + lead,
                BookingReminder.booking_id.is_(None),
            )
            .order_by(Event.starts_at, Booking.id)
            .limit(limit)
        )
        for booking, starts_at in due.all():
            due_at = starts_at - lead
            late = booking.confirmed_at is not None and booking.confirmed_at > due_at
            session.add(
                BookingReminder(
                    booking_id=booking.id, kind=kind, due_at=due_at, announced_at=now, skipped=late
                )
            )
            if not late:
                await outbox.emit(
                    session,
                    "booking.reminder_due",
                    entity="booking",
                    entity_id=str(booking.id),
                    payload={
                        "booking_id": str(booking.id),
                        "user_id": str(booking.user_id),
                        "event_id": str(booking.event_id),
                        "kind": kind,
                        "starts_at": starts_at.isoformat(),
                        "due_at": due_at.isoformat(),
                    },
                )
                announced += 1
        await session.flush()
    return announced


async def confirm_paid(
    session: AsyncSession, *, booking_id: uuid.UUID, payment_started_at: datetime
) -> bool:
    """Payment for this booking succeeded: confirm it. A payment begun while the hold was live
    counts even if it lands after `expires_at`; if the seats were released meanwhile they are
    claimed again. Says False when they are gone (the payment must then be refunded)."""
    booking = await session.get(Booking, booking_id, populate_existing=True)
    assert booking is not None
    now = utcnow()
    if booking.status == BookingStatus.confirmed:
        return True
    if booking.status == BookingStatus.pending and (
        booking.expires_at is None or payment_started_at < booking.expires_at
    ):
        if booking.expires_at is not None and booking.expires_at <= now:
            # Still counted in `reserved` (not yet released): give it the time to be confirmed.
            await session.execute(
                update(Booking)
                .where(Booking.id == booking.id, Booking.status == BookingStatus.pending)
                .values(expires_at=now + timedelta(minutes=1), version=Booking.version + 1)
                .execution_options(synchronize_session=False)
            )
            await session.refresh(booking)
        await confirm(session, booking=booking, actor_id=None, reason="paid")
        return True
    if booking.status != BookingStatus.expired or payment_started_at >= (booking.expires_at or now):
        return False
    seats = sorted(capacity.seats_of(booking.lines))
    claimed: list[tuple[uuid.UUID, int]] = []
    for ticket_type_id, count in seats:
        if not await capacity.claim(session, ticket_type_id=ticket_type_id, quantity=count):
            await capacity.give_back(session, claimed)
            return False
        claimed.append((ticket_type_id, count))
    await session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == BookingStatus.expired)
        .values(
            status=BookingStatus.pending,
            expires_at=now + timedelta(minutes=1),
            version=Booking.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    await session.refresh(booking)
    capacity.transition(
        session,
        booking,
        from_status=BookingStatus.expired,
        at=now,
        actor_id=None,
        reason="paid after the hold lapsed; seats claimed again",
    )
    await confirm(session, booking=booking, actor_id=None, reason="paid")
    return True


async def mark_refunded(
    session: AsyncSession, *, booking_id: uuid.UUID, actor_id: uuid.UUID | None
) -> None:
    """Its payment was refunded in full: a confirmed booking gives its seats back (to the
    waitlist first) and its tickets stop working; a cancelled one just records it."""
    booking = await session.get(Booking, booking_id, populate_existing=True)
    assert booking is not None
    previous = booking.status
    if previous not in (BookingStatus.confirmed, BookingStatus.cancelled):
        return
    now = utcnow()
    changed = await session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == previous)
        .values(status=BookingStatus.refunded, version=Booking.version + 1)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        return
    await session.refresh(booking)
    if previous == BookingStatus.confirmed:
        seats = capacity.seats_of(booking.lines)
        await capacity.give_back(session, seats)
        await tickets.void_for_booking(session, booking_id=booking.id)
        await waitlist.offer(session, ticket_type_ids=[t for t, _ in seats], now=now)
    capacity.transition(
        session, booking, from_status=previous, at=now, actor_id=actor_id, reason="refunded"
    )
    await capacity.announce(session, "booking.refunded", booking)


async def extend_hold(session: AsyncSession, *, booking_id: uuid.UUID, until: datetime) -> None:
    """Hold a live booking longer (a bank transfer takes days), never past the event's start."""
    booking = await session.get(Booking, booking_id)
    assert booking is not None
    event = await session.get(Event, booking.event_id)
    assert event is not None
    now = utcnow()
    await session.execute(
        update(Booking)
        .where(
            Booking.id == booking_id,
            Booking.status == BookingStatus.pending,
            Booking.expires_at > now,
            Booking.expires_at < min(until, event.starts_at),
        )
        .values(expires_at=min(until, event.starts_at), version=Booking.version + 1)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(booking)


async def invoice_lines(session: AsyncSession, *, booking_id: uuid.UUID) -> list[dict[str, Any]]:
    """A booking's lines as an invoice shows them, with the tax they were sold with."""
    booking = await session.get(Booking, booking_id)
    assert booking is not None
    event = await session.get(Event, booking.event_id)
    assert event is not None
    names = {
        t.id: t.name
        for t in await session.scalars(
            select(TicketType).where(TicketType.event_id == booking.event_id)
        )
    }
    return [
        {
            "description": f"{event.title}: {names.get(line.ticket_type_id, 'ticket')}",
            "event_starts_at": event.starts_at.isoformat(),
            "quantity": line.quantity,
            "unit_price_cents": line.unit_price_cents,
            "net_cents": line.net_cents,
            "tax_name": line.tax_name,
            "tax_rate_bps": line.tax_rate_bps,
            "tax_inclusive": line.tax_inclusive,
            "tax_cents": line.tax_cents,
            "gross_cents": line.gross_cents,
        }
        for line in booking.lines
    ]


async def get(session: AsyncSession, *, booking_id: uuid.UUID) -> Booking | None:
    """A booking by id, for the platform's own jobs (no viewer check)."""
    return await session.get(Booking, booking_id)


@dataclass(frozen=True)
class Holder:
    booking_id: uuid.UUID
    user_id: uuid.UUID
    seats: int
    total_cents: int
    currency: str


async def holders(
    session: AsyncSession,
    *,
    event_id: uuid.UUID,
    statuses: tuple[BookingStatus, ...],
    cancelled_since: datetime | None = None,
) -> list[Holder]:
    """The bookings of an event in these states (and cancelled since then, if given) that had
    been confirmed: who to tell when the event changes."""
    query = select(
        Booking.id, Booking.user_id, Booking.seats, Booking.total_cents, Booking.currency
    ).where(
        Booking.event_id == event_id,
        Booking.status.in_(statuses),
        Booking.confirmed_at.is_not(None),
    )
    if cancelled_since is not None:
        query = query.where(Booking.cancelled_at >= cancelled_since)
    rows = await session.execute(query.order_by(Booking.created_at, Booking.id))
    return [Holder(*row) for row in rows.all()]


async def past_customers(
    session: AsyncSession, *, organizer_id: uuid.UUID, excluding_event: uuid.UUID
) -> list[uuid.UUID]:
    """People with a confirmed booking for another event of this organizer."""
    rows = await session.scalars(
        select(Booking.user_id)
        .join(Event, Event.id == Booking.event_id)
        .where(
            Event.organizer_id == organizer_id,
            Event.id != excluding_event,
            Booking.status == BookingStatus.confirmed,
        )
        .distinct()
    )
    return sorted(rows.all())


async def tickets_pdf(
    session: AsyncSession, settings: Settings, *, booking_id: uuid.UUID
) -> bytes | None:
    """The valid tickets of a booking as a PDF, one page each with its QR code, in the buyer's
    locale."""
    booking = await session.get(Booking, booking_id)
    if booking is None:
        return None
    event = await session.get(Event, booking.event_id)
    assert event is not None
    issued = [
        t
        for t in await tickets.list_for_booking(session, booking_id=booking_id)
        if t.status == TicketStatus.valid
    ]
    if not issued:
        return None
    names = {
        t.id: t.name
        for t in await session.scalars(
            select(TicketType).where(TicketType.event_id == booking.event_id)
        )
    }
    buyer = await session.get(User, booking.user_id)
    return tickets.render_pdf(
        settings,
        event=event,
        issued=issued,
        type_names=names,
        booking=booking,
        locale=buyer.locale if buyer is not None else None,
    )
