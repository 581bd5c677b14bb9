"""The data platform at scale: a full dbt build (every model and test) plus the published
snapshot over synthetic outbox data (1M bookings by default), and a refresh after one new sale
on top of it (what a sensor-triggered run costs at that size).

Correctness is checked after each build: the marts' net revenue equals paid minus refunded in
the raw outbox rows, to the cent.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from pipelines import publish
from pipelines.synthetic import generate, one_more_sale

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"


def _dbt_build(warehouse: Path, target: Path, *, full_refresh: bool) -> float:
    args = [str(DBT), "build", "--profiles-dir", ".", "--target-path", str(target)]
    args += [
        "--log-path",
        str(target / "logs"),
        "--vars",
        json.dumps({"warehouse_path": str(warehouse)}),
    ]
    if full_refresh:
        args.append("--full-refresh")
    started = time.perf_counter()
    result = subprocess.run(  # noqa: S603 - our venv's dbt
        args,
        cwd=DBT_PROJECT,
        env={**os.environ, "DO_NOT_TRACK": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(result.stdout[-3000:])
    return elapsed


def _publish(warehouse: Path, snapshot: Path) -> float:
    started = time.perf_counter()
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        publish.publish(connection, snapshot)
    return time.perf_counter() - started


def _check(warehouse: Path) -> dict[str, Any]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        truth = connection.execute(
            "select coalesce(sum(case when event_type = 'payment.succeeded' then "
            "(payload->>'amount_cents')::bigint end), 0) - coalesce(sum(case when event_type = "
            "'refund.succeeded' then (payload->>'amount_cents')::bigint end), 0) "
            "from raw.outbox_events"
        ).fetchall()[0][0]
        marts = connection.execute("select sum(net_cents) from marts.revenue_daily").fetchall()
        payments = connection.execute("select count(*) from marts.fct_payments").fetchall()
    return {
        "raw_net_cents": int(truth),
        "marts_net_cents": int(marts[0][0] or 0),
        "agrees": int(truth) == int(marts[0][0] or 0),
        "payments": int(payments[0][0]),
    }


def run(
    *, db: str, runs: int, seconds: int, concurrency: int, bookings: int = 1_000_000
) -> dict[str, Any]:
    del db, seconds, concurrency  # the warehouse is DuckDB whatever the OLTP database
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        warehouse = root / "warehouse.duckdb"
        started = time.perf_counter()
        with duckdb.connect(str(warehouse)) as connection:
            generated = generate(connection, bookings=bookings)
        generate_s = time.perf_counter() - started
        full: list[float] = []
        publish_s: list[float] = []
        checks: list[dict[str, Any]] = []
        for _ in range(runs):
            full.append(_dbt_build(warehouse, root / "target", full_refresh=True))
            publish_s.append(_publish(warehouse, root / "snapshot"))
            checks.append(_check(warehouse))
        refresh: list[float] = []
        for _ in range(runs):
            with duckdb.connect(str(warehouse)) as connection:
                one_more_sale(connection)
            build = _dbt_build(warehouse, root / "target", full_refresh=False)
            refresh.append(build + _publish(warehouse, root / "snapshot"))
            checks.append(_check(warehouse))
        size_mb = warehouse.stat().st_size / 1e6

    def summary(values: list[float]) -> dict[str, float]:
        return {
            "median_s": round(statistics.median(values), 2),
            "min_s": round(min(values), 2),
            "max_s": round(max(values), 2),
        }

    totals = [a + b for a, b in zip(full, publish_s, strict=True)]
    return {
        "bench": "pipeline-build",
        "bookings": generated.bookings,
        "events": generated.events,
        "outbox_rows": generated.rows,
        "generate_s": round(generate_s, 2),
        "full_build_and_publish": summary(totals),
        "dbt_build": summary(full),
        "publish": summary(publish_s),
        "refresh_after_one_sale": summary(refresh),
        "warehouse_mb": round(size_mb, 1),
        "correct": all(check["agrees"] for check in checks),
        "checks": checks[-1],
    }
