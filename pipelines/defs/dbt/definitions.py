"""dbt models, seeds and tests as assets and asset checks, built into the configured warehouse."""

import json
from collections.abc import Iterator
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines import ingest
from pipelines.defs.dbt.project import tessera_dbt_project
from pipelines.resources import WarehouseResource


class DbtBuildConfig(dg.Config):
    full_refresh: bool = False  # rebuild incremental models from scratch (the nightly job)


@dbt_assets(manifest=tessera_dbt_project.manifest_path, project=tessera_dbt_project)
def tessera_dbt_assets(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: DbtBuildConfig,
) -> Iterator[Any]:
    """Run `dbt build` against the warehouse Dagster is configured with, not dbt's default.
    The raw tables exist before the first ingestion, so a build never fails for want of them."""
    path = warehouse.ensure_directory()
    with duckdb.connect(str(path)) as connection:
        ingest.ensure_raw(connection)
    dbt_vars = json.dumps({"warehouse_path": str(path)})
    args = ["build", "--vars", dbt_vars, *(["--full-refresh"] if config.full_refresh else [])]
    yield from dbt.cli(args, context=context).stream()


defs = dg.Definitions(
    assets=[tessera_dbt_assets],
    resources={"dbt": DbtCliResource(project_dir=tessera_dbt_project)},
)
