"""Serve an app in a subprocess, drive it with a light asyncio client, summarise the runs."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def scratch_database(kind: str, workdir: Path) -> tuple[str, Any]:
    """A database for one run: a SQLite file in `workdir`, or a fresh PostgreSQL database
    (TESSERA_BENCH_POSTGRES) with the function that drops it."""
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{workdir / 'bench.db'}", None
    name = f"tessera_bench_{uuid.uuid4().hex[:8]}"
    base = os.environ.get("TESSERA_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")

    async def create() -> None:
        connection = await asyncpg.connect(f"{base}/postgres")
        await connection.execute(f'CREATE DATABASE "{name}"')
        await connection.close()

    async def drop() -> None:
        connection = await asyncpg.connect(f"{base}/postgres")
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()

    asyncio.run(create())
    url = base.replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    return url, drop


@contextmanager
def served(app: str, env: dict[str, str], *, workers: int = 2) -> Iterator[str]:
    """Run `workers` uvicorn processes of `app` on one loopback port until the block ends;
    yields the base URL.

    Each process gets its own listening socket on the port (SO_REUSEPORT), so the kernel spreads
    connections over them. With `uvicorn --workers N` the processes share one socket, and the
    first to wake accepts every pending connection: a load generator that opens its keep-alive
    connections at once then drives a single worker.
    """
    port = free_port()
    sockets = [_listening_socket(port) for _ in range(workers)]
    processes = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "bench.serve", app, str(sock.fileno())],
            cwd=ROOT,
            env={**os.environ, **env},
            pass_fds=(sock.fileno(),),
        )
        for sock in sockets
    ]
    for sock in sockets:
        sock.close()  # the children hold their copies
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        streak = 0  # fresh connections land on any process: wait until all of them answer
        while streak < 8 * workers:
            try:
                ok = httpx.get(f"{base}/health", timeout=1).status_code == 200
                streak = streak + 1 if ok else 0
            except httpx.TransportError:
                streak = 0
            if any(p.poll() is not None for p in processes) or time.monotonic() > deadline:
                raise RuntimeError(f"{app} did not start")
            time.sleep(0.1)
        yield base
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)
    statuses: dict[int, int]
    p95_ms: float | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        if p == 95 and self.p95_ms is not None:
            return self.p95_ms
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


MakeRequest = Callable[[httpx.AsyncClient, int], Any]


async def _drive(base: str, make: MakeRequest, *, requests: int, concurrency: int) -> LoadResult:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = iter(range(requests))
    # One client (one keep-alive connection) per worker: a shared httpx pool serialises on
    # its own lock and, at 32 connections, measures itself rather than the server.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=base, limits=limits, timeout=30) for _ in range(concurrency)
    ]

    async def worker(client: httpx.AsyncClient) -> None:
        for index in counter:
            started = time.perf_counter()
            response = await make(client, index)
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    try:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for client in clients))
        elapsed = time.perf_counter() - started
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return LoadResult(requests, elapsed, latencies, statuses)


def load(base: str, make: MakeRequest, *, requests: int, concurrency: int) -> LoadResult:
    """Send exactly `requests` requests over `concurrency` connections; stops by itself."""
    return asyncio.run(_drive(base, make, requests=requests, concurrency=concurrency))


@dataclass
class Summary:
    name: str
    rates: list[float]
    p95s: list[float]
    statuses: dict[int, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "req_per_s_median": round(statistics.median(self.rates), 1),
            "req_per_s_min": round(min(self.rates), 1),
            "req_per_s_max": round(max(self.rates), 1),
            "p95_ms_median": round(statistics.median(self.p95s), 1),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


def summarise(name: str, results: list[LoadResult]) -> Summary:
    statuses: dict[int, int] = {}
    for result in results:
        for code, count in result.statuses.items():
            statuses[code] = statuses.get(code, 0) + count
    return Summary(name, [r.rate for r in results], [r.percentile(95) for r in results], statuses)


_WRK_SCRIPT = """
wrk.method = "{method}"
wrk.body = {body}
{headers}
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %.3f %.3f %d %d %.3f\\n", summary.requests,
    summary.duration, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, latency:percentile(99) / 1000))
end
"""

# Each request sends the next line of a file as its body.
_WRK_BODIES = """
local bodies, count, at = {}, 0, 0
for line in io.lines("BODIES") do count = count + 1; bodies[count] = line end
request = function()
  at = at % count + 1
  return wrk.format(nil, nil, nil, bodies[at])
end
"""


def wrk_load(
    base: str,
    path: str,
    *,
    seconds: int,
    connections: int,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: str | None = None,
    bodies: list[str] | None = None,
    pace_ms: int | None = None,
) -> LoadResult:
    """Drive the server with wrk (one thread, so it leaves the server its cores); stops by itself.
    With `bodies` (one line each), each request sends the next of them, in turn. With `pace_ms`,
    each connection waits that long after an answer before its next request (a door phone's
    next person), and latencies leave the wait out.

    Only the summary is kept: the latency list holds the median and p95 wrk computed.
    """
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("this benchmark needs wrk: apt-get install wrk")
    header_lines = "\n".join(
        f'wrk.headers["{name}"] = "{value}"' for name, value in (headers or {}).items()
    )
    script = _WRK_SCRIPT.format(
        method=method, body="nil" if body is None else repr(body), headers=header_lines
    )
    with (
        tempfile.NamedTemporaryFile("w", suffix=".lua") as lua,
        tempfile.NamedTemporaryFile("w", suffix=".txt") as lines,
    ):
        if bodies:
            lines.write("\n".join(bodies) + "\n")
            lines.flush()
            script += _WRK_BODIES.replace("BODIES", lines.name)
        if pace_ms is not None:
            script += f"delay = function() return {int(pace_ms)} end\n"
        lua.write(script)
        lua.flush()
        out = subprocess.run(  # noqa: S603 - fixed arguments
            [
                wrk,
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "30s",
                "-s",
                lua.name,
                f"{base}{path}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    count, duration_us, p50, p95, bad_status, socket_errors, p99 = line.split()[1:]
    ok = int(count) - int(bad_status) - int(socket_errors)
    return LoadResult(
        requests=int(count),
        seconds=int(duration_us) / 1e6,
        latencies_ms=[float(p50), float(p95), float(p99)],
        statuses={200: ok, 0: int(bad_status) + int(socket_errors)},
        p95_ms=float(p95),
    )
