"""Admission, on both databases: a process works on at most `admission_max_in_flight` requests
at once; the next wait in arrival order, and one that waited `admission_max_wait_ms` is told at
once to come back (503, Retry-After, its place in line), never left to time out. A returning
client who shows its place goes ahead of those who arrived after it. Requests are held in
flight by a real lock: another connection holds the ticket type's row (PostgreSQL) or the
write lock (SQLite) that a booking needs."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from api.admission import Gate
from api.events.models import TicketType
from api.users.models import Role
from tests.api.factories import Api
from tests.api.test_events import published_event


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"admission_max_in_flight": 1, "admission_max_wait_ms": 200}


@asynccontextmanager
async def _locked(api: Api, ticket_type_id: str) -> AsyncIterator[None]:
    """The ticket type's row locked by another connection until the block ends."""
    async with api.app.state.engine.connect() as connection:
        await connection.execute(
            update(TicketType)
            .where(TicketType.id == uuid.UUID(ticket_type_id))
            .values(reserved=TicketType.reserved)
        )
        yield
        await connection.rollback()


async def _until(condition: Callable[[], bool]) -> None:
    """Let the app run until `condition` holds (bounded: a broken gate fails, never hangs)."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.005)


async def _booking_in_flight(api: Api) -> tuple[Any, Callable[[], Awaitable[httpx.Response]]]:
    owner = await api.signed_in(Role.organizer)
    buyer = await api.signed_in()
    event = await published_event(api, owner)
    ticket_type = event["ticket_types"][0]["id"]
    body = {"event_id": event["id"], "lines": [{"ticket_type_id": ticket_type, "quantity": 1}]}

    async def book() -> httpx.Response:
        return await api.client.post("/bookings", headers=buyer.headers, json=body)

    return ticket_type, book


async def test_a_request_beyond_the_places_is_told_at_once_to_come_back(api: Api) -> None:
    gate: Gate = api.app.state.admission
    ticket_type, book = await _booking_in_flight(api)
    async with _locked(api, ticket_type):
        held = asyncio.create_task(book())
        await _until(lambda: gate.in_flight == 1)

        started = time.monotonic()
        busy = await api.client.get("/events")
        waited = time.monotonic() - started
        assert busy.status_code == 503
        assert busy.headers["content-type"] == "application/problem+json"
        assert busy.json()["code"] == "service.busy"
        assert int(busy.headers["retry-after"]) >= 1
        assert busy.headers["queue-place"]
        assert waited < 5  # told after its 200 ms in line, not left to time out
        page = await api.client.get("/", headers={"Accept": "text/html"})
        assert page.status_code == 503
        assert 'http-equiv="refresh"' in page.text
        assert "queue_place=" in page.headers["set-cookie"]
        # Health, readiness and metrics are never held back.
        assert (await api.client.get("/health")).status_code == 200
        assert gate.turned_away == 2
    booked = await held
    assert booked.status_code == 201, booked.text
    assert gate.in_flight == 0
    assert (await api.client.get("/events")).status_code == 200


@pytest.mark.parametrize(
    "settings_overrides",
    [{"admission_max_in_flight": 1, "admission_max_wait_ms": 10_000}],
)
async def test_the_line_keeps_arrival_order_and_a_returning_client_its_place(api: Api) -> None:
    gate: Gate = api.app.state.admission
    ticket_type, book = await _booking_in_flight(api)
    served: list[str] = []

    async def ask(name: str, **headers: str) -> None:
        answer = await api.client.get("/events", headers=headers)
        assert answer.status_code == 200, answer.text
        served.append(name)

    came_back = gate.sign(time.time() - 5)  # as a 503 five seconds ago handed it out
    forged = f"{time.time() - 30:.6f}.{'0' * 32}"
    async with _locked(api, ticket_type):
        held = asyncio.create_task(book())
        await _until(lambda: gate.in_flight == 1)
        line = []
        for name, headers in (
            ("first", {}),
            ("second", {}),
            ("returning", {"Queue-Place": came_back}),
            ("forged", {"Queue-Place": forged}),
        ):
            line.append(asyncio.create_task(ask(name, **headers)))
            await _until(lambda n=len(line): gate.waiting == n)
    assert (await held).status_code == 201
    await asyncio.gather(*line)
    assert served == ["returning", "first", "second", "forged"]
    assert gate.in_flight == 0
    assert gate.waiting == 0


async def test_a_place_in_line_that_is_no_signature_of_ours_is_ignored(api: Api) -> None:
    """Whatever a client shows as its place (any characters) is checked, never an error."""
    for shown in ("1.\u00e9t\u00e9".encode("latin-1"), b"12.abc", b"nonsense"):
        answer = await api.client.get("/events", headers={"Queue-Place": shown})
        assert answer.status_code == 200, answer.text
    assert Gate(max_in_flight=1, max_wait=0.1, key=b"k" * 32).place("1.\u20ac") is None
