"""The search index, built from the OLTP database over SQL and kept current from the outbox.

What is searchable: published, public events that have not ended. A full build replaces the
index in one step (readers never see it empty); a sync reads the outbox rows that touch events,
their ticket types or categories since its cursor and re-indexes or removes just those events.
Popularity comes from the published marts (`event_popularity`) when there are any.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from contracts import outbox
from contracts.snapshot import Build
from pipelines import ingest
from search.backend import SearchBackend
from search.documents import EventDocument

# Outbox entities whose changes can change an event's document.
ENTITIES = ("event", "ticket_type", "category")
CURSOR_FILE = "sync-cursor.json"
POPULARITY = "event_popularity"


@dataclass(frozen=True)
class SyncResult:
    indexed: int
    removed: int
    rows_read: int
    cursor: ingest.Cursor


def popularity(snapshot_dir: Path | None) -> dict[str, float]:
    """event id -> popularity from the published marts, or nothing before the first build."""
    build = Build.current(snapshot_dir) if snapshot_dir is not None else None
    if build is None or not build.has(POPULARITY):
        return {}
    table = build.arrow(POPULARITY, columns=["event_id", "popularity"]).to_pydict()
    return {
        str(event_id): float(score or 0)
        for event_id, score in zip(table["event_id"], table["popularity"], strict=True)
    }


_SELECT = """
select e.id, e.slug, e.title, e.description, e.tags, e.organizer_id, e.venue_name, e.city,
       e.country, e.latitude, e.longitude, e.online_url, e.starts_at, e.currency,
       c.name as category,
       (select min(t.price_cents) from ticket_types t where t.event_id = e.id) as price_min,
       (select max(t.price_cents) from ticket_types t where t.event_id = e.id) as price_max
from events e left join categories c on c.id = e.category_id
where e.status = 'published' and e.visibility = 'public' and e.ends_at >= :now
"""


def _document(row: sa.Row[Any], scores: dict[str, float]) -> EventDocument:
    tags = row.tags if isinstance(row.tags, list) else json.loads(row.tags or "[]")
    event_id = ingest.canonical_uuid(row.id)
    return EventDocument(
        id=event_id,
        slug=row.slug,
        title=row.title,
        description=row.description or "",
        category=row.category or "",
        tags=tuple(str(tag) for tag in tags),
        venue=row.venue_name or "",
        city=row.city or "",
        country=(row.country or "").upper(),
        starts_at=ingest.utc_timestamp(row.starts_at),
        price_min_cents=int(row.price_min or 0),
        price_max_cents=int(row.price_max or 0),
        currency=row.currency,
        online=row.online_url is not None,
        organizer_id=ingest.canonical_uuid(row.organizer_id),
        popularity=scores.get(event_id, 0.0),
        lat=row.latitude,
        lon=row.longitude,
    )


def _ids_param(oltp: sa.Engine, ids: list[str]) -> list[Any]:
    """Event ids as the database stores them (SQLite keeps UUIDs as 32 hex digits)."""
    if oltp.dialect.name == "sqlite":
        return [uuid.UUID(i).hex for i in ids]
    return [uuid.UUID(i) for i in ids]


def documents(
    oltp: sa.Engine,
    *,
    event_ids: list[str] | None = None,
    scores: dict[str, float] | None = None,
    now: datetime | None = None,
) -> list[EventDocument]:
    """The searchable events (all, or those of `event_ids` that still are)."""
    query = _SELECT
    params: dict[str, Any] = {"now": now or datetime.now(UTC)}
    if oltp.dialect.name == "sqlite":
        params["now"] = params["now"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    statement = sa.text(query)
    if event_ids is not None:
        statement = sa.text(query + " and e.id in :ids").bindparams(
            sa.bindparam("ids", expanding=True)
        )
        params["ids"] = _ids_param(oltp, event_ids)
    with oltp.connect() as connection:
        rows = connection.execute(statement, params).all()
    return [_document(row, scores or {}) for row in rows]


def rebuild(
    oltp: sa.Engine, backend: SearchBackend, *, index_dir: Path, snapshot_dir: Path | None
) -> int:
    """Replace the index with every searchable event; the sync then goes on from the outbox
    as it stood before the events were read (what changed meanwhile is indexed again)."""
    mark = ingest.watermark(oltp)
    written = backend.rebuild(documents(oltp, scores=popularity(snapshot_dir)))
    if mark is not None:
        position = outbox.Position.parse(mark)
        write_cursor(index_dir, ingest.Cursor(position.txid, position.id, 0))
    return written


def pending(oltp: sa.Engine, index_dir: Path) -> bool:
    """Has the outbox a row the next sync would take? (The sensor's cheap question.)"""
    return ingest.pending(oltp, read_cursor(index_dir))


def read_cursor(index_dir: Path) -> ingest.Cursor:
    path = index_dir / CURSOR_FILE
    if not path.exists():
        return ingest.Cursor(0, 0, 0)
    data = json.loads(path.read_text())
    return ingest.Cursor(int(data["last_txid"]), int(data["last_id"]), 0)


def write_cursor(index_dir: Path, cursor: ingest.Cursor) -> None:
    index_dir.mkdir(parents=True, exist_ok=True)
    staged = index_dir / f".{CURSOR_FILE}"
    staged.write_text(json.dumps({"last_txid": cursor.last_txid, "last_id": cursor.last_id}))
    staged.replace(index_dir / CURSOR_FILE)


def _affected(oltp: sa.Engine, rows: Iterable[sa.Row[Any]]) -> set[str]:
    """The events whose documents the outbox rows may have changed."""
    events: set[str] = set()
    categories: set[str] = set()
    for row in rows:
        mapping = row._mapping
        if mapping["entity"] == "event" and mapping["event_type"] != "event.viewed":
            events.add(ingest.canonical_uuid(mapping["entity_id"]))
        elif mapping["entity"] == "ticket_type":
            payload = mapping["payload"]
            data = payload if isinstance(payload, dict) else json.loads(payload)
            if data.get("event_id"):
                events.add(ingest.canonical_uuid(data["event_id"]))
        elif mapping["entity"] == "category":
            categories.add(ingest.canonical_uuid(mapping["entity_id"]))
    if categories:
        statement = sa.text("select id from events where category_id in :ids").bindparams(
            sa.bindparam("ids", expanding=True)
        )
        with oltp.connect() as connection:
            found = connection.execute(statement, {"ids": _ids_param(oltp, sorted(categories))})
            events |= {ingest.canonical_uuid(row[0]) for row in found}
    return events


def sync_database(
    database_url: str, backend: SearchBackend, *, index_dir: Path, snapshot_dir: Path | None
) -> SyncResult:
    """`sync` from the transactional database at `database_url` (its own engine, closed after)."""
    engine = ingest.make_oltp_engine(database_url)
    try:
        return sync(engine, backend, index_dir=index_dir, snapshot_dir=snapshot_dir)
    finally:
        engine.dispose()


def sync(
    oltp: sa.Engine,
    backend: SearchBackend,
    *,
    index_dir: Path,
    snapshot_dir: Path | None,
    batch_size: int = 5_000,
) -> SyncResult:
    """Re-index the events the outbox changed since the cursor; the cursor moves only after
    the index has taken them (a crash in between repeats an idempotent update)."""
    cursor = read_cursor(index_dir)
    indexed = removed = read = 0
    scores: dict[str, float] | None = None
    while True:
        rows = ingest.read_after(oltp, cursor, limit=batch_size)
        if not rows:
            break
        read += len(rows)
        changed = _affected(oltp, (r for r in rows if r._mapping["entity"] in ENTITIES))
        if changed:
            if scores is None:
                scores = popularity(snapshot_dir)
            docs = documents(oltp, event_ids=sorted(changed), scores=scores)
            gone = changed - {doc.id for doc in docs}
            if docs:
                indexed += backend.index(docs)
            if gone:
                backend.delete(sorted(gone))
                removed += len(gone)
        last = outbox.Position.of(rows[-1].txid, rows[-1].id)
        cursor = ingest.Cursor(last.txid, last.id, 0)
        write_cursor(index_dir, cursor)
        if len(rows) < batch_size:
            break
    return SyncResult(indexed=indexed, removed=removed, rows_read=read, cursor=cursor)
