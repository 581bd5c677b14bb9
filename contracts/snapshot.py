"""The published snapshot of the marts: how the pipelines lay it out and how everyone reads it.

    <snapshot dir>/builds/<stamp>/<mart>.parquet   one file per mart
    <snapshot dir>/builds/<stamp>/manifest.json    when it was built, rows per mart
    <snapshot dir>/current -> builds/<stamp>       the published build

A build never changes once `current` points at it, and `current` is swapped in one atomic
rename, so a reader that resolved it keeps a whole build, old or new, never half of one.
Readers resolve `current` once (`Build.current`) and read every table of that build.

pyarrow, polars and pandas are imported when a table is read, so importing this costs little.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

CURRENT = "current"
BUILDS = "builds"
MANIFEST = "manifest.json"
CURRENCIES = "dim_currencies"  # currency_code -> minor_units

# Marts that belong to no one (reference data): whoever reads the snapshot may read them whole.
REFERENCE_TABLES = frozenset({CURRENCIES})
# Columns that name or identify a person (a buyer, a customer): only readers allowed to see
# personal data get them.
PERSONAL_COLUMNS = frozenset({"user_id", "buyer_name", "buyer_email"})


def table_file(name: str) -> str:
    return f"{name}.parquet"


@dataclass(frozen=True)
class Manifest:
    built_at: str | None  # ISO 8601, UTC
    tables: dict[str, int] = field(default_factory=dict)  # mart -> rows

    def as_dict(self) -> dict[str, Any]:
        return {"built_at": self.built_at, "tables": dict(self.tables)}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        return cls(
            data.get("built_at"), {str(k): int(v) for k, v in data.get("tables", {}).items()}
        )


def current(snapshot_dir: Path) -> Path | None:
    """The published build readers should use, or None before the first one."""
    link = snapshot_dir / CURRENT
    return link.resolve() if link.exists() else None


def new_build(snapshot_dir: Path, stamp: str) -> Path:
    """A fresh build directory, unseen by readers until `point_current_at` it."""
    build = snapshot_dir / BUILDS / stamp
    build.mkdir(parents=True)
    return build


def point_current_at(snapshot_dir: Path, build: Path) -> None:
    """Publish `build` (its tables and manifest written): readers see the old build or the
    new, never neither."""
    staged = snapshot_dir / f".{CURRENT}-{build.name}"
    staged.symlink_to(build, target_is_directory=True)
    os.replace(staged, snapshot_dir / CURRENT)


def superseded(snapshot_dir: Path, *, keep: int) -> list[Path]:
    """Builds older than the newest `keep` (readers that resolved one a while ago may still
    be reading it, so some are kept)."""
    return sorted((snapshot_dir / BUILDS).iterdir())[:-keep]


@dataclass(frozen=True)
class Build:
    """One published build."""

    path: Path

    @classmethod
    def current(cls, snapshot_dir: Path) -> Build | None:
        found = current(snapshot_dir)
        return cls(found) if found is not None else None

    def manifest(self) -> Manifest | None:
        path = self.path / MANIFEST
        return Manifest.from_json(path.read_text()) if path.exists() else None

    def write_manifest(self, manifest: Manifest) -> None:
        (self.path / MANIFEST).write_text(manifest.to_json())

    def table_path(self, name: str) -> Path:
        return self.path / table_file(name)

    def has(self, name: str) -> bool:
        return self.table_path(name).exists()

    def arrow(self, name: str, columns: list[str] | None = None) -> Any:
        """A mart as a pyarrow Table."""
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        return pq.read_table(self.table_path(name), columns=columns)

    def polars(self, name: str) -> pl.DataFrame:
        """A mart as a polars DataFrame."""
        import polars as pl

        return pl.read_parquet(self.table_path(name))

    def pandas(self, name: str) -> Any:
        """A mart as a pandas DataFrame."""
        import pandas as pd  # type: ignore[import-untyped]

        return pd.read_parquet(self.table_path(name))

    def minor_units(self) -> dict[str, int]:
        """Digits after the decimal point per currency (yen 0, dinar 3), as the marts say."""
        if not self.has(CURRENCIES):
            return {}
        table = self.arrow(CURRENCIES, columns=["currency_code", "minor_units"]).to_pydict()
        return {
            str(code): int(units)
            for code, units in zip(table["currency_code"], table["minor_units"], strict=True)
        }
