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
def served(
    app: str, env: dict[str, str], *, workers: int = 2, tree: Path | None = None
) -> Iterator[str]:
    """Run `workers` uvicorn processes of `app` on one loopback port until the block ends;
    yields the base URL. With `tree` (a checkout of another commit, `other_commit`), the
    processes run that tree's code.

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
            cwd=tree or ROOT,
            env={**os.environ, **env} | ({"PYTHONPATH": str(tree)} if tree else {}),
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


@contextmanager
def other_commit(rev: str) -> Iterator[Path]:
    """A checkout of commit `rev` beside this one (a git worktree, removed afterwards), to serve
    as the baseline of a benchmark in the same run."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "baseline"
        subprocess.run(  # noqa: S603 - fixed arguments
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(tree), rev],  # noqa: S607
            check=True,
        )
        try:
            yield tree
        finally:
            subprocess.run(  # noqa: S603 - fixed arguments
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],  # noqa: S607
                check=False,
            )


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)
    statuses: dict[int, int]
    p95_ms: float | None = None
    max_ms: float | None = None
    without_retry_after: int = 0  # 429 and 503 answers that did not say when to come back

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
  io.write(string.format("RESULT %d %d %.3f %.3f %d %d %.3f %.3f\\n", summary.requests,
    summary.duration, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, latency:percentile(99) / 1000, latency.max / 1000))
  for _, thread in ipairs(threads) do
    local counts = thread:get("counts")
    if counts then
      for status, count in pairs(counts) do
        io.write(string.format("STATUS %s %d\\n", status, count))
      end
    end
  end
end
threads = {{}}
setup = function(thread) table.insert(threads, thread) end
"""

# Counts answers by status, and the 429 and 503 answers without Retry-After (as "bare").
_WRK_STATUSES = """
counts = {}
response = function(status, headers, body)
  local key = tostring(status)
  if (status == 429 or status == 503) and headers["Retry-After"] == nil
    and headers["retry-after"] == nil then key = key .. "-bare" end
  counts[key] = (counts[key] or 0) + 1
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

# Each request sends the next line's headers and body: the file's first line names the headers,
# each further line holds their values and then the body, separated by tabs.
_WRK_REQUESTS = """
local names, rows, count, at = nil, {}, 0, 0
for line in io.lines("REQUESTS") do
  local fields = {}
  for field in string.gmatch(line, "[^\\t]+") do fields[#fields + 1] = field end
  if names == nil then names = fields else count = count + 1; rows[count] = fields end
end
request = function()
  at = at % count + 1
  local row, headers = rows[at], {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  for i, name in ipairs(names) do headers[name] = row[i] end
  return wrk.format(nil, nil, headers, row[#names + 1])
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
    requests: tuple[list[str], list[list[str]]] | None = None,
    count_statuses: bool = False,
) -> LoadResult:
    """Drive the server with wrk (one thread, so it leaves the server its cores); stops by itself.
    With `bodies` (one line each), each request sends the next of them, in turn. With `pace_ms`,
    each connection waits that long after an answer before its next request (a door phone's
    next person), and latencies leave the wait out. With `requests` (header names, then rows of
    their values and a body), each request sends the next row, in turn. With `count_statuses`,
    answers are counted by status (slower for wrk: it reads every answer's headers).

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
        if requests:
            names, rows = requests
            lines.write("\n".join("\t".join(row) for row in [names, *rows]) + "\n")
            lines.flush()
            script += _WRK_REQUESTS.replace("REQUESTS", lines.name)
        if count_statuses:
            script += _WRK_STATUSES
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
    count, duration_us, p50, p95, bad_status, socket_errors, p99, longest = line.split()[1:]
    ok = int(count) - int(bad_status) - int(socket_errors)
    statuses = {200: ok, 0: int(bad_status) + int(socket_errors)}
    bare = 0
    if count_statuses:
        statuses = {0: int(socket_errors)}
        for status_line in (x for x in out.splitlines() if x.startswith("STATUS ")):
            key, found = status_line.split()[1:]
            code = int(key.removesuffix("-bare"))
            statuses[code] = statuses.get(code, 0) + int(found)
            bare += int(found) if key.endswith("-bare") else 0
    return LoadResult(
        requests=int(count),
        seconds=int(duration_us) / 1e6,
        latencies_ms=[float(p50), float(p95), float(p99)],
        statuses=statuses,
        p95_ms=float(p95),
        max_ms=float(longest),
        without_retry_after=bare,
    )
