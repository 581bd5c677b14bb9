"""Publish the marts as a read-only snapshot the dashboards and exports read.

DuckDB allows one writer or many readers of a file, never both, so readers never open the
warehouse: each successful build copies every mart to Parquet in a new build directory, writes
a manifest, and then swaps `current` to it in one atomic rename (the layout and its reader are
the snapshot contract, `contracts.snapshot`). A reader that resolved `current` before the swap
keeps reading the previous build, which stays until `keep` newer builds exist.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from contracts import snapshot
from contracts.snapshot import current

__all__ = ["SCHEMA", "current", "publish"]

SCHEMA = "marts"


def publish(warehouse: duckdb.DuckDBPyConnection, snapshot_dir: Path, *, keep: int = 3) -> Path:
    snapshot_dir = snapshot_dir.absolute()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    build = snapshot.Build(snapshot.new_build(snapshot_dir, stamp))
    tables = [
        row[0]
        for row in warehouse.execute(
            "select table_name from information_schema.tables where table_schema = ? "
            "order by table_name",
            [SCHEMA],
        ).fetchall()
    ]
    counts: dict[str, int] = {}
    for table in tables:
        target = build.table_path(table)
        # Sums of BIGINT are HUGEINT in DuckDB, which Parquet would store as DOUBLE: money
        # must stay integer minor units, so they go out as BIGINT.
        wide = [
            row[0]
            for row in warehouse.execute(
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ? and data_type = 'HUGEINT'",
                [SCHEMA, table],
            ).fetchall()
        ]
        columns = (
            "* replace (" + ", ".join(f'cast("{c}" as bigint) as "{c}"' for c in wide) + ")"
            if wide
            else "*"
        )
        warehouse.execute(
            f"copy (select {columns} from {SCHEMA}.\"{table}\") to '{target}' (format parquet)"  # noqa: S608 - names of our own marts and paths
        )
        found = warehouse.execute(f'select count(*) from {SCHEMA}."{table}"').fetchall()  # noqa: S608 - names of our own marts and paths
        counts[table] = int(found[0][0])
    build.write_manifest(snapshot.Manifest(datetime.now(UTC).isoformat(), counts))
    snapshot.point_current_at(snapshot_dir, build.path)
    for old in snapshot.superseded(snapshot_dir, keep=keep):
        if old != build.path:
            shutil.rmtree(old, ignore_errors=True)
    return build.path
