"""The floor to compare against: bare FastAPI doing the same database reads as an
authenticated request, and the door's essential writes, with none of our middleware, token
checks, rules or error machinery."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
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


# The door's writes with nothing between the socket and the database: a bare ASGI app and one
# asyncpg round trip (data-modifying CTEs), PostgreSQL only. What this machine can do at all.
_RAW_DOOR = """
WITH admitted AS (
  UPDATE tickets SET checked_in_at = now()
  WHERE code = $1 AND event_id = $2 AND checked_in_at IS NULL
  RETURNING id
), scan AS (
  INSERT INTO check_in_scans (id, event_id, ticket_id, staff_id, offline, scanned_at,
                              decided_at, outcome)
  SELECT $3, $2, (SELECT id FROM admitted), $4, false, now(), now(),
         CASE WHEN EXISTS (SELECT 1 FROM admitted) THEN 'admitted' ELSE 'already' END
  RETURNING outcome, ticket_id
), written AS (
  INSERT INTO outbox (event_id, event_type, entity, entity_id, version, payload, occurred_at)
  SELECT gen_random_uuid(), 'ticket.checked_in', 'ticket', id::text, 1,
         jsonb_build_object('id', id), now()
  FROM admitted
)
SELECT outcome, ticket_id FROM scan
"""


async def raw_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A bare ASGI app: `/health`, and the door's writes in one round trip."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                url = os.environ["TESSERA_DATABASE_URL"].replace("postgresql+asyncpg", "postgresql")
                raw_app.pool = await asyncpg.create_pool(url, min_size=4, max_size=10)  # type: ignore[attr-defined]
                raw_app.settings = Settings(database_url=os.environ["TESSERA_DATABASE_URL"])  # type: ignore[attr-defined]
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await raw_app.pool.close()  # type: ignore[attr-defined]
                await send({"type": "lifespan.shutdown.complete"})
                return
    answer: dict[str, Any] = {"status": "ok"}
    if scope["path"] != "/health":
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        sent = json.loads(body)
        event_id = uuid.UUID(scope["path"].split("/")[2])
        code = tickets.code_from_payload(raw_app.settings, sent["payload"])  # type: ignore[attr-defined]
        row = await raw_app.pool.fetchrow(  # type: ignore[attr-defined]
            _RAW_DOOR, code, event_id, uuid.UUID(sent["scan_id"]), uuid.UUID(sent["staff_id"])
        )
        answer = {"outcome": row["outcome"], "ticket_id": str(row["ticket_id"])}
    content = json.dumps(answer).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": content})
