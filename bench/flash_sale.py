"""A flash sale: a burst of concurrent buyers on one event, checked against the database.

Two phases per run, both against `uvicorn api.main:app --workers 2` on the chosen database:
- throughput: capacity far above what a run can sell, so every request is a real sale;
- sell-out: a small capacity and many more buyers than seats, to show none is oversold.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from api.bookings.models import Booking
from api.db import make_engine, make_sessionmaker, utcnow
from api.events import service as events
from api.events.models import TicketType
from api.events.schemas import EventCreate, TicketTypeFields, Venue
from api.migrate import upgrade
from bench.harness import scratch_database, served, wrk_load
from demo.seed import DEMO_PASSWORD, seed_users


async def _event(url: str, capacity: int) -> tuple[str, str]:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    async with sessions() as session:
        from api.users import service as users

        organizer = await users.get_by_email(session, email="organizer@tessera.example.com")
        assert organizer is not None
        start = utcnow() + timedelta(days=7)
        event = await events.create(
            session,
            organizer=organizer,
            data=EventCreate(
                title="Flash sale",
                venue=Venue(name="Arena", city="Berlin", country="DE"),
                starts_at=start,
                ends_at=start + timedelta(hours=3),
                timezone="Europe/Berlin",
                capacity=capacity,
                currency="EUR",
            ),
        )
        ticket = await events.add_ticket_type(
            session,
            event=event,
            data=TicketTypeFields(name="Free", price_cents=0, quantity=capacity, max_per_order=10),
        )
        await events.publish(session, event=event)
        await session.commit()
        ids = (str(event.id), str(ticket.id))
    await engine.dispose()
    return ids


async def _sold(url: str, ticket_id: str) -> tuple[int, int, int]:
    """(seats in bookings, reserved counter, capacity), read in one statement (one snapshot)
    once requests still in flight when wrk stopped have finished (two equal reads in a row)."""
    engine = make_engine(url)
    seats = (
        select(func.coalesce(func.sum(Booking.seats), 0))
        .where(Booking.event_id == TicketType.event_id)
        .scalar_subquery()
    )
    query = select(seats, TicketType.reserved, TicketType.quantity).where(
        TicketType.id == uuid.UUID(ticket_id)
    )
    previous: tuple[int, int, int] | None = None
    try:
        for _ in range(100):
            async with make_sessionmaker(engine)() as session:
                row = (await session.execute(query)).one()
            current = (int(row[0]), int(row[1]), int(row[2]))
            if current == previous:
                return current
            previous = current
            await asyncio.sleep(0.2)
    finally:
        await engine.dispose()
    raise RuntimeError("the sale did not settle")


def _phase(
    base: str, token: str, url: str, *, capacity: int, seconds: int, connections: int
) -> dict[str, Any]:
    event_id, ticket_id = asyncio.run(_event(url, capacity))
    body = json.dumps(
        {"event_id": event_id, "lines": [{"ticket_type_id": ticket_id, "quantity": 1}]}
    )
    result = wrk_load(
        base,
        "/bookings",
        method="POST",
        body=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        seconds=seconds,
        connections=connections,
    )
    seats, reserved, quantity = asyncio.run(_sold(url, ticket_id))
    p50, p95, p99 = result.latencies_ms
    return {
        "attempts": result.requests,
        "confirmed": seats,
        "oversold": max(0, seats - quantity),
        "counter_matches": seats == reserved,
        "confirmed_per_s": round(seats / result.seconds, 1),
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
    }


def run(*, db: str, runs: int, seconds: int, concurrency: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url, cleanup = scratch_database(db, Path(tmp))
        try:
            upgrade(url)

            async def prepare() -> None:
                from api.config import Settings

                engine = make_engine(url)
                await seed_users(make_sessionmaker(engine), Settings(database_url=url), count=0)
                await engine.dispose()

            asyncio.run(prepare())
            env = {"TESSERA_DATABASE_URL": url, "TESSERA_LOG_LEVEL": "WARNING"}
            throughput, sellout = [], []
            with served("api.main:app", env) as base:
                login = httpx.post(
                    f"{base}/auth/login",
                    json={"email": "attendee@tessera.example.com", "password": DEMO_PASSWORD},
                )
                token = login.json()["access_token"]
                for _ in range(runs):
                    throughput.append(
                        _phase(
                            base,
                            token,
                            url,
                            capacity=1_000_000,
                            seconds=seconds,
                            connections=concurrency,
                        )
                    )
                    sellout.append(
                        _phase(base, token, url, capacity=500, seconds=3, connections=concurrency)
                    )
        finally:
            if cleanup is not None:
                asyncio.run(cleanup())
    rates = [r["confirmed_per_s"] for r in throughput]
    median = sorted(throughput, key=lambda r: r["confirmed_per_s"])[len(throughput) // 2]
    return {
        "bench": "flash-sale",
        "db": db,
        "runs": runs,
        "concurrency": concurrency,
        "attempts": median["attempts"],
        "confirmed": median["confirmed"],
        "oversold": max(r["oversold"] for r in throughput + sellout),
        "confirmed_per_s": statistics.median(rates),
        "confirmed_per_s_min": min(rates),
        "confirmed_per_s_max": max(rates),
        "p50_ms": median["p50_ms"],
        "p95_ms": median["p95_ms"],
        "p99_ms": median["p99_ms"],
        "sellout_runs": [
            {k: r[k] for k in ("attempts", "confirmed", "oversold", "counter_matches")}
            for r in sellout
        ],
        "counters_match": all(r["counter_matches"] for r in throughput + sellout),
    }
