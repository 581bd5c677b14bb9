"""The outbox row and the rules for reading it past a cursor (docs/outbox.md).

The API writes the table (its ORM model and migrations hold its types); consumers read it over
SQL with the statements and conditions here, so "after the cursor", "finished" and the reading
order mean the same thing to all of them.

- Reading order is the id on SQLite (one writer at a time: ids commit in order) and
  `(txid, id)` on PostgreSQL, where ids can commit out of order; a row's `txid` is its writing
  transaction's id there, and empty on SQLite, where it counts as 0.
- A row is *finished* on PostgreSQL when its transaction had ended for everybody when the
  reading statement's snapshot was taken (`txid` below the snapshot's xmin): no row can appear
  behind a finished one later.
- Consumers that land rows elsewhere (the warehouse, the search index) read only finished rows
  past their cursor and move it to the last row read (`select_past`).
- Consumers inside the platform (`outbox_cursors`: refunds, the notifier) read every row past
  their cursor, mark those handled ahead of it in `outbox_consumed`, and move it only past rows
  that were finished at the read (`past`, `reading_order`, `read_xmin`, `Position`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import SQLCoreOperations

TABLE = "outbox"
COLUMNS = (
    "id",
    "event_id",
    "event_type",
    "entity",
    "entity_id",
    "version",
    "payload",
    "occurred_at",
    "actor_id",
    "request_id",
    "txid",
)
CURSORS_TABLE = "outbox_cursors"
CONSUMED_TABLE = "outbox_consumed"

# Lightweight tables, untyped but for the positions: values come back as the database holds
# them, whatever the driver (SQLite keeps UUIDs as 32 hex digits and times as text).
_POSITIONS = {"id", "txid", "last_txid", "last_id", "outbox_id"}


def _column(name: str) -> sa.ColumnClause[Any]:
    return sa.column(name, sa.BigInteger()) if name in _POSITIONS else sa.column(name)


outbox = sa.table(TABLE, *(_column(name) for name in COLUMNS))
cursors = sa.table(CURSORS_TABLE, *(_column(n) for n in ("consumer", "last_txid", "last_id")))
consumed = sa.table(CONSUMED_TABLE, *(_column(n) for n in ("consumer", "outbox_id", "txid")))


@dataclass(frozen=True, order=True)
class Position:
    """A row's place in reading order, and a cursor: every row at or before it is read."""

    txid: int
    id: int

    @classmethod
    def of(cls, txid: int | None, id: int) -> Position:
        """A row's position (SQLite keeps no txid: 0)."""
        return cls(int(txid or 0), int(id))

    @classmethod
    def parse(cls, token: str) -> Position:
        txid, last_id = token.split(":")
        return cls(int(txid), int(last_id))

    def token(self) -> str:
        """As text, "txid:id" (a sensor's cursor and run key)."""
        return f"{self.txid}:{self.id}"


START = Position(0, 0)

# A column to compare: a Core column, or the API's ORM attribute of the same name.
Column = SQLCoreOperations[Any]


def _bound(value: int) -> sa.BindParameter[int]:
    """Positions are 64 bits (a txid counts its epoch too)."""
    return sa.literal(value, sa.BigInteger())


def read_xmin() -> sa.ColumnElement[Any]:
    """PostgreSQL: every transaction below this id had ended when the statement began."""
    return sa.func.txid_snapshot_xmin(sa.func.txid_current_snapshot())


def finished(txid: Column = outbox.c.txid) -> sa.ColumnElement[bool]:
    """PostgreSQL: the row's transaction had ended for everybody when the statement began."""
    return txid < read_xmin()


def finished_at(txid: int | None, xmin: int) -> bool:
    """The same, for a row read together with its statement's xmin."""
    return (txid or 0) < xmin


def past(
    position: Position,
    *,
    postgres: bool,
    txid: Column = outbox.c.txid,
    id: Column = outbox.c.id,
) -> sa.ColumnElement[bool]:
    """Rows after `position` in reading order."""
    if postgres:
        return sa.tuple_(txid, id) > sa.tuple_(_bound(position.txid), _bound(position.id))
    return id > _bound(position.id)


def up_to(
    position: Position,
    *,
    postgres: bool,
    txid: Column = outbox.c.txid,
    id: Column = outbox.c.id,
) -> sa.ColumnElement[bool]:
    """Rows at or before `position` in reading order."""
    if postgres:
        return sa.tuple_(txid, id) <= sa.tuple_(_bound(position.txid), _bound(position.id))
    return id <= _bound(position.id)


def reading_order(
    *, postgres: bool, txid: Column = outbox.c.txid, id: Column = outbox.c.id
) -> tuple[Column, ...]:
    """The ORDER BY of reading order."""
    return (txid, id) if postgres else (id,)


def select_past(position: Position, *, postgres: bool, limit: int) -> sa.Select[Any]:
    """The next whole rows after `position` that may be taken now, in reading order: on
    PostgreSQL only finished ones, so none can later appear behind the last one read."""
    query = sa.select(*outbox.c).where(past(position, postgres=postgres))
    if postgres:
        query = query.where(finished())
    return query.order_by(*reading_order(postgres=postgres)).limit(limit)


def select_newest(*, postgres: bool) -> sa.Select[Any]:
    """The position of the newest row that may be taken now: (txid, id), txid 0 on SQLite.
    It only grows as rows become takeable, so a sensor can watch it."""
    if postgres:
        return (
            sa.select(outbox.c.txid, outbox.c.id)
            .where(finished())
            .order_by(outbox.c.txid.desc(), outbox.c.id.desc())
            .limit(1)
        )
    return sa.select(sa.literal_column("0"), outbox.c.id).order_by(outbox.c.id.desc()).limit(1)


def passed_by_every_consumer(*, postgres: bool) -> sa.ColumnElement[bool]:
    """Outbox rows every consumer inside the platform has handled: at or before every cursor
    and, on PostgreSQL, not among the rows marked as handled ahead of one."""
    behind = ~sa.exists().where(
        sa.tuple_(cursors.c.last_txid, cursors.c.last_id) < sa.tuple_(outbox.c.txid, outbox.c.id)
        if postgres
        else cursors.c.last_id < outbox.c.id
    )
    if not postgres:
        return behind
    return sa.and_(behind, ~sa.exists().where(consumed.c.outbox_id == outbox.c.id))
