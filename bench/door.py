"""The door: first scans of distinct tickets, as door staff's phones send them.

One event whose check-in is open, with enough tickets that no run scans one twice; a member of
door staff (a grant, not the organizer) signed in; wrk drives `POST /events/{id}/check-ins`,
each request a different ticket's QR payload with its own scan id (the tickets in a shuffled
order: a crowd at sixteen doors, not one order's four tickets at four doors at once):

- 16 doors scanning as fast as the server answers (closed loop: the server's capacity);
- 16 doors each scanning the next person 100 ms after the answer (about ten scans a second a
  door, the rate the issue asks of one phone; latency leaves the wait out);
- one phone as fast as it can;
- the floor, in the same run: bare FastAPI doing the door's writes (the ticket admitted, the
  scan kept, the outbox row) with none of our session check, rules or names
  (`bench/baseline.py`), at 16 doors; and on PostgreSQL the same writes from a bare ASGI app in
  one round trip (`raw_app`): what the machine can do at all.

Afterwards the database must hold exactly one check-in per admitted ticket and one decided scan
per request answered.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import secrets
import statistics
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select

from api.bookings import tickets
from api.bookings.models import Booking, BookingLine, BookingStatus, CheckInScan, Ticket
from api.config import Settings
from api.db import make_engine, make_sessionmaker, utcnow
from api.events import service as events
from api.events.schemas import EventCreate, TicketTypeFields, Venue
from api.migrate import upgrade
from api.users import service as users
from bench.harness import scratch_database, served, summarise, wrk_load
from demo.seed import DEMO_PASSWORD, seed_users

STAFF = "attendee@tessera.example.com"
PER_BOOKING = 4  # seats of an order, as people book them


async def _prepare(url: str, settings: Settings, count: int) -> tuple[str, str, list[str]]:
    """The event, door staff granted it, and `count` tickets; the staff member's id and the
    tickets' QR payloads, shuffled."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    await seed_users(sessions, settings, count=0)
    async with sessions() as session:
        organizer = await users.get_by_email(session, email="organizer@tessera.example.com")
        holder = await users.get_by_email(session, email="finance@tessera.example.com")
        assert organizer is not None
        assert holder is not None
        start = utcnow() + timedelta(minutes=30)
        event = await events.create(
            session,
            organizer=organizer,
            data=EventCreate(
                title="The door",
                venue=Venue(name="Hall", city="Berlin", country="DE"),
                starts_at=start,
                ends_at=start + timedelta(hours=4),
                timezone="Europe/Berlin",
                capacity=count,
                currency="EUR",
            ),
        )
        kind = await events.add_ticket_type(
            session,
            event=event,
            data=TicketTypeFields(name="Standing", price_cents=0, quantity=count),
        )
        await events.publish(session, event=event)
        await events.grant_staff(session, actor=organizer, email=STAFF, event_id=event.id)
        bookings: list[dict[str, Any]] = []
        lines: list[dict[str, Any]] = []
        issued: list[dict[str, Any]] = []
        for first in range(0, count, PER_BOOKING):
            seats = min(PER_BOOKING, count - first)
            booking_id = uuid.uuid4()
            bookings.append(
                {
                    "id": booking_id,
                    "user_id": holder.id,
                    "event_id": event.id,
                    "status": BookingStatus.confirmed,
                    "currency": "EUR",
                    "total_cents": 0,
                    "seats": seats,
                    "confirmed_at": utcnow(),
                }
            )
            lines.append(
                {
                    "booking_id": booking_id,
                    "ticket_type_id": kind.id,
                    "quantity": seats,
                    "unit_price_cents": 0,
                }
            )
            issued += [
                {
                    "id": uuid.uuid4(),
                    "booking_id": booking_id,
                    "event_id": event.id,
                    "ticket_type_id": kind.id,
                    "code": secrets.token_urlsafe(16),
                }
                for _ in range(seats)
            ]
        for rows, model in ((bookings, Booking), (lines, BookingLine), (issued, Ticket)):
            for at in range(0, len(rows), 5_000):
                await session.execute(insert(model), rows[at : at + 5_000])
        payloads = [tickets.qr_payload(settings, Ticket(code=row["code"])) for row in issued]
        staff = await users.get_by_email(session, email=STAFF)
        assert staff is not None
        staff_id = str(staff.id)
        await session.commit()
        event_id = str(event.id)
    await engine.dispose()
    random.Random(7).shuffle(payloads)  # noqa: S311 - a repeatable order, not a secret
    return event_id, staff_id, payloads


async def _settled(url: str, event_id: str) -> tuple[int, int]:
    """(tickets checked in, scans decided) of the event."""
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            checked = await session.scalar(
                select(func.count(Ticket.id)).where(
                    Ticket.event_id == uuid.UUID(event_id), Ticket.checked_in_at.is_not(None)
                )
            )
            scans = await session.scalar(
                select(func.count(CheckInScan.id)).where(
                    CheckInScan.event_id == uuid.UUID(event_id)
                )
            )
    finally:
        await engine.dispose()
    return int(checked or 0), int(scans or 0)


def run(*, db: str, runs: int, seconds: int, concurrency: int) -> dict[str, Any]:
    """`concurrency` is the crowd of doors (16 by the target); one phone is measured too."""
    doors = concurrency if concurrency != 32 else 16  # the command's default is the pages' 32
    # Tickets a phase may scan (no run scans one twice): what each server could do at most.
    per_second = {"ours": 3_000, "floor": 1_500, "raw": 4_000}
    phases = {  # name: (server, connections, pace)
        f"{doors} doors": ("ours", doors, None),
        f"{doors} doors, next scan 100 ms after the answer": ("ours", doors, 100),
        "one phone": ("ours", 1, None),
        f"floor: bare FastAPI, the door's writes, {doors} doors": ("floor", doors, None),
    }
    if db == "postgres":
        phases[f"floor: bare ASGI, one round trip, {doors} doors"] = ("raw", doors, None)
    with tempfile.TemporaryDirectory() as tmp:
        url, cleanup = scratch_database(db, Path(tmp))
        try:
            upgrade(url)
            settings = Settings(database_url=url)
            event_id, staff_id, payloads = asyncio.run(
                _prepare(
                    url,
                    settings,
                    runs * seconds * sum(per_second[server] for server, _, _ in phases.values()),
                )
            )
            env = {"TESSERA_DATABASE_URL": url, "TESSERA_LOG_LEVEL": "WARNING"}
            path = f"/events/{event_id}/check-ins"
            loads: dict[str, list[Any]] = {name: [] for name in phases}
            with (
                served("api.main:app", env) as ours,
                served("bench.baseline:app", env) as floor,
                served(
                    "bench.baseline:raw_app" if db == "postgres" else "bench.baseline:app", env
                ) as raw,
            ):
                login = httpx.post(
                    f"{ours}/auth/login", json={"email": STAFF, "password": DEMO_PASSWORD}
                )
                headers = {
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {login.json()['access_token']}",
                }
                unused = iter(payloads)
                bases = {"ours": ours, "floor": floor, "raw": raw}
                for _ in range(runs):
                    for name, (server, connections, pace) in phases.items():
                        bodies = [
                            json.dumps(
                                {
                                    "payload": p,
                                    "scan_id": str(uuid.uuid4()),
                                    "device": "Door",
                                }
                                | ({"staff_id": staff_id} if server != "ours" else {})
                            )
                            for p in itertools.islice(unused, per_second[server] * seconds)
                        ]
                        loads[name].append(
                            wrk_load(
                                bases[server],
                                path,
                                method="POST",
                                headers=headers,
                                bodies=bodies,
                                seconds=seconds,
                                connections=connections,
                                pace_ms=pace,
                            )
                        )
            checked, scans = asyncio.run(_settled(url, event_id))
        finally:
            if cleanup is not None:
                asyncio.run(cleanup())
    results = [summarise(name, found).as_dict() for name, found in loads.items()]
    answered = sum(r.requests for found in loads.values() for r in found)
    crowd = loads[f"{doors} doors"]
    floor_rates = loads[f"floor: bare FastAPI, the door's writes, {doors} doors"]
    return {
        "bench": "door",
        "db": db,
        "runs": runs,
        "results": results,
        "crowd_vs_floor": round(
            statistics.median(r.rate for r in crowd)
            / statistics.median(r.rate for r in floor_rates),
            2,
        ),
        "tickets_checked_in": checked,
        "scans_decided": scans,
        "answered": answered,
        # Every answered first scan admitted its ticket once, and was kept once.
        "correct": checked == scans and all(r["statuses"].get("0", 0) == 0 for r in results),
    }
