"""Resources shared by every pipeline domain, configured from TESSERA_ environment variables."""

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

DEFAULT_WAREHOUSE_PATH = "var/warehouse/tessera.duckdb"
DEFAULT_DATABASE_URL = "sqlite:///var/tessera.db"
DEFAULT_SNAPSHOT_DIR = "var/snapshot"
DEFAULT_EXPORTS_DIR = "var/exports"


def env_or_default(name: str, default: str) -> str:
    """Return an EnvVar (resolved lazily, named in the UI) when it is set, else the default."""
    return dg.EnvVar(name) if name in os.environ else default


class WarehouseResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The DuckDB warehouse file, written only by pipelines."""

    path: str = Field(
        default=DEFAULT_WAREHOUSE_PATH,
        description="DuckDB file; a relative path resolves from the working directory.",
    )

    def resolved_path(self) -> Path:
        """Absolute path of the DuckDB file."""
        return Path(self.path).expanduser().absolute()

    def ensure_directory(self) -> Path:
        """Create the file's directory (DuckDB will not) and return the absolute path."""
        path = self.resolved_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        return path


class OltpDatabaseResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The transactional database that ingestion reads over SQL (never through api/)."""

    url: str = Field(default=DEFAULT_DATABASE_URL, description="SQLAlchemy database URL.")


class SnapshotResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Where the read-only snapshot of the marts is published (dashboards and exports)."""

    path: str = Field(default=DEFAULT_SNAPSHOT_DIR, description="Snapshot directory.")

    def resolved_path(self) -> Path:
        return Path(self.path).expanduser().absolute()


class ExportsResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Where finance exports are written as files."""

    path: str = Field(default=DEFAULT_EXPORTS_DIR, description="Exports directory.")

    def resolved_path(self) -> Path:
        return Path(self.path).expanduser().absolute()


def shared_resources() -> dict[str, object]:
    """Resources every domain may request, bound once in pipelines.definitions."""
    return {
        "warehouse": WarehouseResource(
            path=env_or_default("TESSERA_WAREHOUSE_PATH", DEFAULT_WAREHOUSE_PATH)
        ),
        "oltp_database": OltpDatabaseResource(
            url=env_or_default("TESSERA_DATABASE_URL", DEFAULT_DATABASE_URL)
        ),
        "snapshot": SnapshotResource(
            path=env_or_default("TESSERA_SNAPSHOT_DIR", DEFAULT_SNAPSHOT_DIR)
        ),
        "exports_dir": ExportsResource(
            path=env_or_default("TESSERA_EXPORTS_DIR", DEFAULT_EXPORTS_DIR)
        ),
    }
