"""Waiting, with a deadline, until the outbox rows a test wrote count as finished.

On PostgreSQL a consumer reads a row only once every transaction older than it has ended in
the whole cluster (`contracts.outbox.finished`), so a test running beside others (pytest-xdist
workers share one server) may find its own committed rows not yet readable for a moment. A
test that then reads the outbox waits for that, not for a fixed time.
"""

from __future__ import annotations

import asyncio
import time

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts import outbox

DEADLINE_SECONDS = 30.0
_UNFINISHED = sa.select(sa.func.count()).select_from(outbox.outbox).where(~outbox.finished())


def settled(engine: sa.Engine) -> None:
    """Return once no outbox row is waiting for an older transaction to end."""
    if engine.dialect.name != "postgresql":
        return
    deadline = time.monotonic() + DEADLINE_SECONDS
    with engine.connect() as connection:
        while connection.execute(_UNFINISHED).scalar_one():
            if time.monotonic() > deadline:
                raise TimeoutError("outbox rows stayed unfinished: a transaction never ended")
            connection.rollback()  # a new statement snapshot next time round
            time.sleep(0.02)


async def settled_async(engine: AsyncEngine) -> None:
    if engine.dialect.name != "postgresql":
        return
    async with asyncio.timeout(DEADLINE_SECONDS), engine.connect() as connection:
        while (await connection.execute(_UNFINISHED)).scalar_one():
            await connection.rollback()
            await asyncio.sleep(0.02)
