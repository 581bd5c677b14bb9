"""Publish the marts as a read-only snapshot the dashboards and exports read.

DuckDB allows one writer or many readers of a file, never both, so readers never open the
warehouse: each successful build copies every mart to Parquet in a new directory under
`builds/`, writes a manifest, and then swaps the `current` symlink to it in one atomic rename.
A reader that resolved `current` before the swap keeps reading the previous build, which stays
until `keep` newer builds exist.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb

SCHEMA = "marts"


def current(snapshot_dir: Path) -> Path | None:
    """The published build readers should use, or None before the first one."""
    link = snapshot_dir / "current"
    return link.resolve() if link.exists() else None


def publish(warehouse: duckdb.DuckDBPyConnection, snapshot_dir: Path, *, keep: int = 3) -> Path:
    snapshot_dir = snapshot_dir.absolute()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    build = snapshot_dir / "builds" / stamp
    build.mkdir(parents=True)
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
        target = build / f"{table}.parquet"
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
    manifest = {"built_at": datetime.now(UTC).isoformat(), "tables": counts}
    (build / "manifest.json").write_text(json.dumps(manifest, indent=2))
    link = snapshot_dir / "current"
    staged = snapshot_dir / f".current-{stamp}"
    staged.symlink_to(build, target_is_directory=True)
    os.replace(staged, link)  # atomic: readers see the old build or the new, never neither
    for old in sorted((snapshot_dir / "builds").iterdir())[:-keep]:
        if old != build:
            shutil.rmtree(old, ignore_errors=True)
    return build
