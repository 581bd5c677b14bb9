"""Freshness: a paid booking committed through the API until it is visible in the published
marts, and an event published through the API until a search finds it, with the real moving
parts of `make up`: the API served by uvicorn, the Dagster daemon evaluating the sensors and
launching the runs, dbt, the snapshot swap and the search index sync.

Each marts run books and pays one ticket over HTTP, notes when the payment's answer came back
(the transaction has committed), and polls the published snapshot until that payment is in
`fct_payments`. The sensor ticks every TESSERA_PIPELINE_SENSOR_SECONDS, so a sale waits up to
one interval before a run starts: the spread of the figures is that phase. Correctness after
every run: the snapshot's net revenue equals paid minus refunded in the OLTP database. Each
search run publishes an event with a new word in its title and polls `GET /events?q=` for it
(the search sensor ticks every TESSERA_SEARCH_SENSOR_SECONDS, 5).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import sqlalchemy as sa

from api.db import make_engine, make_sessionmaker, utcnow
from api.events import service as events
from api.events.schemas import EventCreate, TicketTypeFields, Venue
from api.migrate import upgrade
from api.users import service as users
from bench.harness import ROOT, scratch_database, served
from demo.seed import DEMO_PASSWORD, seed_users
from pipelines import ingest, publish

VENV_BIN = Path(sys.executable).parent
BUYER = "attendee@tessera.example.com"
ORGANIZER = "organizer@tessera.example.com"
RUN_TIMEOUT_S = 300


async def _prepare(url: str) -> tuple[str, str]:
    """The demo accounts and one published event with a paid ticket type (their ids)."""
    from api.config import Settings

    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    await seed_users(sessions, Settings(database_url=url), count=20)
    async with sessions() as session:
        organizer = await users.get_by_email(session, email="organizer@tessera.example.com")
        assert organizer is not None
        start = utcnow() + timedelta(days=30)
        event = await events.create(
            session,
            organizer=organizer,
            data=EventCreate(
                title="Freshness test night",
                venue=Venue(name="Hall", city="Berlin", country="DE"),
                starts_at=start,
                ends_at=start + timedelta(hours=3),
                timezone="Europe/Berlin",
                capacity=1000,
                currency="EUR",
            ),
        )
        ticket = await events.add_ticket_type(
            session,
            event=event,
            data=TicketTypeFields(name="Standard", price_cents=2500, quantity=1000),
        )
        await events.publish(session, event=event)
        await session.commit()
        ids = (str(event.id), str(ticket.id))
    await engine.dispose()
    return ids


def _dagster_home(root: Path) -> Path:
    """The project's instance config with its storage moved under `root`."""
    home = root / "dagster_home"
    home.mkdir()
    config = (ROOT / "dagster_home" / "dagster.yaml").read_text()
    (home / "dagster.yaml").write_text(config.replace("base_dir: var/", f"base_dir: {root}/var/"))
    workspace = (ROOT / "workspace.yaml").read_text()
    (root / "workspace.yaml").write_text(
        workspace.replace("working_directory: .", f"working_directory: {ROOT}")
    )
    return home


@contextmanager
def _daemon(env: dict[str, str], root: Path) -> Iterator[None]:
    """`dagster-daemon run`: the sensor, the run queue and the launcher, as under `make up`."""
    log = (root / "daemon.log").open("w")
    process = subprocess.Popen(  # noqa: S603 - our venv's dagster-daemon
        [str(VENV_BIN / "dagster-daemon"), "run", "-w", str(root / "workspace.yaml")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _pay_one(base: str, event_id: str, ticket_id: str) -> str:
    """Book and pay one ticket as the demo attendee; returns the payment id once committed."""
    with httpx.Client(base_url=base, timeout=30) as client:
        login = client.post("/auth/login", json={"email": BUYER, "password": DEMO_PASSWORD})
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        booking = client.post(
            "/bookings",
            headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
            json={"event_id": event_id, "lines": [{"ticket_type_id": ticket_id, "quantity": 1}]},
        )
        booking.raise_for_status()
        payment = client.post(
            f"/bookings/{booking.json()['id']}/payments",
            headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
            json={"payment_method": "pm_card_visa"},
        )
        payment.raise_for_status()
        assert payment.json()["status"] == "succeeded", payment.text
        return str(payment.json()["id"])


def _publish_event(base: str, word: str) -> str:
    """As the demo organizer, create and publish an event titled with `word`; its id."""
    with httpx.Client(base_url=base, timeout=30) as client:
        login = client.post("/auth/login", json={"email": ORGANIZER, "password": DEMO_PASSWORD})
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        start = utcnow() + timedelta(days=20)
        created = client.post(
            "/events",
            headers=headers,
            json={
                "title": f"{word.title()} Night",
                "venue": {"name": "Hall", "city": "Berlin", "country": "DE"},
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=2)).isoformat(),
                "timezone": "Europe/Berlin",
                "capacity": 100,
                "currency": "EUR",
            },
        )
        created.raise_for_status()
        event_id = str(created.json()["id"])
        client.post(
            f"/events/{event_id}/ticket-types",
            headers=headers,
            json={"name": "Standard", "price_cents": 1000, "quantity": 100},
        ).raise_for_status()
        client.post(f"/events/{event_id}/publish", headers=headers).raise_for_status()
        return event_id


def _searchable(base: str, word: str, event_id: str) -> bool:
    found = httpx.get(f"{base}/events", params={"q": word}, timeout=30).json()
    return any(item["id"] == event_id for item in found["items"])


def _published(snapshot: Path, payment_id: str) -> bool:
    build = publish.current(snapshot)
    if build is None or not (build / "fct_payments.parquet").exists():
        return False
    with duckdb.connect() as reader:
        found = reader.execute(
            f"select count(*) from '{build / 'fct_payments.parquet'}' where payment_id = ?",  # noqa: S608 - paths of the published snapshot
            [payment_id],
        ).fetchall()
    return bool(found[0][0])


def _agrees(url: str, snapshot: Path) -> dict[str, int]:
    """Net revenue in the snapshot and paid minus refunded in the OLTP database."""
    engine = ingest.make_oltp_engine(url)
    try:
        with engine.connect() as connection:
            paid = connection.execute(
                sa.text("select coalesce(sum(amount_cents), 0) from payments where status = :s"),
                {"s": "succeeded"},
            ).scalar_one()
            refunded = connection.execute(
                sa.text("select coalesce(sum(amount_cents), 0) from refunds where status = :s"),
                {"s": "succeeded"},
            ).scalar_one()
    finally:
        engine.dispose()
    build = publish.current(snapshot)
    assert build is not None
    with duckdb.connect() as reader:
        marts = reader.execute(
            f"select coalesce(sum(net_cents), 0) from '{build / 'revenue_daily.parquet'}'"  # noqa: S608 - paths of the published snapshot
        ).fetchall()[0][0]
    return {"oltp_net_cents": int(paid) - int(refunded), "marts_net_cents": int(marts)}


def _stages(home: Path, job: str, sensor: str) -> dict[str, list[float]]:
    """How long each run of `job` that `sensor` started waited in the queue and then ran."""
    import dagster as dg

    stages: dict[str, list[float]] = {"queued_s": [], "running_s": []}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        records = instance.get_run_records(filters=dg.RunsFilter(job_name=job))
        for record in records:
            if record.dagster_run.tags.get("dagster/sensor_name") != sensor:
                continue  # the first build, started by hand
            if record.start_time is None or record.end_time is None:
                continue
            stages["queued_s"].append(record.start_time - record.create_timestamp.timestamp())
            stages["running_s"].append(record.end_time - record.start_time)
    return stages


def run(
    *, db: str, runs: int, seconds: int, concurrency: int, interval: int = 15
) -> dict[str, Any]:
    del seconds, concurrency  # one sale at a time: the figure is latency, not throughput
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        url, drop = scratch_database(db, root)
        try:
            upgrade(url)
            event_id, ticket_id = asyncio.run(_prepare(url))
            snapshot = root / "var" / "snapshot"
            env = {
                **os.environ,
                "DO_NOT_TRACK": "1",
                "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                "DAGSTER_HOME": str(_dagster_home(root)),
                "TESSERA_DATABASE_URL": url,
                "TESSERA_WAREHOUSE_PATH": str(root / "var" / "warehouse.duckdb"),
                "TESSERA_SNAPSHOT_DIR": str(snapshot),
                "TESSERA_EXPORTS_DIR": str(root / "var" / "exports"),
                "TESSERA_PIPELINE_SENSOR_SECONDS": str(interval),
                "TESSERA_SEARCH_DIR": str(root / "var" / "search"),
            }
            started = time.perf_counter()
            subprocess.run(  # noqa: S603 - the first build, as `make up` does before serving
                [str(VENV_BIN / "tessera"), "pipeline"],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            first_build_s = time.perf_counter() - started
            latencies: list[float] = []
            searchable: list[float] = []
            checks: list[dict[str, int]] = []
            api_env = {
                "TESSERA_DATABASE_URL": url,
                "TESSERA_LOG_LEVEL": "WARNING",
                "TESSERA_SEARCH_DIR": env["TESSERA_SEARCH_DIR"],
            }
            with served("api.main:app", api_env, workers=1) as base, _daemon(env, root):
                for _ in range(runs):
                    payment_id = _pay_one(base, event_id, ticket_id)
                    committed = time.perf_counter()
                    deadline = committed + RUN_TIMEOUT_S
                    while not _published(snapshot, payment_id):
                        if time.perf_counter() > deadline:
                            raise RuntimeError(f"payment not published in {RUN_TIMEOUT_S} s")
                        time.sleep(0.2)
                    latencies.append(time.perf_counter() - committed)
                    checks.append(_agrees(url, snapshot))
                for n in range(runs):
                    word = f"zebrafinch{n}x{uuid.uuid4().hex[:6]}"
                    event_id = _publish_event(base, word)
                    committed = time.perf_counter()
                    deadline = committed + RUN_TIMEOUT_S
                    while not _searchable(base, word, event_id):
                        if time.perf_counter() > deadline:
                            raise RuntimeError(f"event not searchable in {RUN_TIMEOUT_S} s")
                        time.sleep(0.1)
                    searchable.append(time.perf_counter() - committed)
            stages = _stages(Path(env["DAGSTER_HOME"]), "refresh", "outbox_sensor")
            syncs = _stages(Path(env["DAGSTER_HOME"]), "search_sync", "search_sensor")
        finally:
            if drop is not None:
                asyncio.run(drop())

    def spread(values: list[float]) -> dict[str, float]:
        return {
            "median": round(statistics.median(values), 1),
            "min": round(min(values), 1),
            "max": round(max(values), 1),
        }

    return {
        "bench": "freshness",
        "db": db,
        "runs": runs,
        "sensor_interval_s": interval,
        "first_build_s": round(first_build_s, 1),
        "commit_to_published_s": {**spread(latencies), "each": [round(x, 1) for x in latencies]},
        "published_to_searchable_s": {
            **spread(searchable),
            "each": [round(x, 1) for x in searchable],
        },
        "sensor_runs": len(stages["queued_s"]),
        "run_queued_to_started_s": spread(stages["queued_s"]),
        "run_started_to_ended_s": spread(stages["running_s"]),
        "search_syncs": len(syncs["queued_s"]),
        "search_sync_queued_to_started_s": spread(syncs["queued_s"] or [0.0]),
        "search_sync_started_to_ended_s": spread(syncs["running_s"] or [0.0]),
        "goal_s": 60,
        "correct": all(c["oltp_net_cents"] == c["marts_net_cents"] for c in checks),
        "checks": checks[-1],
    }
