"""The floor to compare against: bare FastAPI doing the same database reads as an
authenticated request, and the door's essential writes, with none of our middleware, token
checks, rules or error machinery."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import insert, update

from api.auth.models import AuthSession
from api.bookings import tickets
from api.bookings.models import CheckInScan, ScanOutcome, Ticket
from api.config import Settings
from api.db import make_engine, make_sessionmaker, utcnow
from api.outbox import OutboxEvent
from api.users.models import User


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    engine = make_engine(os.environ["TESSERA_DATABASE_URL"])
    app.state.sessionmaker = make_sessionmaker(engine, read_only=True)
    app.state.writer = make_sessionmaker(engine)
    app.state.settings = Settings(database_url=os.environ["TESSERA_DATABASE_URL"])
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/profile")
async def profile(user_id: uuid.UUID, session_id: uuid.UUID) -> dict[str, Any]:
    async with app.state.sessionmaker() as session:
        user = await session.get(User, user_id)
        auth_session = await session.get(AuthSession, session_id)
    assert user is not None
    assert auth_session is not None
    return {"id": str(user.id), "email": user.email, "full_name": user.full_name}


@app.post("/events/{event_id}/check-ins")
async def check_in(event_id: uuid.UUID, body: dict[str, Any]) -> dict[str, Any]:
    """The door's writes, bare, in one transaction: the ticket admitted once, the scan kept,
    the outbox row; no session check, no grant, no window, no names."""
    code = tickets.code_from_payload(app.state.settings, body["payload"])
    now = utcnow()
    async with app.state.writer() as session, session.begin():
        ticket_id = await session.scalar(
            update(Ticket)
            .where(Ticket.code == code, Ticket.event_id == event_id, Ticket.checked_in_at.is_(None))
            .values(checked_in_at=now)
            .returning(Ticket.id)
        )
        outcome = ScanOutcome.admitted if ticket_id else ScanOutcome.already
        await session.execute(
            insert(CheckInScan).values(
                id=uuid.UUID(body["scan_id"]),
                event_id=event_id,
                ticket_id=ticket_id,
                staff_id=uuid.UUID(body["staff_id"]),
                scanned_at=now,
                outcome=outcome,
            )
        )
        await session.execute(
            insert(OutboxEvent).values(
                event_type="ticket.checked_in",
                entity="ticket",
                entity_id=str(ticket_id),
                version=1,
                payload={"id": str(ticket_id), "checked_in_at": now.isoformat()},
            )
        )
    return {"ticket_id": str(ticket_id), "outcome": outcome.value}
