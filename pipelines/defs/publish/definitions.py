"""What turns the pipeline into a product: the marts published as a read-only snapshot after
each build, checks that the revenue reconciles with the OLTP database and that the data is
fresh, the refresh job a sensor starts when the outbox grows, and the nightly full rebuild."""

import dagster as dg
import duckdb

from contracts.snapshot import Build
from pipelines import exports, ingest, publish, reconcile
from pipelines.defs.dbt.definitions import tessera_dbt_assets
from pipelines.defs.ingest.definitions import outbox_retention
from pipelines.resources import (
    ExportsResource,
    OltpDatabaseResource,
    SnapshotResource,
    WarehouseResource,
)
from pipelines.settings import definition_settings


def freshness() -> dg.FreshnessPolicy:
    """Stale when no build has been published for this long (TESSERA_FRESHNESS_MINUTES, 5)."""
    window = definition_settings().freshness
    return dg.FreshnessPolicy.time_window(fail_window=window, warn_window=window / 2)


# Runs that write the warehouse take turns (DuckDB has one writer): see dagster.yaml.
WAREHOUSE_TAGS = {"tessera/warehouse": "write"}


def mart_keys() -> list[dg.AssetKey]:
    """Every dbt model under models/marts (dagster-dbt puts the schema in the key)."""
    return sorted(key for key in tessera_dbt_assets.keys if key.path[0] == "marts")


@dg.asset(
    deps=mart_keys(),
    group_name="publish",
    description="Every mart copied to Parquet and swapped in atomically under "
    "TESSERA_SNAPSHOT_DIR/current; dashboards and exports read only this.",
    kinds={"parquet"},
    freshness_policy=freshness(),
)
def marts_snapshot(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, snapshot: SnapshotResource
) -> dg.MaterializeResult:  # type: ignore[type-arg]
    with duckdb.connect(str(warehouse.resolved_path()), read_only=True) as connection:
        build = Build(publish.publish(connection, snapshot.resolved_path()))
    manifest = build.manifest()
    assert manifest is not None, "publish() writes the manifest"
    context.log.info(f"published {build.path}")
    return dg.MaterializeResult(
        metadata={"path": str(build.path), **{f"rows/{k}": v for k, v in manifest.tables.items()}}
    )


@dg.asset(
    deps=[marts_snapshot],
    group_name="publish",
    description="Finance reports (revenue by day, payouts, tax, invoice register) as CSV, XLSX "
    "and Parquet under TESSERA_EXPORTS_DIR (var/exports).",
    kinds={"csv", "parquet"},
)
def finance_exports(
    context: dg.AssetExecutionContext, snapshot: SnapshotResource, exports_dir: ExportsResource
) -> dg.MaterializeResult:  # type: ignore[type-arg]
    build = snapshot.current()
    if build is None:
        raise dg.Failure("no published snapshot to export")
    target = exports_dir.resolved_path()
    rows = exports.write_exports(build, target)
    context.log.info(f"wrote exports to {target}")
    return dg.MaterializeResult(
        metadata={"path": str(target), **{f"rows/{k}": v for k, v in rows.items()}}
    )


@dg.asset_check(
    asset=dg.AssetKey(["marts", "revenue_daily"]),
    description="Revenue in the marts equals payments minus refunds in the OLTP database, to "
    "the cent, per currency (over the payments whose latest change has landed).",
)
def revenue_reconciles_with_oltp(
    oltp_database: OltpDatabaseResource, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    with (
        oltp_database.engine() as engine,
        duckdb.connect(str(warehouse.resolved_path()), read_only=True) as connection,
    ):
        result = reconcile.reconcile(engine, connection)
    return dg.AssetCheckResult(
        passed=result.agrees,
        metadata=result.metadata(),
    )


refresh_job = dg.define_asset_job(
    "refresh",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(outbox_retention),
    description="Land new outbox rows, build the dbt models, publish the snapshot.",
    tags=WAREHOUSE_TAGS,
    # One process: the steps run one after another anyway (one DuckDB writer), and a process
    # per step would spend seconds importing Dagster and dbt again, which freshness pays for.
    executor_def=dg.in_process_executor,
)

nightly_job = dg.define_asset_job(
    "nightly_rebuild",
    selection=dg.AssetSelection.all(),
    description="Everything from scratch (dbt --full-refresh), then prune the outbox.",
    tags=WAREHOUSE_TAGS,
    config={"ops": {"tessera_dbt_assets": {"config": {"full_refresh": True}}}},
    executor_def=dg.in_process_executor,
)


@dg.sensor(
    job=refresh_job,
    minimum_interval_seconds=definition_settings().outbox_sensor_seconds,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts a refresh when the outbox has rows ingestion may take.",
)
def outbox_sensor(
    context: dg.SensorEvaluationContext, oltp_database: OltpDatabaseResource
) -> dg.SensorResult:
    with oltp_database.engine() as engine:
        watermark = ingest.watermark(engine)
    if watermark is None or watermark == context.cursor:
        return dg.SensorResult(skip_reason="nothing new in the outbox")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=watermark)], cursor=watermark)


nightly_schedule = dg.ScheduleDefinition(
    job=nightly_job,
    cron_schedule=definition_settings().nightly_cron,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

defs = dg.Definitions(
    assets=[marts_snapshot, finance_exports],
    asset_checks=[revenue_reconciles_with_oltp],
    jobs=[refresh_job, nightly_job],
    sensors=[outbox_sensor],
    schedules=[nightly_schedule],
)
