"""`tessera serve` as operators run it: a real server on loopback, its workers, its logs.

One server with two workers, shared by the tests, on a migrated SQLite file (the database
plays no part in what is checked here). Its trusted proxy is 127.0.0.2: the tests connect from
there as the proxy, and from 127.0.0.1, which uvicorn on its own would trust, as anyone else.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.migrate import upgrade

TESSERA = Path(sys.executable).parent / "tessera"
TOKEN = "serve-test-metrics-token-0123456789"
PROXY = "127.0.0.2"
STARTUP_SECONDS = 90  # two workers importing the app on a busy two-core machine


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    scratch: Path  # the server's TMPDIR

    def access(self) -> list[dict[str, Any]]:
        """The access log lines written so far, from every worker."""
        lines = []
        for line in self.log.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict) and record.get("logger") == "tessera.access":
                    lines.append(record)
        return lines

    def served(self, request_ids: set[str], timeout: float = 30) -> dict[str, dict[str, Any]]:
        """The access log line of each request, waiting (bounded) for the last to be written."""
        deadline = time.monotonic() + timeout
        while True:
            found = {r["request_id"]: r for r in self.access() if r["request_id"] in request_ids}
            if len(found) == len(request_ids):
                return found
            assert time.monotonic() < deadline, f"{len(request_ids) - len(found)} never logged"
            time.sleep(0.05)  # the worker writes the line right after it answers

    def request(
        self, method: str, path: str, *, via: str = "127.0.0.1", **kwargs: Any
    ) -> tuple[httpx.Response, str]:
        """One request from `via`, on a connection of its own (so any worker may take it),
        with an id to find it in the log."""
        request_id = uuid.uuid4().hex
        headers = {"X-Request-ID": request_id, **kwargs.pop("headers", {})}
        transport = httpx.HTTPTransport(local_address=via)
        with httpx.Client(base_url=self.url, timeout=30, transport=transport) as client:
            response = client.request(method, path, headers=headers, **kwargs)
        return response, request_id

    def get(self, path: str, **headers: str) -> tuple[httpx.Response, str]:
        return self.request("GET", path, headers=headers)

    def login(self, email: str, *, forwarded_for: str, via: str) -> tuple[httpx.Response, str]:
        return self.request(
            "POST",
            "/auth/login",
            via=via,
            json={"email": email, "password": "not-the-password"},
            headers={"X-Forwarded-For": forwarded_for},
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _serve(directory: Path, *, workers: int, **settings: str) -> Iterator[Server]:
    directory.mkdir(parents=True, exist_ok=True)
    database = f"sqlite+aiosqlite:///{directory / 'tessera.db'}"
    upgrade(database)
    scratch = directory / "tmp"
    scratch.mkdir()
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TESSERA_") and k.upper() != "PROMETHEUS_MULTIPROC_DIR"
    }
    env = {
        **inherited,
        "TMPDIR": str(scratch),
        "TESSERA_ENV": "test",
        "TESSERA_DATABASE_URL": database,
        "TESSERA_SECRET_KEY": "serve-test-secret-key-that-is-long-enough",
        "TESSERA_ARGON2_TIME_COST": "1",
        "TESSERA_ARGON2_MEMORY_KIB": "1024",
        "TESSERA_LOG_JSON": "true",
        "TESSERA_LOG_LEVEL": "INFO",
        **{f"TESSERA_{name.upper()}": value for name, value in settings.items()},
    }
    port = _free_port()
    command = [str(TESSERA), "serve", "--host", "127.0.0.1", "--port", str(port)]
    log = directory / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own command
            [*command, "--workers", str(workers)],
            cwd=directory,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log, scratch)
    try:
        _wait_until_healthy(server)
        yield server
    finally:
        _stop(process)


def _wait_until_healthy(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    with httpx.Client(timeout=5) as client:
        while time.monotonic() < deadline:
            assert server.process.poll() is None, server.log.read_text()[-3000:]
            with contextlib.suppress(httpx.TransportError):
                if client.get(f"{server.url}/health").status_code == 200:
                    return
            time.sleep(0.2)  # poll again: the server is still starting
    raise AssertionError(f"tessera serve did not come up: {server.log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()  # the supervisor stops its workers, then cleans up
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with _serve(
        tmp_path_factory.mktemp("serve"),
        workers=2,
        metrics_token=TOKEN,
        trusted_proxies=PROXY,
        rate_limit_login_ip="3/minute",
    ) as running:
        yield running
    # The workers' shared metrics directory went with the server.
    assert list(running.scratch.iterdir()) == []


def _ready_count(metrics_text: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics_text)
        for sample in family.samples
        if sample.name == "tessera_http_requests_total" and sample.labels["route"] == "/ready"
    )


def test_metrics_count_the_requests_of_every_worker(server: Server) -> None:
    sent: set[str] = set()
    deadline = time.monotonic() + 60
    while len({line["pid"] for line in server.served(sent).values()}) < 2:
        assert time.monotonic() < deadline, "the second worker never answered"
        for _ in range(10):
            response, request_id = server.get("/ready")
            assert response.status_code == 200
            sent.add(request_id)
    # Every answer is logged, so every worker has counted it: any worker's scrape sees all.
    scraped_by: set[int] = set()
    while len(scraped_by) < 2:
        assert time.monotonic() < deadline, "the second worker never answered /metrics"
        response, request_id = server.get("/metrics", Authorization=f"Bearer {TOKEN}")
        assert response.status_code == 200
        assert _ready_count(response.text) == len(sent)
        scraped_by.add(server.served({request_id})[request_id]["pid"])


def test_metrics_need_the_token(server: Server) -> None:
    response, _ = server.get("/metrics")
    assert response.status_code == 401
    wrong, _ = server.get("/metrics", Authorization="Bearer not-the-metrics-token")
    assert wrong.status_code == 401
    assert "tessera_http" not in response.text + wrong.text


def test_a_forged_forwarded_for_changes_nothing_from_an_untrusted_peer(server: Server) -> None:
    # Seven sign-ins from 127.0.0.1, each claiming another address: with a limit of 3 a
    # minute in each of the two workers, at least one of them must refuse.
    answers = [
        server.login(f"nobody{n}@example.com", forwarded_for=f"198.51.100.{n}", via="127.0.0.1")
        for n in range(1, 8)
    ]
    assert 429 in [response.status_code for response, _ in answers]
    logged = server.served({request_id for _, request_id in answers})
    assert {line["client"] for line in logged.values()} == {"127.0.0.1"}
    claimed_https, _ = server.get("/health", **{"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in claimed_https.headers
    assert claimed_https.headers["x-content-type-options"] == "nosniff"
    assert "server" not in claimed_https.headers


def test_a_trusted_proxy_names_the_client(server: Server) -> None:
    addresses = [f"198.51.100.{n}" for n in range(11, 18)]
    answers = [
        server.login(f"somebody{n}@example.com", forwarded_for=address, via=PROXY)
        for n, address in enumerate(addresses)
    ]
    assert [response.status_code for response, _ in answers] == [401] * 7
    logged = server.served({request_id for _, request_id in answers})
    assert [logged[request_id]["client"] for _, request_id in answers] == addresses
    # One client behind the proxy, even one that writes its own X-Forwarded-For, is limited
    # (seven tries: each worker counts its own three).
    repeated = [
        server.login(f"again{n}@example.com", forwarded_for=f"192.0.2.{n}, 203.0.113.99", via=PROXY)
        for n in range(7)
    ]
    assert 429 in [response.status_code for response, _ in repeated]
    logged = server.served({request_id for _, request_id in repeated})
    assert {line["client"] for line in logged.values()} == {"203.0.113.99"}
    https, _ = server.request("GET", "/health", via=PROXY, headers={"X-Forwarded-Proto": "https"})
    assert https.headers["strict-transport-security"] == "max-age=31536000"
