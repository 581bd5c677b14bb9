"""dbt models, seeds and tests as assets and asset checks, built into the configured warehouse."""

import json
from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines.defs.dbt.project import tessera_dbt_project
from pipelines.resources import WarehouseResource


@dbt_assets(manifest=tessera_dbt_project.manifest_path, project=tessera_dbt_project)
def tessera_dbt_assets(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    """Run `dbt build` against the warehouse Dagster is configured with, not dbt's default."""
    dbt_vars = json.dumps({"warehouse_path": str(warehouse.ensure_directory())})
    yield from dbt.cli(["build", "--vars", dbt_vars], context=context).stream()


defs = dg.Definitions(
    assets=[tessera_dbt_assets],
    resources={"dbt": DbtCliResource(project_dir=tessera_dbt_project)},
)
