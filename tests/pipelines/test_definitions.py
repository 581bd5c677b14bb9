"""The Dagster code location loads, validates, and builds the dbt project into a warehouse."""

import csv
import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import dagster as dg
import duckdb
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
CURRENCIES_SEED = REPO_ROOT / "dbt_project" / "seeds" / "currencies.csv"

pytestmark = [
    # dagster_dbt imports sqlglot, which imports the deprecated sqlglotrs extension.
    pytest.mark.filterwarnings("ignore:sqlglotrs is deprecated:DeprecationWarning"),
    # dagster_dbt's own asset_utils still reads the deprecated AssetExecutionContext.op.
    pytest.mark.filterwarnings("ignore:AssetExecutionContext.op is deprecated:DeprecationWarning"),
]


def _path_with_venv_bin() -> str:
    return f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"


@pytest.fixture(scope="module")
def definitions() -> Iterator[ModuleType]:
    """Import the code location as Dagster does; imported here so the warning filters apply."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", _path_with_venv_bin())
        mp.setenv("DO_NOT_TRACK", "1")
        yield importlib.import_module("pipelines.definitions")


def test_dbt_seeds_models_and_tests_are_assets_and_checks(definitions: ModuleType) -> None:
    graph = definitions.defs.resolve_asset_graph()

    staged = dg.AssetKey(["staging", "stg_seeds__currencies"])
    assert {dg.AssetKey("currencies"), staged} <= graph.get_all_asset_keys()
    assert (
        dg.AssetCheckKey(staged, "unique_stg_seeds__currencies_currency_code")
        in graph.asset_check_keys
    )


def test_shared_resources_are_bound(definitions: ModuleType) -> None:
    dg.Definitions.validate_loadable(definitions.defs)

    assert {"dbt", "warehouse", "oltp_database"} <= set(definitions.defs.resources or {})


def test_dbt_assets_build_into_the_configured_warehouse(
    definitions: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster_dbt import DbtCliResource

    from pipelines.defs.dbt.definitions import tessera_dbt_assets
    from pipelines.defs.dbt.project import tessera_dbt_project
    from pipelines.resources import shared_resources

    warehouse = tmp_path / "not" / "yet" / "created" / "tessera.duckdb"
    monkeypatch.setenv("PATH", _path_with_venv_bin())
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt_target"))
    monkeypatch.setenv("TESSERA_WAREHOUSE_PATH", str(warehouse))

    result = dg.materialize(
        [tessera_dbt_assets],
        resources={**shared_resources(), "dbt": DbtCliResource(project_dir=tessera_dbt_project)},
    )

    assert result.success
    with CURRENCIES_SEED.open(newline="") as seed:
        seed_rows = len(list(csv.DictReader(seed)))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.sql("select count(*) from staging.stg_seeds__currencies").fetchall() == [
            (seed_rows,)
        ]


def test_workspace_passes_dagster_definitions_validate(tmp_path: Path) -> None:
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(dagster_home),
        "DO_NOT_TRACK": "1",
        "PATH": _path_with_venv_bin(),
    }

    result = subprocess.run(  # noqa: S603 - our venv's dagster
        [str(VENV_BIN / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout + result.stderr
