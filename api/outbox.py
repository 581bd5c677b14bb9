"""The outbox: every state change writes an event row in the same transaction.

The contract (columns, event types, guarantees) is documented in docs/outbox.md, and its
column names and cursor rules are defined once in `contracts.outbox`, which the data platform
reads this table with (over SQL; it never imports this package).
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    FetchedValue,
    String,
    delete,
    exists,
    inspect,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, BigIntPK, new_id, utcnow
from api.observability import current_actor_id, current_request_id
from contracts import outbox as contract

JSONType = JSON().with_variant(JSONB(), "postgresql")


class OutboxEvent(Base):
    __tablename__ = contract.TABLE

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True, default=new_id)
    event_type: Mapped[str] = mapped_column(String(100), index=True)
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int]
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID | None]
    request_id: Mapped[str | None] = mapped_column(String(128))
    # PostgreSQL fills this with the writing transaction's id (see the migration), so readers
    # can hold back rows of transactions still in flight; SQLite leaves it empty.
    txid: Mapped[int | None] = mapped_column(BigInteger, server_default=FetchedValue())


assert set(OutboxEvent.__table__.columns.keys()) == set(contract.COLUMNS), "see contracts.outbox"


def to_json(value: Any) -> Any:
    """A JSON-safe form of a column value."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    return value


def row_image(obj: Base) -> dict[str, Any]:
    """Every column of a mapped row, less those the model marks as never to leave the database."""
    excluded: set[str] = getattr(obj, "__outbox_exclude__", set())
    mapper = inspect(obj).mapper
    return {
        attr.key: to_json(getattr(obj, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in excluded
    }


async def record(
    session: AsyncSession, event_type: str, obj: Base, *, extra: dict[str, Any] | None = None
) -> OutboxEvent:
    """Write the outbox row for a change to `obj`, after flushing so the version is current.

    `extra` adds what belongs to the row but lives in child rows (a booking's lines)."""
    await session.flush()
    entity: str = getattr(obj, "__outbox_entity__", obj.__tablename__)
    pk = inspect(obj).identity
    assert pk is not None, "record() needs a persisted row"
    return await emit(
        session,
        event_type,
        entity=entity,
        entity_id=str(pk[0]),
        version=int(getattr(obj, "version", 1)),
        payload=row_image(obj) | (extra or {}),
    )


async def emit(
    session: AsyncSession,
    event_type: str,
    *,
    entity: str,
    entity_id: str,
    payload: dict[str, Any],
    version: int = 1,
) -> OutboxEvent:
    """Write an outbox row for something that is not a row of ours (a request, a view).

    The row goes to the database with the session's next flush or commit, inside the caller's
    transaction; it is complete (ids, time) before that."""
    row = OutboxEvent(
        event_id=new_id(),
        occurred_at=utcnow(),
        event_type=event_type,
        entity=entity,
        entity_id=entity_id,
        version=version,
        payload=payload,
        actor_id=current_actor_id(),
        request_id=current_request_id(),
    )
    session.add(row)
    return row


class OutboxCursor(Base):
    """How far a consumer inside the platform (the refund worker, ...) has read the outbox:
    every row at or below the cursor is handled. By id on SQLite, by (txid, id) on PostgreSQL."""

    __tablename__ = contract.CURSORS_TABLE

    consumer: Mapped[str] = mapped_column(String(50), primary_key=True)
    last_txid: Mapped[int] = mapped_column(BigInteger, default=0)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OutboxConsumed(Base):
    """A row handled above the cursor (PostgreSQL): the cursor cannot pass rows of transactions
    still in flight, so rows handled ahead of it are marked, and unmarked when it catches up."""

    __tablename__ = contract.CONSUMED_TABLE

    consumer: Mapped[str] = mapped_column(String(50), primary_key=True)
    outbox_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    txid: Mapped[int] = mapped_column(BigInteger)


@dataclass
class Batch:
    """Rows for a consumer to handle in one transaction; `done(row)` for each, then `close()`."""

    session: AsyncSession
    cursor: OutboxCursor
    rows: list[OutboxEvent]
    xmin: int | None  # PostgreSQL: every transaction below this one had ended at the read

    @property
    def postgres(self) -> bool:
        return self.xmin is not None

    async def done(self, row: OutboxEvent) -> None:
        if not self.postgres:
            self.cursor.last_id = row.id
            return
        self.session.add(
            OutboxConsumed(consumer=self.cursor.consumer, outbox_id=row.id, txid=row.txid or 0)
        )

    async def close(self) -> None:
        """Move the cursor past the rows finished at the read: none can appear behind them."""
        if not self.postgres:
            return
        assert self.xmin is not None
        xmin = self.xmin
        final = [
            contract.Position.of(row.txid, row.id)
            for row in self.rows
            if contract.finished_at(row.txid, xmin)
        ]
        if not final:
            return
        last = max(final)
        self.cursor.last_txid, self.cursor.last_id = last.txid, last.id
        await self.session.flush()
        await self.session.execute(
            delete(OutboxConsumed).where(
                OutboxConsumed.consumer == self.cursor.consumer,
                contract.up_to(
                    last, postgres=True, txid=OutboxConsumed.txid, id=OutboxConsumed.outbox_id
                ),
            )
        )


async def read_after(
    session: AsyncSession, *, consumer: str, event_types: tuple[str, ...], limit: int = 100
) -> Batch:
    """The next rows of these types for `consumer`, oldest first, with its cursor locked (two
    workers take turns).

    SQLite commits in id order, so the id is the cursor. On PostgreSQL ids can commit out of
    order: rows come in (txid, id) order, those already handled ahead of the cursor are left
    out, and the cursor only moves past rows of transactions that had ended for everybody when
    they were read (txid below the read's xmin), so no row can appear behind it later.
    """
    cursor = await session.scalar(
        select(OutboxCursor).where(OutboxCursor.consumer == consumer).with_for_update()
    )
    if cursor is None:
        cursor = OutboxCursor(consumer=consumer, last_txid=0, last_id=0)
        session.add(cursor)
        await session.flush()
    postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
    position = contract.Position(cursor.last_txid, cursor.last_id)
    after = contract.past(position, postgres=postgres, txid=OutboxEvent.txid, id=OutboxEvent.id)
    order = contract.reading_order(postgres=postgres, txid=OutboxEvent.txid, id=OutboxEvent.id)
    if not postgres:
        query = select(OutboxEvent).where(OutboxEvent.event_type.in_(event_types), after)
        query = query.order_by(*order).limit(limit)
        return Batch(session, cursor, list(await session.scalars(query)), None)
    pg_query = (
        select(OutboxEvent, contract.read_xmin())
        .where(
            OutboxEvent.event_type.in_(event_types),
            after,
            ~exists().where(
                OutboxConsumed.consumer == consumer, OutboxConsumed.outbox_id == OutboxEvent.id
            ),
        )
        .order_by(*order)
        .limit(limit)
    )
    result = (await session.execute(pg_query)).all()
    if not result:
        return Batch(session, cursor, [], 0)
    rows: list[OutboxEvent] = [found[0] for found in result]
    return Batch(session, cursor, rows, int(result[0][1]))
