"""The `tessera` command: composition of the API, worker and data platform."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

from api.config import get_settings
from api.db import make_engine, make_sessionmaker
from api.migrate import upgrade
from api.observability import configure_logging
from api.worker import run as run_worker
from demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, SeedResult, seed_demo, seed_history
from tessera.processes import duration, index_catalogue, shared_metrics, start_helper

app = typer.Typer(help="Tessera: event ticketing with an analytics-first data platform.")


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    settings = get_settings()
    upgrade(settings.database_url)
    typer.echo(f"database migrated: {settings.database_url.split('@')[-1]}")


@app.command()
def seed(
    users: Annotated[int, typer.Option(help="Demo users besides the four demo accounts")] = 200,
    events: Annotated[int, typer.Option(help="Demo events in the catalogue")] = 120,
    bookings: Annotated[
        int, typer.Option(help="Demo booking attempts over the months before each event")
    ] = 0,
) -> SeedResult:
    """Load demo users, events and their bookings through the service layer (once; a rerun
    does nothing)."""
    settings = get_settings()

    async def run() -> SeedResult:
        engine = make_engine(settings.database_url)
        try:
            return await seed_demo(
                make_sessionmaker(engine), settings, users=users, events=events, bookings=bookings
            )
        finally:
            await engine.dispose()

    result = asyncio.run(run())
    typer.echo(
        "demo data already present"
        if result.skipped
        else f"created {result.created} users and {result.events} events; "
        f"{result.bookings} bookings, {result.paid} paid; "
        f"{result.campaign_emails} emails of an A/B-tested announcement campaign"
    )
    return result


@app.command()
def history(
    bookings: Annotated[
        int, typer.Option(help="Demo booking attempts over the months before each event")
    ] = 15_000,
    then_build: Annotated[
        bool, typer.Option(help="Then build the marts and bring the search index up to date")
    ] = False,
) -> None:
    """Load the demo's months of activity over the catalogue `tessera seed` made: booking
    attempts with their views and payments, and an announcement campaign, showing progress.
    `tessera up` runs it behind the pages on the first start."""
    _dagster_environment()
    settings = get_settings()
    started = time.monotonic()

    def progress(done: int, planned: int) -> None:
        if done < 0:
            typer.echo("[history]    an A/B-tested announcement to the people who opted in")
            return
        if done == 0 or (done % 1000 and done != planned):
            return
        rate = done / max(time.monotonic() - started, 0.001)
        left = (planned - done) / rate if rate else 0
        typer.echo(
            f"[history]    {done:,} of {planned:,} booking attempts loaded"
            + (f", about {duration(left)} left" if done < planned else "")
        )

    async def run() -> SeedResult:
        engine = make_engine(settings.database_url)
        try:
            return await seed_history(
                make_sessionmaker(engine), settings, bookings=bookings, progress=progress
            )
        finally:
            await engine.dispose()

    result = asyncio.run(run())
    typer.echo(
        f"[history]    {result.bookings:,} bookings, {result.paid:,} paid, "
        f"{result.campaign_emails:,} campaign emails in {duration(time.monotonic() - started)}"
    )
    if then_build:
        typer.echo("[history]    building the marts and the search index")
        pipeline(job="refresh")
        pipeline(job="search_sync")
        typer.echo(f"[history]    the demo is complete in {duration(time.monotonic() - started)}")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    reload: bool = False,
    worker_healthcheck_timeout: Annotated[
        int,
        typer.Option(
            min=1,
            help="Seconds a worker may take to answer the supervisor before it is restarted "
            "(a worker starting up imports the whole app first)",
        ),
    ] = 30,
    shutdown_seconds: Annotated[
        int | None,
        typer.Option(help="Seconds open connections get to finish on stopping (default: all)"),
    ] = None,
) -> None:
    """Serve the API with uvicorn. Forwarding headers are believed only from
    TESSERA_TRUSTED_PROXIES (the app reads them, not uvicorn); with several workers, /metrics
    on any of them counts them all."""
    with shared_metrics(workers):
        uvicorn.run(
            "api.main:app",
            host=host,
            port=port,
            workers=workers,
            reload=reload,
            log_config=None,
            proxy_headers=False,  # uvicorn would trust X-Forwarded-For from 127.0.0.1
            server_header=False,
            timeout_worker_healthcheck=worker_healthcheck_timeout,
            timeout_graceful_shutdown=shutdown_seconds,
        )


@app.command()
def worker(
    interval: Annotated[float, typer.Option(help="Seconds between polls")] = 2.0,
    once: Annotated[bool, typer.Option(help="Deliver what is pending and stop")] = False,
    stop_with_parent: Annotated[
        bool, typer.Option(hidden=True, help="Stop when the process that started it ends")
    ] = False,
) -> None:
    """Refund cancelled paid bookings, expire lapsed holds (their seats go to the waitlist),
    announce reminders, mark ended events completed, let the payment sandbox settle later
    outcomes and deliver its webhooks, then send the notifications all that calls for (email,
    text, push, inbox; retried with backoff, dead-lettered when they cannot go)."""
    settings = get_settings()
    parent = os.getppid()
    configure_logging(settings.log_level, json=settings.log_json)

    def parent_ended() -> bool:
        """`tessera up` ended (however it was stopped)."""
        return stop_with_parent and os.getppid() != parent

    done = asyncio.run(run_worker(settings, interval=interval, once=once, should_stop=parent_ended))
    if once:
        notified = done.notified
        typer.echo(
            f"planned {notified.planned}, sent {notified.sent}, retrying "
            f"{notified.retrying}, dead-lettered {notified.dead} notification(s)"
        )
        typer.echo(f"completed {done.completed} ended event(s)")


@app.command()
def pipeline(
    job: Annotated[
        str, typer.Option(help="refresh, nightly_rebuild, search_sync or search_rebuild")
    ] = "refresh",
) -> None:
    """Run a data-platform job once, in this process: land the outbox, build the marts,
    publish the snapshot and the finance exports. The run shows in the Dagster UI."""
    _dagster_environment()
    import dagster as dg

    if job.startswith("search_"):
        from pipelines.search_definitions import defs
    else:
        from pipelines.definitions import defs

    with dg.DagsterInstance.get() as instance:
        result = defs.resolve_job_def(job).execute_in_process(instance=instance)
    failed = [
        check.check_name for check in result.get_asset_check_evaluations() if not check.passed
    ]
    typer.echo(f"{job}: {'succeeded' if result.success else 'FAILED'}")
    if failed:
        typer.echo(f"checks that did not pass: {', '.join(failed)}")
    if not result.success:
        raise typer.Exit(1)


def _dagster_environment() -> None:
    """Dagster's instance lives in dagster_home/ (telemetry off; storage under var/)."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("DAGSTER_HOME", str(Path("dagster_home").absolute()))
    venv_bin = str(Path(sys.executable).parent)
    if venv_bin not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = venv_bin + os.pathsep + os.environ.get("PATH", "")


@app.command()
def bench(
    name: Annotated[
        str,
        typer.Argument(
            help="Which benchmark: auth, door, flash-sale, pages, pipeline-build, freshness "
            "or search"
        ),
    ],
    db: Annotated[str, typer.Option(help="sqlite or postgres")] = "sqlite",
    runs: Annotated[int, typer.Option(min=1)] = 3,
    seconds: Annotated[int, typer.Option(min=1, help="Seconds of load per scenario and run")] = 5,
    concurrency: Annotated[int, typer.Option(min=1)] = 32,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line")] = False,
    bookings: Annotated[
        int, typer.Option(min=1, help="pipeline-build: synthetic bookings")
    ] = 1_000_000,
    interval: Annotated[
        int, typer.Option(min=1, help="freshness: the outbox sensor's interval in seconds")
    ] = 15,
    events: Annotated[int, typer.Option(min=1, help="search: synthetic events indexed")] = 100_000,
    baseline: Annotated[
        str | None,
        typer.Option(help="flash-sale: also serve this commit's app beside, as the baseline"),
    ] = None,
) -> None:
    """Run a benchmark from bench/ (see docs/benchmarks.md)."""
    import json
    from functools import partial

    from bench import auth, door, flash_sale, freshness, pages, pipeline_build, search

    benchmarks: dict[str, Callable[..., dict[str, Any]]] = {
        "auth": auth.run,
        "door": door.run,
        "flash-sale": partial(flash_sale.run, baseline=baseline),
        "pages": pages.run,
        "pipeline-build": partial(pipeline_build.run, bookings=bookings),
        "freshness": partial(freshness.run, interval=interval),
        "search": partial(search.run, events=events),
    }
    if name not in benchmarks:
        raise typer.BadParameter(f"unknown benchmark {name!r}; choose from {sorted(benchmarks)}")
    result = benchmarks[name](db=db, runs=runs, seconds=seconds, concurrency=concurrency)
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(f"{name} on {db}, {runs} runs, {concurrency} connections:")
    for row in result.get("results", []):
        typer.echo(
            f"  {row['name']:<24} {row['req_per_s_median']:>8} req/s "
            f"(min {row['req_per_s_min']}, max {row['req_per_s_max']}), "
            f"p95 {row['p95_ms_median']} ms, statuses {row['statuses']}"
        )
    for key, value in result.items():
        if key in ("results", "bench", "db", "runs", "concurrency"):
            continue
        if isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()):
            typer.echo(f"  {key}:")
            for inner, found in value.items():
                typer.echo(f"    {inner}: {found}")
        else:
            typer.echo(f"  {key}: {value}")


@app.command()
def up(
    host: str = "127.0.0.1",
    port: int = 8000,
    users: Annotated[int, typer.Option(help="Demo users to load on first start")] = 2000,
    events: Annotated[int, typer.Option(help="Demo events to load on first start")] = 150,
    bookings: Annotated[
        int, typer.Option(help="Demo booking attempts to load on first start")
    ] = 3_000,
    dagster_port: int = 3000,
    dashboards_port: int = 8501,
) -> None:
    """Migrate, load the demo, and serve everything: the API and the pages, the worker, the
    Dagster UI and the dashboards. On the first start the pages answer as soon as the people
    and events are in; the months of bookings load behind them, with progress, and the marts
    and the search index follow. Output of the helpers goes to var/log/. Ctrl-C stops all."""
    _dagster_environment()
    began = time.monotonic()
    os.environ.setdefault("TESSERA_LOG_LEVEL", "WARNING")  # no access log in the terminal
    typer.echo("[tessera]    migrating the database")
    upgrade(get_settings().database_url)
    typer.echo("[tessera]    loading the demo's people and events")
    base = seed(users=users, events=events, bookings=0)
    typer.echo(f"[search]     {index_catalogue():,} events indexed")
    logs = Path("var/log")
    logs.mkdir(parents=True, exist_ok=True)
    base_url = f"http://{host}:{port}"
    typer.echo(
        f"\nTessera is starting ({duration(time.monotonic() - began)} so far):\n"
        f"  Shop (pages)   {base_url}/   (sign in with a demo account below)\n"
        f"  API            {base_url}/docs\n"
        f"  Dagster UI     http://{host}:{dagster_port}"
        + ("  (once the history is in)\n" if not base.skipped else "\n")
        + f"  Dashboards     http://{host}:{dashboards_port}\n"
        "\nDemo accounts (password: "
        + DEMO_PASSWORD
        + "):\n"
        + "".join(f"  {role.value:<10} {email}\n" for email, _, role in DEMO_ACCOUNTS)
        + "\nMail goes to var/mail/*.eml, text messages to var/sms/; "
        "the services' own output to var/log/.\n"
    )
    bin_dir = Path(sys.executable).parent
    # The dashboards sign people in through this API (0.0.0.0 listens; it is not an address).
    api_url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"  # noqa: S104 - compared, not bound
    ours = [sys.executable, "-c", "from tessera.cli import app; app()"]
    stopping = threading.Event()
    worker = [*ours, "worker", "--stop-with-parent"]
    dagster = [
        *(str(bin_dir / "dagster"), "dev", "-w", "workspace.yaml"),
        *("-h", host, "-p", str(dagster_port)),
    ]
    helpers = [
        start_helper(
            "dashboards",
            [
                *(str(bin_dir / "streamlit"), "run", "dashboards/app.py"),
                *("--server.address", host, "--server.port", str(dashboards_port)),
                *("--server.headless", "true", "--browser.gatherUsageStats", "false"),
                *("--client.toolbarMode", "viewer"),
            ],
            logs,
            env={"TESSERA_API_URL": api_url},
        ),
    ]
    if base.skipped:
        helpers += [start_helper("worker", worker, logs), start_helper("dagster", dagster, logs)]
    else:
        # The first start: the history loads behind the pages, then the marts are built once.
        # The worker starts after it, so the months of demo bookings are not mailed (their
        # latest confirmations are); Dagster too, so its sensors do not rebuild the marts over
        # and over on the two cores the history needs.
        history = start_helper(
            "history",
            [*ours, "history", "--bookings", str(bookings), "--then-build"],
            logs,
            progress_to_terminal=True,
        )
        helpers.append(history)

        def after_history() -> None:
            history.wait()
            if not stopping.is_set():
                helpers.append(start_helper("worker", worker, logs))
                helpers.append(start_helper("dagster", dagster, logs))

        threading.Thread(target=after_history, daemon=True).start()
    typer.echo(f"[api]        serving on {base_url} (Ctrl-C stops everything)")
    try:
        serve(host=host, port=port, shutdown_seconds=3)
    finally:
        stopping.set()
        typer.echo("[tessera]    stopping")
        for helper in helpers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(helper.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        for helper in helpers:
            try:
                helper.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(helper.pid, signal.SIGKILL)
