"""The door: first scans of distinct tickets, as door staff's phones send them.

One event whose check-in is open, with enough tickets that no run scans one twice; a member of
door staff (a grant, not the organizer) signed in; wrk drives `POST /events/{id}/check-ins`,
each request a different ticket's QR payload with its own scan id, at 16 connections (a crowd
of doors) and at 1 (one phone, which must manage 10 scans a second). Afterwards the database
must hold exactly one check-in per admitted ticket and one decided scan per request answered.
"""

from __future__ import annotations

import asyncio
import json
import secrets
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


async def _prepare(url: str, settings: Settings, count: int) -> tuple[str, list[str]]:
    """The event, door staff granted it, and `count` tickets; their QR payloads."""
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
        await session.commit()
        event_id = str(event.id)
    await engine.dispose()
    return event_id, payloads


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
    per_run = 2_500 * seconds
    with tempfile.TemporaryDirectory() as tmp:
        url, cleanup = scratch_database(db, Path(tmp))
        try:
            upgrade(url)
            settings = Settings(database_url=url)
            event_id, payloads = asyncio.run(_prepare(url, settings, per_run * runs * 2))
            env = {"TESSERA_DATABASE_URL": url, "TESSERA_LOG_LEVEL": "WARNING"}
            path = f"/events/{event_id}/check-ins"
            loads: dict[str, list[Any]] = {f"{doors} doors": [], "one phone": []}
            with served("api.main:app", env) as base:
                login = httpx.post(
                    f"{base}/auth/login", json={"email": STAFF, "password": DEMO_PASSWORD}
                )
                headers = {
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {login.json()['access_token']}",
                }
                batches = iter(payloads[i : i + per_run] for i in range(0, len(payloads), per_run))
                for _ in range(runs):
                    for name, connections in ((f"{doors} doors", doors), ("one phone", 1)):
                        bodies = [
                            json.dumps(
                                {"payload": p, "scan_id": str(uuid.uuid4()), "device": "Door"}
                            )
                            for p in next(batches)
                        ]
                        loads[name].append(
                            wrk_load(
                                base,
                                path,
                                method="POST",
                                headers=headers,
                                bodies=bodies,
                                seconds=seconds,
                                connections=connections,
                            )
                        )
            checked, scans = asyncio.run(_settled(url, event_id))
        finally:
            if cleanup is not None:
                asyncio.run(cleanup())
    results = [summarise(name, found).as_dict() for name, found in loads.items()]
    answered = sum(r.requests for found in loads.values() for r in found)
    return {
        "bench": "door",
        "db": db,
        "runs": runs,
        "results": results,
        "tickets_checked_in": checked,
        "scans_decided": scans,
        "answered": answered,
        # Every answered first scan admitted its ticket once, and was kept once.
        "correct": checked == scans and all(r["statuses"].get("0", 0) == 0 for r in results),
    }
