"""Running the pipeline from tests: ingestion, every dbt model and test, the snapshot and the
reconciliation, against a test's own OLTP database, warehouse and snapshot directory."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import dagster as dg
import pytest

VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def pipeline() -> Iterator[ModuleType]:
    """The code location, imported as Dagster does, with dbt on PATH and telemetry off."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")
        mp.setenv("DO_NOT_TRACK", "1")
        yield importlib.import_module("pipelines.definitions")


def run_pipeline(database_url: str, tmp_path: Path) -> dg.ExecuteInProcessResult:
    """Everything the refresh job runs, with exports written to tmp_path/exports and the
    search index to tmp_path/search."""
    from dagster_dbt import DbtCliResource

    from pipelines.defs.dbt.definitions import tessera_dbt_assets
    from pipelines.defs.dbt.project import tessera_dbt_project
    from pipelines.defs.ingest.definitions import outbox_events
    from pipelines.defs.publish.definitions import (
        finance_exports,
        marts_snapshot,
        revenue_reconciles_with_oltp,
    )
    from pipelines.defs.search.definitions import event_index
    from pipelines.resources import (
        ExportsResource,
        OltpDatabaseResource,
        SearchIndexResource,
        SnapshotResource,
        WarehouseResource,
    )

    return dg.materialize(
        [
            outbox_events,
            tessera_dbt_assets,
            marts_snapshot,
            finance_exports,
            revenue_reconciles_with_oltp,
            event_index,
        ],
        resources={
            "dbt": DbtCliResource(
                project_dir=tessera_dbt_project, dbt_executable=str(VENV_BIN / "dbt")
            ),
            "warehouse": WarehouseResource(path=str(tmp_path / "warehouse.duckdb")),
            "oltp_database": OltpDatabaseResource(url=database_url),
            "snapshot": SnapshotResource(path=str(tmp_path / "snapshot")),
            "exports_dir": ExportsResource(path=str(tmp_path / "exports")),
            "search_index": SearchIndexResource(path=str(tmp_path / "search")),
        },
    )
