"""Resources shared by every pipeline domain, configured from TESSERA_ environment variables.

Each field is an `EnvVar` when its variable is set (resolved when a run starts, and named in the
UI) and its default otherwise. What Dagster needs before any resource exists (sensor intervals,
cron strings, the freshness window) is in `pipelines/settings.py`."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import dagster as dg
import sqlalchemy as sa
from pydantic import Field

from contracts.snapshot import Build
from pipelines.ingest import make_oltp_engine
from search.backend import SearchBackend
from search.factory import BackendKind, make_backend

DEFAULT_WAREHOUSE_PATH = "var/warehouse/tessera.duckdb"
DEFAULT_DATABASE_URL = "sqlite:///var/tessera.db"
DEFAULT_SNAPSHOT_DIR = "var/snapshot"
DEFAULT_EXPORTS_DIR = "var/exports"
DEFAULT_SEARCH_DIR = "var/search"
DEFAULT_RETENTION_DAYS = "7"


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

    @contextmanager
    def engine(self) -> Iterator[sa.Engine]:
        """A synchronous engine on the database, disposed of when the block ends."""
        engine = make_oltp_engine(self.url)
        try:
            yield engine
        finally:
            engine.dispose()


class OutboxRetentionResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """How long outbox rows stay in the OLTP database once the warehouse has landed them."""

    days: str = Field(
        default=DEFAULT_RETENTION_DAYS,
        description="Days, fractions allowed (text, so that an EnvVar can fill it).",
    )

    def window(self) -> timedelta:
        return timedelta(days=float(self.days))


class SnapshotResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Where the read-only snapshot of the marts is published (dashboards and exports)."""

    path: str = Field(default=DEFAULT_SNAPSHOT_DIR, description="Snapshot directory.")

    def resolved_path(self) -> Path:
        return Path(self.path).expanduser().absolute()

    def current(self) -> Build | None:
        """The published build, or None before the first one."""
        return Build.current(self.resolved_path())


class ExportsResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Where finance exports are written as files."""

    path: str = Field(default=DEFAULT_EXPORTS_DIR, description="Exports directory.")

    def resolved_path(self) -> Path:
        return Path(self.path).expanduser().absolute()


class SearchIndexResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The search index the API queries: tantivy files under `path`, or OpenSearch."""

    backend: str = Field(default="tantivy", description="tantivy or opensearch")
    path: str = Field(default=DEFAULT_SEARCH_DIR, description="Index directory (and cursor).")
    opensearch_url: str = Field(default="", description="OpenSearch URL for that backend.")
    alias: str = Field(default="tessera-events", description="OpenSearch index alias.")

    def resolved_path(self) -> Path:
        return Path(self.path).expanduser().absolute()

    def open(self) -> SearchBackend:
        kind: BackendKind = "opensearch" if self.backend == "opensearch" else "tantivy"
        return make_backend(
            kind,
            index_dir=self.resolved_path(),
            opensearch_url=self.opensearch_url or None,
            alias=self.alias,
        )


def shared_resources() -> dict[str, object]:
    """Resources every domain may request, bound once in pipelines.definitions."""
    return {
        "warehouse": WarehouseResource(
            path=env_or_default("TESSERA_WAREHOUSE_PATH", DEFAULT_WAREHOUSE_PATH)
        ),
        "oltp_database": OltpDatabaseResource(
            url=env_or_default("TESSERA_DATABASE_URL", DEFAULT_DATABASE_URL)
        ),
        "retention": OutboxRetentionResource(
            days=env_or_default("TESSERA_OUTBOX_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)
        ),
        "snapshot": SnapshotResource(
            path=env_or_default("TESSERA_SNAPSHOT_DIR", DEFAULT_SNAPSHOT_DIR)
        ),
        "exports_dir": ExportsResource(
            path=env_or_default("TESSERA_EXPORTS_DIR", DEFAULT_EXPORTS_DIR)
        ),
        "search_index": SearchIndexResource(
            backend=env_or_default("TESSERA_SEARCH_BACKEND", "tantivy"),
            path=env_or_default("TESSERA_SEARCH_DIR", DEFAULT_SEARCH_DIR),
            opensearch_url=env_or_default("TESSERA_OPENSEARCH_URL", ""),
            alias=env_or_default("TESSERA_OPENSEARCH_ALIAS", "tessera-events"),
        ),
    }
