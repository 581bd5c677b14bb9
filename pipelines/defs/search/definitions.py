"""The event search index as an asset: `search_rebuild` (nightly, after the marts' rebuild, and
once under `make up`) rebuilds it in full with popularity from the published marts; a sensor
runs a sync within seconds of an event, ticket type or category changing in the OLTP database.
These live in their own code location (`pipelines/search_definitions.py`)."""

from contextlib import closing
from typing import Any

import dagster as dg

from pipelines import ingest
from pipelines import search_index as indexing
from pipelines.resources import OltpDatabaseResource, SearchIndexResource, SnapshotResource
from pipelines.settings import definition_settings

EVENT_INDEX = dg.AssetKey(["search", "event_index"])
# The index has one writer at a time (tantivy's lock; an alias swap on OpenSearch).
SEARCH_TAGS = {"tessera/search-index": "write"}


class EventIndexConfig(dg.Config):
    full: bool = True  # False: only what the outbox changed since the last sync


@dg.asset(
    key=EVENT_INDEX,
    deps=[dg.AssetKey("marts_snapshot")],
    group_name="search",
    description="Published, public, upcoming events in the search index (tantivy under "
    "TESSERA_SEARCH_DIR, or OpenSearch), with popularity from the published marts.",
    kinds={"tantivy"},
)
def event_index(
    context: dg.AssetExecutionContext,
    config: EventIndexConfig,
    oltp_database: OltpDatabaseResource,
    search_index: SearchIndexResource,
    snapshot: SnapshotResource,
) -> dg.MaterializeResult:  # type: ignore[type-arg]
    index_dir = search_index.resolved_path()
    metadata: dict[str, Any]
    with oltp_database.engine() as engine, closing(search_index.open()) as backend:
        if config.full:
            written = indexing.rebuild(
                engine, backend, index_dir=index_dir, snapshot_dir=snapshot.resolved_path()
            )
            metadata = {"mode": "full", "indexed": written}
        else:
            result = indexing.sync(
                engine, backend, index_dir=index_dir, snapshot_dir=snapshot.resolved_path()
            )
            metadata = {
                "mode": "sync",
                "indexed": result.indexed,
                "removed": result.removed,
                "outbox_rows_read": result.rows_read,
            }
        metadata["documents"] = backend.count()
    context.log.info(f"search index: {metadata}")
    return dg.MaterializeResult(metadata=metadata)


search_sync_job = dg.define_asset_job(
    "search_sync",
    selection=dg.AssetSelection.assets(event_index),
    description="Re-index the events the outbox changed since the last sync.",
    tags=SEARCH_TAGS,
    config={"ops": {"search__event_index": {"config": {"full": False}}}},
    executor_def=dg.in_process_executor,
)


search_rebuild_job = dg.define_asset_job(
    "search_rebuild",
    selection=dg.AssetSelection.assets(event_index),
    description="Rebuild the whole index from the OLTP database (searches see the old one "
    "until the new one is complete).",
    tags=SEARCH_TAGS,
    executor_def=dg.in_process_executor,
)


@dg.sensor(
    job=search_sync_job,
    minimum_interval_seconds=definition_settings().search_sensor_seconds,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts a sync when the outbox has rows past the index's cursor.",
)
def search_sensor(
    context: dg.SensorEvaluationContext,
    oltp_database: OltpDatabaseResource,
    search_index: SearchIndexResource,
) -> dg.SensorResult:
    with oltp_database.engine() as engine:
        if not indexing.pending(engine, search_index.resolved_path()):
            return dg.SensorResult(skip_reason="the index is up to date with the outbox")
        watermark = ingest.watermark(engine)
    if watermark == context.cursor:
        return dg.SensorResult(skip_reason="a sync for these rows was already requested")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=watermark)], cursor=watermark)


search_nightly = dg.ScheduleDefinition(
    job=search_rebuild_job,
    cron_schedule=definition_settings().search_nightly_cron,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

defs = dg.Definitions(
    assets=[event_index],
    jobs=[search_sync_job, search_rebuild_job],
    sensors=[search_sensor],
    schedules=[search_nightly],
)
