"""The event lifecycle as a state machine: whatever the order of operations, the service
allows exactly the transitions of the model below and records each one in the outbox."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, func, select

from api.db import make_engine, make_sessionmaker, utcnow
from api.errors import AppError
from api.events import service
from api.events.models import Event
from api.events.schemas import EventCreate, EventUpdate, TicketTypeFields, Venue
from api.models import metadata
from api.outbox import OutboxEvent
from api.users import service as users
from api.users.models import Role

T = TypeVar("T")
ALLOWED = {
    "publish": {"draft"},
    "cancel": {"draft", "published"},
    "delete": {"draft"},
    "add_ticket_type": {"draft", "published"},
    "rename": {"draft", "published"},
}


class Lifecycle(RuleBasedStateMachine):
    url = ""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.engine = make_engine(self.url)
        self.sessions = make_sessionmaker(self.engine)
        self.status = "draft"
        self.tickets = 1
        self.event_rows = 1  # event.created
        self.event_id = self._run(self._create())

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    async def _create(self) -> uuid.UUID:
        async with self.sessions() as session:
            organizer = await users.create(
                session,
                email=f"{uuid.uuid4().hex}@example.com",
                full_name="Org",
                password_hash=None,
                role=Role.organizer,
            )
            start = utcnow() + timedelta(days=10)
            event = await service.create(
                session,
                organizer=organizer,
                data=EventCreate(
                    title="Lifecycle test",
                    venue=Venue(name="Hall", city="Berlin", country="DE"),
                    starts_at=start,
                    ends_at=start + timedelta(hours=2),
                    timezone="Europe/Berlin",
                    capacity=100,
                    currency="EUR",
                ),
            )
            # One ticket type from the start, so that runs reach the later states often;
            # publishing without one is covered by the API tests.
            await service.add_ticket_type(
                session, event=event, data=TicketTypeFields(name="T", price_cents=0, quantity=10)
            )
            await session.commit()
            return event.id

    async def _attempt(self, action: str) -> bool:
        """Run one operation; True when the service accepted it."""
        async with self.sessions() as session:
            event = await session.get(Event, self.event_id)
            if event is None:
                return False
            try:
                if action == "publish":
                    await service.publish(session, event=event)
                elif action == "cancel":
                    await service.cancel(session, event=event, reason="property test")
                elif action == "delete":
                    await service.delete(session, event=event)
                elif action == "add_ticket_type":
                    await service.add_ticket_type(
                        session,
                        event=event,
                        data=TicketTypeFields(name="T", price_cents=100, quantity=10),
                    )
                elif action == "rename":
                    await service.update(session, event=event, changes=EventUpdate(title="Renamed"))
                elif action == "complete":
                    await service.complete_ended(session, now=event.ends_at + timedelta(1))
                    await session.commit()
                    await session.refresh(event)
                    return event.status.value == "completed" and self.status != "completed"
            except AppError:
                await session.rollback()
                return False
            await session.commit()
            return True

    def _expect(self, action: str, allowed: bool) -> None:
        accepted = self._run(self._attempt(action))
        assert accepted == allowed, (action, self.status)
        if accepted and action != "add_ticket_type":
            self.event_rows += 1

    @precondition(lambda self: self.status in ("cancelled", "deleted", "completed"))
    @rule()
    def start_over(self) -> None:
        """A terminal state ends one lifecycle; keep exploring with a fresh event."""
        self.event_id = self._run(self._create())
        self.status, self.tickets, self.event_rows = "draft", 1, 1

    @rule()
    def add_ticket_type(self) -> None:
        allowed = self.status in ALLOWED["add_ticket_type"] and (self.tickets + 1) * 10 <= 100
        self._expect("add_ticket_type", allowed)
        if allowed:
            self.tickets += 1

    @rule()
    def publish(self) -> None:
        allowed = self.status in ALLOWED["publish"] and self.tickets > 0
        self._expect("publish", allowed)
        if allowed:
            self.status = "published"

    @rule()
    def cancel(self) -> None:
        allowed = self.status in ALLOWED["cancel"]
        self._expect("cancel", allowed)
        if allowed:
            self.status = "cancelled"

    @rule()
    def delete(self) -> None:
        allowed = self.status in ALLOWED["delete"]
        self._expect("delete", allowed)
        if allowed:
            self.status = "deleted"

    @rule()
    def rename(self) -> None:
        self._expect("rename", self.status in ALLOWED["rename"])

    @rule()
    def time_passes(self) -> None:
        allowed = self.status == "published"
        self._expect("complete", allowed)
        if allowed:
            self.status = "completed"

    @invariant()
    def database_agrees(self) -> None:
        async def read() -> tuple[str | None, int]:
            async with self.sessions() as session:
                event = await session.get(Event, self.event_id)
                rows = await session.scalar(
                    select(func.count())
                    .select_from(OutboxEvent)
                    .where(
                        OutboxEvent.entity_id == str(self.event_id),
                        OutboxEvent.entity == "event",
                    )
                )
                return (event.status.value if event else None), int(rows or 0)

        status, rows = self._run(read())
        assert (status or "deleted") == self.status
        assert rows == self.event_rows

    def teardown(self) -> None:
        self._run(self.engine.dispose())
        self.loop.close()


def test_event_lifecycle(database_url: str) -> None:
    Lifecycle.url = database_url
    try:
        _run_machine()
    finally:
        asyncio.run(_empty(database_url))


async def _empty(url: str) -> None:
    """Leave the shared test database as empty as the API tests expect it."""
    engine = make_engine(url)
    async with make_sessionmaker(engine)() as session:
        for table in reversed(metadata.sorted_tables):
            await session.execute(delete(table))
        await session.commit()
    await engine.dispose()


def _run_machine() -> None:
    run_state_machine_as_test(
        Lifecycle,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
