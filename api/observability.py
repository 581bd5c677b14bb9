"""Request ids, structured JSON logs and Prometheus metrics."""

from __future__ import annotations

import atexit
import logging
import os
import re
import sys
import time
import uuid
from contextvars import ContextVar

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")
access_log = logging.getLogger("tessera.access")


def current_request_id() -> str | None:
    return _request_id.get()


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    """Send every log line to stderr, as JSON with the request id when `json` is set."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestIdFilter())
    if json:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(process)d",
                rename_fields={
                    "asctime": "time",
                    "levelname": "level",
                    "name": "logger",
                    "process": "pid",
                },
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    handler.set_name("tessera")
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if h.get_name() != "tessera"] + [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = name != "uvicorn.access"


MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    """Where the worker processes of one server share their metrics, when there are several.

    prometheus_client decides at import whether values live in memory or in files there, so
    the variable is set before the workers start (`tessera serve --workers N` does).
    """
    return os.environ.get(MULTIPROCESS_ENV) or os.environ.get(MULTIPROCESS_ENV.lower())


class Metrics:
    """Request counts and latency. One process: the app's own registry, so several apps in
    one process never clash. Several workers: every worker's files, summed at each scrape."""

    def __init__(self) -> None:
        self.multiprocess_dir = multiprocess_dir()
        # In multiprocess mode the metrics live in files and are read back by a collector;
        # registering them too would export them twice.
        self.registry = CollectorRegistry()
        registry = None if self.multiprocess_dir else self.registry
        self.requests = Counter(
            "tessera_http_requests",
            "HTTP requests by route template, method and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "tessera_http_request_duration_seconds",
            "HTTP request latency by route template, method and status.",
            ["method", "route", "status"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
        self.express_requests = Counter(
            "tessera_express_requests",
            "Bookings and door scans by what the express path (api/bookings/express.py) did: "
            "done; busy (a lock waited too long: 503); handed on to the readable route "
            "(refused, replayed, sold out, changed, a repeat scan, not its kind).",
            ["route", "outcome"],
            registry=registry,
        )
        if self.multiprocess_dir:
            # A worker that ends hands back its live-gauge files (none today; any gauge
            # added here needs a multiprocess_mode).
            atexit.register(multiprocess.mark_process_dead, os.getpid(), self.multiprocess_dir)

    def render(self) -> bytes:
        """The Prometheus text exposition of this process, or of all workers together."""
        if not self.multiprocess_dir:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        return generate_latest(registry)


class RequestContextMiddleware:
    """Assigns a request id, times the request, counts it and writes one access log line.

    The client is the one the edge resolved (through trusted proxies only), so the access
    log, the audit log and the rate limits all see the same address.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID_OK.match(incoming) else uuid.uuid4().hex
        token = _request_id.set(request_id)
        client = scope.get("client")
        _client_ip.set(client[0] if client else None)
        _actor_id.set(None)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route, str(status)).observe(elapsed)
            access_log.info(
                "request",
                extra={
                    "method": method,
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "client": client[0] if client else None,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            _request_id.reset(token)


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "<unmatched>"


_client_ip: ContextVar[str | None] = ContextVar("client_ip", default=None)
_actor_id: ContextVar[uuid.UUID | None] = ContextVar("actor_id", default=None)


def current_client_ip() -> str | None:
    return _client_ip.get()


def current_actor_id() -> uuid.UUID | None:
    """The signed-in user acting in this request, recorded in the outbox and audit log."""
    return _actor_id.get()


def set_actor(user_id: uuid.UUID | None) -> None:
    _actor_id.set(user_id)


def set_client_ip(ip: str | None) -> None:
    _client_ip.set(ip)
