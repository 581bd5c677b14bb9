"""A flash sale: many distinct signed-in buyers, each sending `POST /bookings` with an
`Idempotency-Key` of its own (one free seat each), checked against the database afterwards.

Phases per run, each on a fresh event of one ticket type, two server processes on the two cores
with wrk beside them:
- 50 buyers and 200 buyers (one connection each), capacity far above what a run sells: every
  request is a real sale; confirmed bookings a second and latency percentiles;
- one buyer, one token, no idempotency key: the load of earlier entries in docs/benchmarks.md;
- sell-out: 500 seats, 200 buyers: never oversold, the seat counter equal to the bookings;
- overload: 1,000 buyers at once, ten times what the server serves at once: the answers by
  status (never a 500 or a timeout; 429 and 503 must say Retry-After) and the longest wait.

With `baseline` (a commit), the same phases run against that commit's app, served beside on
its own database in the same invocation, and the report gives this commit's ratio to it: the
machines here differ by more than two times between sessions, so only a ratio measured in one
run says whether the booking path got faster.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from api.auth import service as auth
from api.bookings.models import Booking
from api.config import Settings
from api.db import make_engine, make_sessionmaker, utcnow
from api.events import service as events
from api.events.models import TicketType
from api.events.schemas import EventCreate, TicketTypeFields, Venue
from api.migrate import upgrade
from api.users import Role
from api.users import service as users
from bench.harness import LoadResult, other_commit, scratch_database, served, wrk_load
from demo.seed import seed_users

BUYERS = 1_000  # the overload phase's crowd; the other phases use the first of them
PHASES = {  # name: (connections, buyers, seats, idempotency keys)
    "50 buyers": (50, 50, 1_000_000, True),
    "200 buyers": (200, 200, 1_000_000, True),
    "one buyer, no key, 32 connections": (32, 1, 1_000_000, False),
    "sell-out: 500 seats, 200 buyers": (200, 200, 500, True),
    "overload: 1,000 buyers": (BUYERS, BUYERS, 1_000_000, True),
}


async def _buyers(url: str, count: int) -> list[str]:
    """`count` signed-in attendees (demo people): their access tokens."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    settings = Settings(database_url=url)
    await seed_users(sessions, settings, count=count * 2)
    tokens = []
    async with sessions() as session:
        people, _ = await users.list_users(session, page=1, page_size=count, role=Role.attendee)
        assert len(people) == count, f"only {len(people)} attendees"
        for person in people:
            pair = await auth.open_session(
                session, settings, user=person, user_agent="bench", ip="127.0.0.1"
            )
            tokens.append(pair.access_token)
        await session.commit()
    await engine.dispose()
    return tokens


async def _event(url: str, capacity: int) -> tuple[str, str]:
    engine = make_engine(url)
    async with make_sessionmaker(engine)() as session:
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


async def _sold(url: str, ticket_id: str) -> tuple[int, int, int, int]:
    """(bookings, seats in them, the reserved counter, capacity), read in one statement once
    requests still in flight when wrk stopped have finished (two equal reads in a row)."""
    engine = make_engine(url)
    mine = Booking.event_id == TicketType.event_id
    count = select(func.count(Booking.id)).where(mine).scalar_subquery()
    seats = select(func.coalesce(func.sum(Booking.seats), 0)).where(mine).scalar_subquery()
    query = select(count, seats, TicketType.reserved, TicketType.quantity).where(
        TicketType.id == uuid.UUID(ticket_id)
    )
    previous: tuple[int, int, int, int] | None = None
    try:
        for _ in range(100):
            async with make_sessionmaker(engine)() as session:
                row = (await session.execute(query)).one()
            current = (int(row[0]), int(row[1]), int(row[2]), int(row[3]))
            if current == previous:
                return current
            previous = current
            await asyncio.sleep(0.2)
    finally:
        await engine.dispose()
    raise RuntimeError("the sale did not settle")


def _phase(
    base: str,
    url: str,
    tokens: list[str],
    *,
    connections: int,
    buyers: int,
    capacity: int,
    keys: bool,
    seconds: int,
) -> dict[str, Any]:
    event_id, ticket_id = asyncio.run(_event(url, capacity))
    body = json.dumps(
        {"event_id": event_id, "lines": [{"ticket_type_id": ticket_id, "quantity": 1}]}
    )
    # Enough distinct requests that none repeats in a run (a repeat would be a replay).
    rows = [
        [f"Bearer {tokens[i % buyers]}", uuid.uuid4().hex, body] for i in range(1_500 * seconds)
    ]
    result: LoadResult = wrk_load(
        base,
        "/bookings",
        method="POST",
        headers={"Content-Type": "application/json"},
        requests=(["Authorization", "Idempotency-Key"], rows)
        if keys
        else (["Authorization"], [[row[0], row[2]] for row in rows[:1]]),
        seconds=seconds,
        connections=connections,
        count_statuses=True,
    )
    bookings, seats, reserved, quantity = asyncio.run(_sold(url, ticket_id))
    p50, p95, p99 = result.latencies_ms
    answered = result.statuses.get(201, 0)  # what buyers were told while wrk ran
    return {
        "attempts": result.requests,
        "confirmed": answered,
        "bookings": bookings,  # and those still in flight when wrk stopped
        "oversold": max(0, seats - quantity),
        "counter_matches": seats == reserved,
        "confirmed_per_s": round(answered / result.seconds, 1),
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
        "max_ms": result.max_ms,
        "statuses": {str(k): v for k, v in sorted(result.statuses.items()) if v},
        "without_retry_after": result.without_retry_after,
    }


@contextmanager
def _system(db: str, tmp: Path, tree: Path | None) -> Iterator[tuple[str, str, list[str]]]:
    """A database with buyers and the app served on it (this commit's, or `tree`'s)."""
    url, cleanup = scratch_database(db, tmp)
    try:
        upgrade(url)
        tokens = asyncio.run(_buyers(url, BUYERS))
        env = {
            "TESSERA_DATABASE_URL": url,
            "TESSERA_LOG_LEVEL": "WARNING",
        }
        with served("api.main:app", env, tree=tree) as base:
            yield base, url, tokens
    finally:
        if cleanup is not None:
            asyncio.run(cleanup())


def _summary(found: list[dict[str, Any]]) -> dict[str, Any]:
    rates = [r["confirmed_per_s"] for r in found]
    median = sorted(found, key=lambda r: r["confirmed_per_s"])[len(found) // 2]
    statuses: dict[str, int] = {}
    for r in found:
        for code, count in r["statuses"].items():
            statuses[code] = statuses.get(code, 0) + count
    return {
        "confirmed_per_s": statistics.median(rates),
        "confirmed_per_s_min": min(rates),
        "confirmed_per_s_max": max(rates),
        "p50_ms": median["p50_ms"],
        "p95_ms": median["p95_ms"],
        "p99_ms": median["p99_ms"],
        "max_ms": max(r["max_ms"] or 0 for r in found),
        "statuses": statuses,
        "oversold": max(r["oversold"] for r in found),
        "counters_match": all(r["counter_matches"] for r in found),
        "without_retry_after": sum(r["without_retry_after"] for r in found),
    }


def run(
    *, db: str, runs: int, seconds: int, concurrency: int, baseline: str | None = None
) -> dict[str, Any]:
    """`concurrency` is unused: the phases name their buyers."""
    del concurrency
    found: dict[str, dict[str, list[dict[str, Any]]]] = {"this commit": {}}
    if baseline:
        found[f"baseline {baseline}"] = {}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        systems = {"this commit": stack.enter_context(_system(db, Path(tmp) / "a", None))}
        if baseline:
            tree = stack.enter_context(other_commit(baseline))
            systems[f"baseline {baseline}"] = stack.enter_context(
                _system(db, Path(tmp) / "b", tree)
            )
        for _ in range(runs):
            for name, (connections, buyers, capacity, keys) in PHASES.items():
                for system, (base, url, tokens) in systems.items():
                    found[system].setdefault(name, []).append(
                        _phase(
                            base,
                            url,
                            tokens,
                            connections=connections,
                            buyers=buyers,
                            capacity=capacity,
                            keys=keys,
                            seconds=seconds,
                        )
                    )
    report: dict[str, Any] = {"bench": "flash-sale", "db": db, "runs": runs}
    for system, phases in found.items():
        report[system] = {name: _summary(results) for name, results in phases.items()}
    if baseline:
        ours, theirs = report["this commit"], report[f"baseline {baseline}"]
        report["ratio_to_baseline"] = {
            name: round(
                ours[name]["confirmed_per_s"] / max(theirs[name]["confirmed_per_s"], 0.1), 2
            )
            for name in PHASES
        }
    every = [s for phases in found.values() for results in phases.values() for s in results]
    report["oversold"] = max(r["oversold"] for r in every)
    report["counters_match"] = all(r["counter_matches"] for r in every)
    return report
