"""Outbox → DuckDB, exactly once.

The OLTP database is read over SQL (never through `api`). Rows land in `raw.outbox_events`,
keyed by `event_id`, and the cursor moves in the **same DuckDB transaction** as the rows it
covers: a crash before the commit lands nothing and moves nothing; a cursor that lags (restored
from a backup, reset by hand) only re-reads rows whose landing is then a no-op.

Safe watermark (the outbox contract, `contracts.outbox`): SQLite has one writer at a time, so
ids commit in order and `id > cursor` is enough. On PostgreSQL ids can commit out of order, so
only finished rows (of transactions that had ended for everybody when they were read) are
taken, in `(txid, id)` order; a row of a transaction still in flight waits for the next poll,
and none can later appear behind the cursor.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]
import sqlalchemy as sa

from contracts import outbox

SOURCE = "outbox"
# The columns of raw.outbox_events as they are landed (the outbox row's `id` as `outbox_id`).
LANDED = (
    "event_id",
    "outbox_id",
    "txid",
    "event_type",
    "entity",
    "entity_id",
    "version",
    "payload",
    "occurred_at",
    "actor_id",
    "request_id",
)

DDL = """
create schema if not exists raw;
create table if not exists raw.outbox_events (
    event_id varchar primary key,
    outbox_id bigint not null,
    txid bigint,
    event_type varchar not null,
    entity varchar not null,
    entity_id varchar not null,
    version integer not null,
    payload json not null,
    occurred_at timestamptz not null,
    actor_id varchar,
    request_id varchar,
    landed_at timestamptz not null
);
create table if not exists raw.ingest_cursor (
    source varchar primary key,
    last_txid bigint not null,
    last_id bigint not null,
    rows_landed bigint not null,
    updated_at timestamptz not null
);
"""

ARROW_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("outbox_id", pa.int64()),
        ("txid", pa.int64()),
        ("event_type", pa.string()),
        ("entity", pa.string()),
        ("entity_id", pa.string()),
        ("version", pa.int32()),
        ("payload", pa.string()),
        ("occurred_at", pa.timestamp("us", tz="UTC")),
        ("actor_id", pa.string()),
        ("request_id", pa.string()),
    ]
)


def sync_url(url: str) -> str:
    """The API's async database URL as a synchronous driver's (pipelines run synchronously)."""
    for async_driver, sync_driver in (
        ("sqlite+aiosqlite:", "sqlite:"),
        ("postgresql+asyncpg:", "postgresql+psycopg:"),
        ("postgresql:", "postgresql+psycopg:"),
    ):
        if url.startswith(async_driver):
            return sync_driver + url[len(async_driver) :]
    return url


def make_oltp_engine(url: str) -> sa.Engine:
    return sa.create_engine(sync_url(url), pool_pre_ping=True)


@dataclass(frozen=True)
class Cursor:
    last_txid: int
    last_id: int
    rows_landed: int

    @property
    def position(self) -> outbox.Position:
        return outbox.Position(self.last_txid, self.last_id)


@dataclass(frozen=True)
class IngestResult:
    landed: int  # rows new to the warehouse
    read: int  # rows read (a lagging cursor re-reads rows already landed)
    cursor: Cursor
    batches: int


def ensure_raw(warehouse: duckdb.DuckDBPyConnection) -> None:
    warehouse.execute(DDL)


def read_cursor(warehouse: duckdb.DuckDBPyConnection) -> Cursor:
    found = warehouse.execute(
        "select last_txid, last_id, rows_landed from raw.ingest_cursor where source = ?",
        [SOURCE],
    ).fetchall()
    return Cursor(*found[0]) if found else Cursor(0, 0, 0)


def _postgres(engine: sa.Engine) -> bool:
    return engine.dialect.name == "postgresql"


def utc_timestamp(value: Any) -> datetime:
    # SQLite hands back text
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def canonical_uuid(value: Any) -> str:
    """Canonical text (SQLite keeps UUIDs as 32 hex digits, PostgreSQL as uuid)."""
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


def _arrow(rows: list[sa.Row[Any]]) -> pa.Table:
    columns: dict[str, list[Any]] = {name: [] for name in LANDED}
    for row in rows:
        values = row._mapping
        columns["event_id"].append(canonical_uuid(values["event_id"]))
        columns["outbox_id"].append(int(values["id"]))
        columns["txid"].append(values["txid"])
        columns["event_type"].append(values["event_type"])
        columns["entity"].append(values["entity"])
        columns["entity_id"].append(str(values["entity_id"]))
        columns["version"].append(int(values["version"]))
        payload = values["payload"]
        columns["payload"].append(payload if isinstance(payload, str) else json.dumps(payload))
        columns["occurred_at"].append(utc_timestamp(values["occurred_at"]))
        actor = values["actor_id"]
        columns["actor_id"].append(canonical_uuid(actor) if actor is not None else None)
        columns["request_id"].append(values["request_id"])
    return pa.table(columns, schema=ARROW_SCHEMA)


def ingest(
    oltp: sa.Engine,
    warehouse: duckdb.DuckDBPyConnection,
    *,
    batch_size: int = 5_000,
    max_batches: int | None = None,
    before_commit: Callable[[int], None] | None = None,
) -> IngestResult:
    """Land every outbox row the watermark allows, batch by batch, each batch and its cursor
    in one warehouse transaction. `before_commit` runs just before each commit (tests use it
    to crash there)."""
    ensure_raw(warehouse)
    cursor = read_cursor(warehouse)
    landed = read = batches = 0
    while max_batches is None or batches < max_batches:
        rows = read_after(oltp, cursor, limit=batch_size)
        if not rows:
            break
        batch = _arrow(rows)
        last = rows[-1]._mapping
        warehouse.execute("begin transaction")
        try:
            warehouse.register("incoming", batch)
            inserted = warehouse.execute(
                f"insert or ignore into raw.outbox_events select {', '.join(LANDED)}, now() "  # noqa: S608 - constant column lists and clauses
                "from incoming"
            ).fetchall()
            warehouse.unregister("incoming")
            new = int(inserted[0][0])
            position = outbox.Position.of(last["txid"], last["id"])
            cursor = Cursor(position.txid, position.id, cursor.rows_landed + new)
            warehouse.execute(
                "insert or replace into raw.ingest_cursor values (?, ?, ?, ?, now())",
                [SOURCE, cursor.last_txid, cursor.last_id, cursor.rows_landed],
            )
            if before_commit is not None:
                before_commit(new)
            warehouse.execute("commit")
        except BaseException:
            warehouse.execute("rollback")
            raise
        landed += new
        read += len(rows)
        batches += 1
        if len(rows) < batch_size:
            break
    return IngestResult(landed=landed, read=read, cursor=cursor, batches=batches)


def read_after(oltp: sa.Engine, cursor: Cursor, *, limit: int) -> list[sa.Row[Any]]:
    """The next outbox rows (every column of the contract) past `cursor` that the safe
    watermark allows, in order."""
    query = outbox.select_past(cursor.position, postgres=_postgres(oltp), limit=limit)
    with oltp.connect() as connection:
        return list(connection.execute(query))


def pending(oltp: sa.Engine, cursor: Cursor) -> bool:
    """Is there a row the next ingestion would take? (The sensor's cheap question.)"""
    return bool(read_after(oltp, cursor, limit=1))


def watermark(oltp: sa.Engine) -> str | None:
    """The newest outbox row ingestion may take now, as "txid:id" (txid 0 on SQLite). It only
    grows when rows become ingestible, so a sensor can ask for a run exactly then."""
    with oltp.connect() as connection:
        row = connection.execute(outbox.select_newest(postgres=_postgres(oltp))).first()
    return None if row is None else outbox.Position.of(row[0], row[1]).token()


def prune(
    oltp: sa.Engine,
    warehouse: duckdb.DuckDBPyConnection,
    *,
    retention: timedelta,
    now: datetime | None = None,
) -> int:
    """Delete outbox rows the warehouse has landed that are older than the retention window,
    and only those every consumer inside the platform (outbox_cursors: refunds, the notifier)
    has passed too."""
    cutoff = (now or datetime.now(UTC)) - retention
    cursor = read_cursor(warehouse)
    postgres = _postgres(oltp)
    before = (
        sa.literal(cutoff, sa.DateTime(timezone=True))
        if postgres  # SQLite keeps times as text
        else sa.literal(cutoff.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"), sa.String())
    )
    statement = sa.delete(outbox.outbox).where(
        outbox.outbox.c.occurred_at < before,
        outbox.up_to(cursor.position, postgres=postgres),
        outbox.passed_by_every_consumer(postgres=postgres),
    )
    with oltp.begin() as connection:
        return int(connection.execute(statement).rowcount or 0)
