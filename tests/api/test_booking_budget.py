"""The booking path's budget, on both databases: what one booking (a signed-in buyer, one free
seat, an Idempotency-Key) costs in SQL statements, database round trips and Python calls, against
figures recorded here. Machines here differ by more than two times from one session to the next,
so speed is measured only by `tessera bench flash-sale` as a ratio to a baseline; these counts
are what a change cannot grow by accident. A change that makes the path cheaper lowers the
budget in the same commit; one that must make it dearer raises it there and says why."""

from __future__ import annotations

import cProfile
import pstats
import uuid
from typing import Any

import sqlalchemy

from api.users.models import Role
from tests.api.factories import Api
from tests.api.test_events import published_event, ticket_body

# SQLite (recorded on 7008d02): the readable service, statements and round trips exactly (the
# session check, the idempotency key, the event; the booking, its transition, its line, the
# outbox row of its creation, its tickets, the outbox row of its confirmation; the seats claimed;
# the stored answer; BEGIN and COMMIT); 16,067 Python calls, its driver running in a thread.
# PostgreSQL: the one-statement path (api/bookings/express.py), one statement outside any
# transaction, on connections that need no ping nor reset; 3,572 Python calls (13,593 before
# it), the test client's own included. Python calls with 15 % of room for what other tests
# leave warm or cold in the same process.
BUDGET = {
    "sqlite": {"statements": 11, "round_trips": 13, "python_calls": 18_500},
    "postgres": {"statements": 1, "round_trips": 1, "python_calls": 4_100},
}


class _Counter:
    def __init__(self) -> None:
        self.statements: list[str] = []
        self.transactions = 0
        self.checkouts = 0
        self.recording = False

    def express_statement(self, logged: Any) -> None:
        if self.recording:
            self.statements.append(logged.query)

    def statement(self, *args: Any) -> None:
        if not str(args[2]).startswith("BEGIN"):  # SQLite's own BEGIN is a transaction's
            self.statements.append(str(args[2]))

    def transaction(self, *args: Any) -> None:
        self.transactions += 1

    def checkout(self, *args: Any) -> None:
        self.checkouts += 1


async def test_one_booking_keeps_to_its_budget(api: Api, database_url: str) -> None:
    owner = await api.signed_in(Role.organizer)
    buyer = await api.signed_in()
    event = await published_event(api, owner, tickets=[ticket_body(price_cents=0, quantity=50)])
    body = {
        "event_id": event["id"],
        "lines": [{"ticket_type_id": event["ticket_types"][0]["id"], "quantity": 1}],
    }

    async def book() -> None:
        headers = buyer.headers | {"Idempotency-Key": uuid.uuid4().hex}
        answer = await api.client.post("/bookings", headers=headers, json=body)
        assert answer.status_code == 201, answer.text

    counter = _Counter()
    express = getattr(api.app.state, "express", None)
    if express is not None:  # PostgreSQL's one-statement path runs on connections of its own
        express.query_loggers.append(counter.express_statement)
    for _ in range(3):  # caches filled, statements compiled
        await book()
    engine = api.app.state.engine.sync_engine
    counter.statements.clear()
    counter.recording = True
    hooks = [
        ("before_cursor_execute", counter.statement),
        ("begin", counter.transaction),
        ("commit", counter.transaction),
        ("rollback", counter.transaction),
    ]
    for name, hook in hooks:
        sqlalchemy.event.listen(engine, name, hook)
    sqlalchemy.event.listen(engine.pool, "checkout", counter.checkout)
    profile = cProfile.Profile()
    try:
        profile.enable()
        await book()
        profile.disable()
    finally:
        for name, hook in hooks:
            sqlalchemy.event.remove(engine, name, hook)
        sqlalchemy.event.remove(engine.pool, "checkout", counter.checkout)
    # On PostgreSQL the pool pings a connection before handing it out (api/db.py make_engine).
    pings = counter.checkouts if engine.dialect.name == "postgresql" else 0
    found = {
        "statements": len(counter.statements),
        "round_trips": len(counter.statements) + counter.transactions + pings,
        "python_calls": pstats.Stats(profile).total_calls,  # type: ignore[attr-defined]
    }
    kind = "postgres" if database_url.startswith("postgresql") else "sqlite"
    over = {k: (v, BUDGET[kind][k]) for k, v in found.items() if v > BUDGET[kind][k]}
    assert over == {}, f"past the budget (found, budget): {over}; statements: {counter.statements}"
