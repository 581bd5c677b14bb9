"""What the `tessera` commands need around the processes they start: the serving workers'
shared metrics directory, the helpers of `tessera up` (each in its own process group, its
output in var/log/), the search index brought up to date in process, and durations as people
read them."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import typer

from api.config import get_settings
from api.observability import MULTIPROCESS_ENV, multiprocess_dir


@contextlib.contextmanager
def shared_metrics(workers: int) -> Iterator[None]:
    """Give the workers an empty directory to share their metrics in, before they start.

    An operator's own PROMETHEUS_MULTIPROC_DIR is emptied of the last run's files; otherwise
    a fresh directory is made and removed afterwards.
    """
    configured = multiprocess_dir()
    if workers <= 1 and configured is None:
        yield
        return
    if configured is not None:
        directory = Path(configured)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        yield
        return
    directory = Path(tempfile.mkdtemp(prefix="tessera-metrics-"))
    os.environ[MULTIPROCESS_ENV] = str(directory)
    try:
        yield
    finally:
        del os.environ[MULTIPROCESS_ENV]
        shutil.rmtree(directory, ignore_errors=True)


def duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def index_catalogue() -> int:
    """Bring the search index up to date with the catalogue, in this process (what Dagster's
    search sensor does, once the UI is up), so the shop's pages list events from the start."""
    from pipelines import search_index
    from search.factory import make_backend

    settings = get_settings()
    backend = make_backend(
        settings.search_backend,
        index_dir=settings.search_dir,
        opensearch_url=settings.opensearch_url,
    )
    result = search_index.sync_database(
        settings.database_url,
        backend,
        index_dir=settings.search_dir,
        snapshot_dir=settings.snapshot_dir,
    )
    return result.indexed


def start_helper(
    name: str,
    command: list[str],
    logs: Path,
    *,
    env: dict[str, str] | None = None,
    progress_to_terminal: bool = False,
) -> subprocess.Popen[bytes]:
    """Start one of `tessera up`'s services in its own process group (so stopping it stops its
    children), its output in var/log/NAME.log (a progress report also in the terminal)."""
    log = (logs / f"{name}.log").open("ab")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and commands
        command,
        stdout=None if progress_to_terminal else log,
        stderr=log,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    log.close()  # the child holds its copy
    typer.echo(f"{f'[{name}]':<13}started (pid {process.pid}, var/log/{name}.log)")
    return process
