"""Outbox ingestion: every row lands once, whatever crashes, lags or commits out of order."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from pipelines.ingest import (
    Cursor,
    ensure_raw,
    ingest,
    make_oltp_engine,
    pending,
    prune,
    read_cursor,
)
from tests.api.factories import Api
from tests.settle import settled


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


@pytest.fixture
def oltp(database_url: str) -> Iterator[sa.Engine]:
    engine = make_oltp_engine(database_url)
    yield engine
    engine.dispose()


def _landed(warehouse: duckdb.DuckDBPyConnection) -> list[str]:
    rows = warehouse.execute("select event_id from raw.outbox_events order by outbox_id").fetchall()
    return [row[0] for row in rows]


async def _truth(api: Api) -> list[str]:
    return [str(row.event_id) for row in await api.outbox()]


async def _some_changes(api: Api, people: int = 4) -> None:
    for _ in range(people):
        await api.signed_in()
    await api.outbox_settled()


async def test_every_row_lands_once_in_batches(
    api: Api, oltp: sa.Engine, warehouse: duckdb.DuckDBPyConnection
) -> None:
    await _some_changes(api)
    truth = await _truth(api)
    assert pending(oltp, read_cursor_or_zero(warehouse))
    result = ingest(oltp, warehouse, batch_size=3)
    assert (result.landed, result.read) == (len(truth), len(truth))
    assert result.batches == -(-len(truth) // 3)
    assert _landed(warehouse) == truth
    again = ingest(oltp, warehouse, batch_size=3)
    assert (again.landed, again.read) == (0, 0)
    assert not pending(oltp, read_cursor(warehouse))
    await _some_changes(api, 2)
    more = ingest(oltp, warehouse, batch_size=3)
    assert _landed(warehouse) == await _truth(api)
    assert more.landed == len(await _truth(api)) - len(truth)
    image = warehouse.execute(
        "select payload->>'email', payload->>'password_hash' from raw.outbox_events "
        "where event_type = 'user.registered' limit 1"
    ).fetchone()
    assert image is not None
    assert image[0] is not None
    assert image[1] is None  # never leaves the database


def read_cursor_or_zero(warehouse: duckdb.DuckDBPyConnection) -> Cursor:
    ensure_raw(warehouse)
    return read_cursor(warehouse)


PAYLOAD = sa.JSON().with_variant(JSONB(), "postgresql")


class Crash(Exception):
    """The process dies here."""


async def test_a_crash_before_the_cursor_commits_loses_and_duplicates_nothing(
    api: Api, oltp: sa.Engine, warehouse: duckdb.DuckDBPyConnection
) -> None:
    await _some_changes(api, 5)
    truth = await _truth(api)
    batches = 0

    def crash_on_the_second_batch(_: int) -> None:
        nonlocal batches
        batches += 1
        if batches == 2:
            raise Crash

    with pytest.raises(Crash):
        ingest(oltp, warehouse, batch_size=4, before_commit=crash_on_the_second_batch)
    # The first batch and its cursor committed together; the second neither landed nor moved.
    assert _landed(warehouse) == truth[:4]
    assert read_cursor(warehouse).rows_landed == 4
    ingest(oltp, warehouse, batch_size=4)
    assert _landed(warehouse) == truth


async def test_a_lagging_cursor_relands_nothing(
    api: Api, oltp: sa.Engine, warehouse: duckdb.DuckDBPyConnection
) -> None:
    await _some_changes(api)
    truth = await _truth(api)
    ingest(oltp, warehouse)
    warehouse.execute("update raw.ingest_cursor set last_txid = 0, last_id = 0")
    again = ingest(oltp, warehouse)
    assert (again.landed, again.read) == (0, len(truth))
    assert _landed(warehouse) == truth


def _insert_outbox(connection: sa.Connection, note: str) -> str:
    event_id = str(uuid.uuid4())  # PostgreSQL only
    connection.execute(
        sa.text(
            "insert into outbox (event_id, event_type, entity, entity_id, version, payload, "
            "occurred_at) values (:event_id, 'event.viewed', 'event', :entity_id, 1, "
            "cast(:payload as json), :at)"
        ),
        {
            "event_id": event_id,
            "entity_id": str(uuid.uuid4()),
            "payload": json.dumps({"note": note}),
            "at": datetime.now(UTC),
        },
    )
    return event_id


async def test_a_row_committed_out_of_order_is_not_skipped(
    api: Api, backend: str, oltp: sa.Engine, warehouse: duckdb.DuckDBPyConnection
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time: ids cannot commit out of order")
    slow = oltp.connect()
    slow_tx = slow.begin()
    slow_id = _insert_outbox(slow, "slow")  # takes a lower id, commits last
    with oltp.begin() as fast:
        fast_id = _insert_outbox(fast, "fast")
    first = ingest(oltp, warehouse)
    # An "id above the last one" reader would land the fast row now and skip the slow one for
    # ever; the watermark holds the fast row back while the slow transaction is in flight.
    assert slow_id not in _landed(warehouse)
    assert first.landed == 0
    slow_tx.commit()
    slow.close()
    settled(oltp)
    ingest(oltp, warehouse)
    landed = _landed(warehouse)
    assert {slow_id, fast_id} <= set(landed)
    assert len(landed) == len(set(landed))


def _outbox_rows(oltp: sa.Engine) -> list[tuple[int, int, str, str]]:
    with oltp.connect() as connection:
        rows = connection.execute(
            sa.text("select id, coalesce(txid, 0), event_id, event_type from outbox order by id")
        ).all()
    return [(int(row[0]), int(row[1]), str(uuid.UUID(str(row[2]))), str(row[3])) for row in rows]


async def test_pruning_keeps_what_is_not_landed_or_still_needed(
    api: Api, backend: str, oltp: sa.Engine, warehouse: duckdb.DuckDBPyConnection
) -> None:
    await _some_changes(api, 3)
    with oltp.begin() as connection:  # a message the notifier has not delivered yet
        undelivered = str(uuid.uuid4())
        connection.execute(
            sa.text(
                "insert into outbox (event_id, event_type, entity, entity_id, version, payload, "
                "occurred_at) values (:event_id, 'notification.requested', 'notification', "
                ":entity_id, 1, :payload, :at)"
            ).bindparams(sa.bindparam("payload", type_=PAYLOAD)),
            {
                "entity_id": undelivered,
                "event_id": undelivered if backend == "postgresql" else uuid.UUID(undelivered).hex,
                "payload": {"template": "test"},
                "at": datetime.now(UTC) if backend == "postgresql" else _sqlite_now(),
            },
        )
    await _some_changes(api, 1)
    ingest(oltp, warehouse)
    await _some_changes(api, 1)  # not landed
    rows = _outbox_rows(oltp)
    landed = set(_landed(warehouse))
    # The refund worker has read up to the middle of the landed rows; the notifier has not
    # read the requested message yet.
    middle = rows[len(landed) // 2]
    ordered = sorted(rows, key=lambda row: (row[1], row[0]))
    waiting = next(i for i, row in enumerate(ordered) if row[2] == undelivered)
    notifier = ordered[waiting - 1]
    with oltp.begin() as connection:
        # Only these two consumers, wherever the migration or an earlier test left cursors.
        connection.execute(sa.text("delete from outbox_cursors"))
        for consumer, (row_id, txid) in (
            ("refunds", middle[:2]),
            ("notifications-account", notifier[:2]),
        ):
            connection.execute(
                sa.text(
                    "insert into outbox_cursors (consumer, last_txid, last_id, updated_at) "
                    "values (:consumer, :txid, :id, :at)"
                ),
                {
                    "consumer": consumer,
                    "txid": txid,
                    "id": row_id,
                    "at": datetime.now(UTC) if backend == "postgresql" else _sqlite_now(),
                },
            )
    assert prune(oltp, warehouse, retention=timedelta(days=7)) == 0  # all too recent
    removed = prune(
        oltp, warehouse, retention=timedelta(days=7), now=datetime.now(UTC) + timedelta(days=8)
    )
    passed = min((middle[1], middle[0]), (notifier[1], notifier[0]))
    expected = {
        event_id
        for outbox_id, txid, event_id, _ in rows
        if event_id in landed and (txid, outbox_id) <= passed
    }
    left = {row[2] for row in _outbox_rows(oltp)}
    assert removed == len(expected) > 0
    assert left == {row[2] for row in rows} - expected
    assert undelivered in left


def _sqlite_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
