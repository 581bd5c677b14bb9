"""A booking in one statement on PostgreSQL: the flash sale's path.

The booking is made by the same function as every other (`creation.plan`: the event's rules,
prices, tickets and outbox rows), from the event and its ticket types as last read (`OnSale`,
a short per-process cache). Then one statement, one round trip, committed on its own:
checks that the caller's session is live and the user active (what `auth.service.authenticate`
checks), that the event and the ticket type are still the versions the booking was planned
from (an edit, a cancellation, a price change all bump them), claims the seats by the same
conditional update as `api.events.seats` and, only when all of that holds, writes the
booking, its line, its status transition, its tickets, its outbox rows and the stored answer
of its `Idempotency-Key`.

Whenever the statement books nothing (no seats left, expired holds to give back first, the
event changed, the session ended) or fails (the key was used before), the caller hands the
request to the readable service (`creation.create` behind the FastAPI route), which decides it
and answers as it always does: this path only ever says yes to what that one would say yes to.
"""

from __future__ import annotations

import asyncio
import enum
import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from api.bookings import capacity, tickets
from api.bookings.creation import plan
from api.bookings.models import Booking, BookingStatus, TicketStatus
from api.bookings.schemas import BookingCreate
from api.db import utcnow
from api.events import service as events_service
from api.idempotency import StoredAnswer
from api.observability import current_request_id

if TYPE_CHECKING:
    import asyncpg
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from api.events import Event


def _caller_live(user_row: str, *, user: str, session: str, issued_at: str) -> str:
    """The SQL condition that the access token's user (`user_row`, a row of `users`) is active
    and its session stands: what `auth.service.authenticate` checks, given the parameters
    holding the token's user id, session id and time of issue."""
    return f"""{user_row}.id = {user} AND {user_row}.status = 'active'
               AND ({user_row}.tokens_valid_after IS NULL
                    OR date_trunc('second', {user_row}.tokens_valid_after) <= {issued_at})
               AND ({session}::uuid IS NULL OR EXISTS (
                 SELECT 1 FROM auth_sessions AS auth
                 WHERE auth.id = {session} AND auth.user_id = {user_row}.id
                   AND auth.revoked_at IS NULL
               ))"""  # noqa: S608


# Each CTE runs whatever the main query reads; all of them see the snapshot taken at the
# statement's start, and the foreign keys are checked at its end. Every insert reads from
# `booking`, which is empty unless the claim took the seats.
STATEMENT = (
    """
WITH allowed AS (
    SELECT EXISTS (
             SELECT 1 FROM events AS e
             WHERE e.id = $4 AND e.version = $5 AND e.status = 'published'
           ) AS event_ok,
           EXISTS (
             SELECT 1 FROM users AS u
             WHERE """  # noqa: S608
    + _caller_live("u", user="$1", session="$2", issued_at="$3")
    + """
           ) AS caller_ok
), claim AS (
    UPDATE ticket_types AS t SET reserved = t.reserved + $8
    FROM allowed
    WHERE t.id = $6 AND t.version = $7 AND t.reserved + $8 <= t.quantity
      AND allowed.event_ok AND allowed.caller_ok
    RETURNING t.id
), booking AS (
    INSERT INTO bookings (id, user_id, event_id, status, currency, total_cents, tax_cents,
                          seats, expires_at, created_at, confirmed_at, cancelled_at, version)
    SELECT $9, $1, $4, $10, $11, $12, $13, $8, $14, $15, $16, NULL, 1 FROM claim
    RETURNING id
), line AS (
    INSERT INTO booking_lines (booking_id, ticket_type_id, quantity, unit_price_cents,
                               net_cents, tax_cents, gross_cents, tax_name, tax_rate_bps,
                               tax_inclusive, attendee_names)
    SELECT id, $6, $8, $17, $18, $19, $20, $21, $22, $23, $24::json FROM booking
), transition AS (
    INSERT INTO booking_transitions (booking_id, from_status, to_status, at, actor_id, reason)
    SELECT id, NULL, $10, $15, $1, NULL FROM booking
), issued AS (
    INSERT INTO tickets (id, booking_id, event_id, ticket_type_id, code, status, created_at,
                         attendee_name, checked_in_at, checked_in_by)
    SELECT t.id, b.id, $4, $6, t.code, 'valid', $15, t.name, NULL, NULL
    FROM booking AS b, unnest($25::uuid[], $26::text[], $27::text[]) AS t(id, code, name)
), announced AS (
    INSERT INTO outbox (event_id, event_type, entity, entity_id, version, payload,
                        occurred_at, actor_id, request_id)
    SELECT o.event_id, o.event_type, 'booking', $9::uuid::text, 1, $30::jsonb, $15, $1, $31
    FROM booking, unnest($28::uuid[], $29::text[]) WITH ORDINALITY AS o(event_id, event_type, n)
    ORDER BY o.n
), answer AS (
    INSERT INTO idempotency_keys (scope_key, request_hash, status_code, response_body,
                                  created_at, expires_at)
    SELECT $32::text, $33, $34, $35::json, $37, $36 FROM booking WHERE $32::text IS NOT NULL
)
SELECT (SELECT count(*) FROM booking) AS booked,
       allowed.event_ok, allowed.caller_ok,
       t.version AS ticket_type_version,
       t.quantity - t.reserved AS seats_left,
       -- what the route would do before it says sold out: give lapsed holds back (as of
       -- the later of the request's clock and the database's, a second's margin), or answer
       -- a key used before
       EXISTS (
         SELECT 1 FROM bookings AS b
         WHERE b.status = 'pending'
           AND b.expires_at <= greatest($15, clock_timestamp()) + interval '1 second'
           AND b.id IN (SELECT l.booking_id FROM booking_lines AS l WHERE l.ticket_type_id = $6)
       ) AS lapsed_holds,
       $32::text IS NOT NULL AND EXISTS (
         SELECT 1 FROM idempotency_keys AS k WHERE k.scope_key = $32::text
       ) AS key_used
FROM allowed, ticket_types AS t
WHERE t.id = $6
"""
)


@dataclass(frozen=True)
class Caller:
    """Who asks, as their access token says; the statement checks the rest."""

    user_id: uuid.UUID
    session_id: uuid.UUID | None
    issued_at: datetime


class OnSale:
    """Events as last read, with their ticket types, for planning bookings without a round
    trip. Never trusted on its own: the statement books only when the versions still match,
    and an entry whose versions moved on is dropped. A burst of buyers of an event not yet
    read waits for one read, not one each."""

    def __init__(self, seconds: float = 60.0, size: int = 1_000) -> None:
        self.seconds = seconds
        self.size = size
        self._events: dict[uuid.UUID, tuple[float, asyncio.Future[Event | None]]] = {}

    async def get(
        self, sessions: async_sessionmaker[AsyncSession], event_id: uuid.UUID
    ) -> Event | None:
        found = self._events.get(event_id)
        if found is not None and found[0] > time.monotonic():
            return await asyncio.shield(found[1])
        if len(self._events) >= self.size:
            self._events.pop(next(iter(self._events)))
        reading: asyncio.Future[Event | None] = asyncio.get_running_loop().create_future()
        self._events[event_id] = (time.monotonic() + self.seconds, reading)
        try:
            async with sessions() as session:
                event = await events_service.find_published(session, event_id=event_id)
        except BaseException:
            self.forget(event_id)
            reading.set_result(None)  # those waiting hand their requests on to the route
            raise
        reading.set_result(event)
        if event is None:
            self.forget(event_id)
        return event

    def forget(self, event_id: uuid.UUID) -> None:
        self._events.pop(event_id, None)


@dataclass(frozen=True)
class Planned:
    booking: Booking
    arguments: tuple[Any, ...]


def prepare(
    *,
    caller: Caller,
    event: Event,
    data: BookingCreate,
    now: datetime,
    hold: timedelta,
) -> Planned | None:
    """The statement's arguments for a booking of one line, or None when this path does not
    take it (several lines); raises what `plan` raises."""
    if len(data.lines) != 1:
        return None
    booking = plan(user_id=caller.user_id, event=event, data=data, now=now, hold=hold)
    ticket_type = next(t for t in event.ticket_types if t.id == data.lines[0].ticket_type_id)
    (line,) = booking.lines
    confirmed = booking.status == BookingStatus.confirmed
    issued = tickets.new_for(booking, at=now) if confirmed else []
    payload = json.dumps(capacity.booking_payload(booking))
    arguments = (
        caller.user_id,
        caller.session_id,
        caller.issued_at,
        event.id,
        event.version,
        ticket_type.id,
        ticket_type.version,
        line.quantity,
        booking.id,
        booking.status.value,
        booking.currency,
        booking.total_cents,
        booking.tax_cents,
        booking.expires_at,
        now,
        booking.confirmed_at,
        line.unit_price_cents,
        line.net_cents,
        line.tax_cents,
        line.gross_cents,
        line.tax_name,
        line.tax_rate_bps,
        line.tax_inclusive,
        json.dumps(line.attendee_names),
        [t.id for t in issued],
        [t.code for t in issued],
        [t.attendee_name for t in issued],
        [uuid.uuid4(), uuid.uuid4()] if confirmed else [uuid.uuid4()],
        ["booking.created", "booking.confirmed"] if confirmed else ["booking.created"],
        payload,
        current_request_id(),
    )
    return Planned(booking, arguments)


class Outcome(enum.Enum):
    booked = "booked"
    sold_out = "sold_out"  # as the route would say: no lapsed holds to give back, no replay
    changed = "changed"  # the event or its ticket type is not as planned: read them again
    undecided = "undecided"  # the route decides


async def book(
    connection: asyncpg.Connection[Any], planned: Planned, answer: StoredAnswer | None
) -> Outcome:
    """Run the statement, with the answer to keep for the request's `Idempotency-Key`
    (raises when the key was used before and the booking got as far as storing it)."""
    stored = (
        (
            answer.scope_key,
            answer.request_hash,
            answer.status_code,
            json.dumps(answer.body),
            answer.expires_at,
            answer.created_at,
        )
        if answer is not None
        else (None,) * 6
    )
    row = await connection.fetchrow(STATEMENT, *planned.arguments, *stored)
    if row is None:  # no such ticket type any more
        return Outcome.changed
    if row["booked"] == 1:
        return Outcome.booked
    if not row["event_ok"] or row["ticket_type_version"] != planned.arguments[6]:
        return Outcome.changed
    if (
        row["caller_ok"]
        and row["seats_left"] < planned.arguments[7]
        and not row["lapsed_holds"]
        and not row["key_used"]
    ):
        return Outcome.sold_out
    return Outcome.undecided


async def warm(connection: asyncpg.Connection[Any]) -> None:
    """Run the statement once for a ticket type that does not exist (it books nothing), so a
    new connection has it prepared, planned and its tables' metadata read before a buyer
    waits on it."""
    nobody = uuid.uuid4()
    now = utcnow()
    await connection.fetchrow(
        STATEMENT,
        *(nobody, None, now, nobody, 0, nobody, 0, 1, nobody, "pending", "EUR", 0, 0, None, now),
        *(None, 0, 0, 0, 0, None, 0, True, "null", [], [], [], [], [], "{}", None),
        *(None,) * 6,
    )


# The door: a ticket admitted in one statement. It reads the ticket, its buyer's name and
# whether the caller may work this event's door (what `events.service.get_staffed_or_raise`
# and `auth.service.authenticate` check); only for a valid ticket of this event not yet in, it
# locks the ticket's booking as `tickets.check_in` does (a cancellation waits, or is waited
# for), admits the ticket, and records the scan and the outbox row, whose payload is the
# admitted row as `outbox.row_image` renders it (times as Python's `isoformat`). Anything else
# (a repeat scan, a void or unknown ticket, a scan id sent before) is the route's to decide.
DOOR = (
    """
WITH found AS (
    SELECT t.id, t.booking_id, t.ticket_type_id, t.event_id, t.status, t.checked_in_at,
           (SELECT coalesce(nullif(u.display_name, ''), u.full_name)
            FROM users AS u WHERE u.id = b.user_id) AS buyer_name,
           (SELECT tt.name FROM ticket_types AS tt WHERE tt.id = t.ticket_type_id)
             AS ticket_type_name,
           EXISTS (
             SELECT 1 FROM users AS s JOIN events AS e ON e.id = $5
             WHERE """  # noqa: S608
    + _caller_live("s", user="$2", session="$3", issued_at="$4")
    + """
               AND (s.role = 'admin' OR e.organizer_id = s.id OR (
                 s.email_verified_at IS NOT NULL AND EXISTS (
                   SELECT 1 FROM staff_grants AS g
                   WHERE g.email = lower(trim(s.email)) AND g.revoked_at IS NULL
                     AND (g.event_id = e.id
                          OR (g.event_id IS NULL AND g.organizer_id = e.organizer_id))
                 )
               ))
           ) AS allowed
    FROM tickets AS t JOIN bookings AS b ON b.id = t.booking_id
    WHERE t.code = $1
), locked AS (
    SELECT b.id FROM bookings AS b JOIN found AS f ON f.booking_id = b.id
    WHERE f.allowed AND f.event_id = $5 AND f.status = 'valid' AND f.checked_in_at IS NULL
    FOR NO KEY UPDATE OF b
), admitted AS (
    UPDATE tickets AS t SET checked_in_at = $6, checked_in_by = $2
    FROM locked
    WHERE t.booking_id = locked.id AND t.code = $1
      AND t.checked_in_at IS NULL AND t.status = 'valid'
      AND EXISTS (SELECT 1 FROM events AS e WHERE e.id = $5 AND e.version = $7)
    RETURNING t.id, t.booking_id, t.event_id, t.ticket_type_id, t.code, t.status,
              t.created_at, t.attendee_name
), scanned AS (
    INSERT INTO check_in_scans (id, event_id, ticket_id, staff_id, device, offline, scanned_at,
                                decided_at, outcome, code)
    SELECT $8, $5, a.id, $2, $9, false, $6, $10, 'admitted', NULL FROM admitted AS a
), announced AS (
    INSERT INTO outbox (event_id, event_type, entity, entity_id, version, payload,
                        occurred_at, actor_id, request_id)
    SELECT $11, 'ticket.checked_in', 'ticket', a.id::text, 1,
           jsonb_build_object(
             'id', a.id::text, 'booking_id', a.booking_id::text,
             'event_id', a.event_id::text, 'ticket_type_id', a.ticket_type_id::text,
             'code', a.code, 'status', a.status,
             'created_at', to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
               || CASE WHEN date_part('microseconds', a.created_at)::bigint % 1000000 = 0
                       THEN '' ELSE to_char(a.created_at AT TIME ZONE 'UTC', '.US') END
               || '+00:00',
             'attendee_name', a.attendee_name, 'checked_in_at', $12::text,
             'checked_in_by', $2::uuid::text
           ),
           $10, $2, $13
    FROM admitted AS a
)
SELECT f.*, a.attendee_name AS admitted_name, a.id IS NOT NULL AS admitted
FROM found AS f LEFT JOIN admitted AS a ON a.id = f.id
"""
)


@dataclass(frozen=True)
class Admission:
    """A ticket admitted at the door by the express path, with what the door shows."""

    ticket_id: uuid.UUID
    booking_id: uuid.UUID
    ticket_type_id: uuid.UUID
    holder_name: str
    ticket_type_name: str


async def admit(
    connection: asyncpg.Connection[Any],
    *,
    caller: Caller,
    event: Event,
    code: str,
    scan_id: uuid.UUID,
    device: str | None,
    at: datetime,
    now: datetime,
) -> Admission | bool | None:
    """Admit the ticket `code` names at `event`'s door, scanned at `at`, if it is a valid
    ticket of this event not yet in and the caller works this door. Else (admitted nothing:
    the route decides) None when the ticket or the caller is not for this path, False when the
    ticket or the event changed since they were read. Raises when the scan id was used
    before."""
    row = await connection.fetchrow(
        DOOR,
        code,
        caller.user_id,
        caller.session_id,
        caller.issued_at,
        event.id,
        at,
        event.version,
        scan_id,
        device,
        now,
        uuid.uuid4(),
        at.isoformat(),  # as `outbox.row_image` renders the time the route admits it at
        current_request_id(),
    )
    if row is None:
        return None
    if not row["admitted"]:
        usable = (
            row["allowed"]
            and row["event_id"] == event.id
            and row["status"] == TicketStatus.valid.value
            and row["checked_in_at"] is None
        )
        return False if usable else None
    return Admission(
        row["id"],
        row["booking_id"],
        row["ticket_type_id"],
        row["admitted_name"] or row["buyer_name"] or "",
        row["ticket_type_name"] or "",
    )
