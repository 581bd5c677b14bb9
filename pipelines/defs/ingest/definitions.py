"""The outbox lands in `raw.outbox_events`; a sensor refreshes the marts when it has grown; a
nightly schedule rebuilds everything and prunes the outbox rows the warehouse no longer needs
from the OLTP database."""

import dagster as dg
import duckdb

from pipelines import ingest
from pipelines.resources import OltpDatabaseResource, OutboxRetentionResource, WarehouseResource

OUTBOX_EVENTS = dg.AssetKey(["raw", "outbox_events"])


@dg.asset(
    key=OUTBOX_EVENTS,
    group_name="ingestion",
    description="Every outbox row of the OLTP database, landed once (keyed by event_id); the "
    "cursor moves in the same DuckDB transaction as the rows it covers.",
    kinds={"duckdb"},
)
def outbox_events(
    context: dg.AssetExecutionContext,
    oltp_database: OltpDatabaseResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:  # type: ignore[type-arg]
    with (
        oltp_database.engine() as engine,
        duckdb.connect(str(warehouse.ensure_directory())) as connection,
    ):
        result = ingest.ingest(engine, connection)
        total = connection.execute("select count(*) from raw.outbox_events").fetchall()
    context.log.info(f"landed {result.landed} new outbox row(s) of {result.read} read")
    return dg.MaterializeResult(
        metadata={
            "landed": result.landed,
            "read": result.read,
            "rows_total": int(total[0][0]),
            "cursor_txid": result.cursor.last_txid,
            "cursor_id": result.cursor.last_id,
        }
    )


@dg.asset(
    deps=[OUTBOX_EVENTS],
    group_name="ingestion",
    description="Deletes outbox rows from the OLTP database once the warehouse has landed "
    "them, every consumer inside the platform has passed them, and the retention window "
    "(TESSERA_OUTBOX_RETENTION_DAYS, 7) has gone by.",
)
def outbox_retention(
    context: dg.AssetExecutionContext,
    oltp_database: OltpDatabaseResource,
    warehouse: WarehouseResource,
    retention: OutboxRetentionResource,
) -> dg.MaterializeResult:  # type: ignore[type-arg]
    days = float(retention.days)
    with (
        oltp_database.engine() as engine,
        duckdb.connect(str(warehouse.ensure_directory())) as connection,
    ):
        removed = ingest.prune(engine, connection, retention=retention.window())
    context.log.info(f"pruned {removed} outbox row(s) older than {days} days")
    return dg.MaterializeResult(metadata={"pruned": removed, "retention_days": days})


defs = dg.Definitions(assets=[outbox_events, outbox_retention])
