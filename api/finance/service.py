"""Finance exports, read from the snapshot the data platform publishes (never the OLTP tables:
the reports are the marts, reconciled with the ledger before they are published). The reports
and the snapshot's layout are the data contracts (`contracts.reports`, `contracts.snapshot`)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

import polars as pl

from api.finance.errors import InvalidRange, SnapshotUnavailable, UnknownReport
from contracts.reports import REPORTS, Report
from contracts.snapshot import Build

__all__ = ["MEDIA_TYPES", "REPORTS", "Export", "ExportFormat", "Report", "export"]


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    parquet = "parquet"


MEDIA_TYPES = {
    ExportFormat.csv: "text/csv; charset=utf-8",
    ExportFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.parquet: "application/vnd.apache.parquet",
}


@dataclass(frozen=True)
class Export:
    content: bytes
    media_type: str
    filename: str
    rows: int
    built_at: str | None


def _build(snapshot_dir: Path) -> Build:
    build = Build.current(snapshot_dir)
    if build is None:
        raise SnapshotUnavailable(
            "No analytics snapshot has been published yet; the pipelines publish one after "
            "each build.",
            headers={"Retry-After": "60"},
        )
    return build


def export(
    snapshot_dir: Path,
    *,
    report: str,
    fmt: ExportFormat,
    start: date | None,
    end: date | None,
    organizer_id: str | None = None,
) -> Export:
    """One report of the published snapshot, within the dates (inclusive), as a file."""
    found = REPORTS.get(report)
    if found is None:
        raise UnknownReport(
            f"No report {report!r}; there are {', '.join(sorted(REPORTS))}.", field="report"
        )
    if start is not None and end is not None and start > end:
        raise InvalidRange("`from` is after `to`.", field="from")
    build = _build(snapshot_dir)
    frame = build.polars(found.mart)
    day = pl.col(found.date_column).cast(pl.Date)
    if start is not None:
        frame = frame.filter(day >= start)
    if end is not None:
        frame = frame.filter(day <= end)
    if organizer_id is not None:
        frame = frame.filter(pl.col("organizer_id") == organizer_id)
    out = io.BytesIO()
    if fmt == ExportFormat.csv:
        frame.write_csv(out)
    elif fmt == ExportFormat.parquet:
        frame.write_parquet(out)
    else:
        # Excel has no time zones: times go out as UTC.
        naive = frame.with_columns(
            pl.col(name).dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            for name, dtype in frame.schema.items()
            if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
        )
        naive.write_excel(out, worksheet=found.mart[:31])
    manifest = build.manifest()
    built_at = manifest.built_at if manifest is not None else None
    span = f"_{start or 'start'}_{end or 'end'}" if start or end else ""
    return Export(
        content=out.getvalue(),
        media_type=MEDIA_TYPES[fmt],
        filename=f"{report}{span}.{fmt.value}",
        rows=frame.height,
        built_at=built_at,
    )
