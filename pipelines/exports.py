"""Finance exports as files: each report of the published snapshot as CSV, XLSX and Parquet
under the exports directory, each file replaced atomically (written aside, then renamed)."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from contracts.reports import REPORTS
from contracts.snapshot import Build


def _excel_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """Excel has no time zones: times go out as UTC."""
    return frame.with_columns(
        pl.col(name).dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    )


def write_exports(build: Build, exports_dir: Path) -> dict[str, int]:
    """Write every report of this build; returns rows per report."""
    exports_dir.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    for report in REPORTS.values():
        frame = build.polars(report.mart)
        rows[report.name] = frame.height
        for suffix in ("csv", "xlsx", "parquet"):
            final = exports_dir / f"{report.name}.{suffix}"
            staged = exports_dir / f".{report.name}.{suffix}.partial"
            if suffix == "csv":
                frame.write_csv(staged)
            elif suffix == "parquet":
                frame.write_parquet(staged)
            else:
                _excel_ready(frame).write_excel(staged, worksheet=report.mart[:31])
            os.replace(staged, final)
    return rows
