"""`dbt build` runs the whole project (seeds, models, data and unit tests) into a fresh DuckDB."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from pipelines.ingest import ensure_raw

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"


def test_dbt_build_loads_the_currencies_seed_and_staging_model(tmp_path: Path) -> None:
    warehouse = tmp_path / "tessera.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        ensure_raw(con)  # what ingestion lands; empty here
    env = {**os.environ, "TESSERA_WAREHOUSE_PATH": str(warehouse), "DO_NOT_TRACK": "1"}
    args = ["build", "--profiles-dir", ".", "--target-path", str(tmp_path / "target")]

    result = subprocess.run(  # noqa: S603
        [str(DBT), *args, "--log-path", str(tmp_path / "logs")],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    with (DBT_PROJECT_DIR / "seeds" / "currencies.csv").open(newline="") as seed:
        seed_rows = len(list(csv.DictReader(seed)))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.sql("select count(*) from currencies").fetchall() == [(seed_rows,)]
        assert con.sql("select count(*) from staging.stg_seeds__currencies").fetchall() == [
            (seed_rows,)
        ]
        assert con.sql(
            "select minor_units from staging.stg_seeds__currencies where currency_code = 'JPY'"
        ).fetchall() == [(0,)]
