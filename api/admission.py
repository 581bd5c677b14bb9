"""Admission: how many requests a process works on at once, and a fast, fair answer beyond.

A process that takes every request it is sent shares its CPU and its database connections among
all of them, and past a point answers nobody in time. Here at most `max_in_flight` requests are
worked on at once; the next ones wait in arrival order, and one that has waited `max_wait`
without a place is answered 503 with `Retry-After` at once (a problem document, or for a
browser a page that reloads itself), instead of a slow answer or a timeout.

Arrival order survives a retry: the 503 hands the client its place (`Queue-Place`, the time it
first arrived, signed), and a request that shows it again is placed ahead of everyone who
arrived later. Each process keeps its own queue; a load balancer in front spreads the crowd.
Health, readiness, metrics and static files are never held back.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections import deque
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Receive, Scope, Send

from api.inputs import same_text
from api.observability import current_request_id

EXEMPT = ("/health", "/ready", "/metrics", "/static/", "/media/")
PLACE_HEADER = "queue-place"
PLACE_COOKIE = "queue_place"


@dataclass(order=True)
class _Waiter:
    arrived: float
    order: int
    future: asyncio.Future[None] = field(compare=False)


class Gate:
    """At most `max_in_flight` requests at once, the rest queued by arrival (a returning
    client's first arrival counts), none queued longer than `max_wait` seconds."""

    def __init__(self, *, max_in_flight: int, max_wait: float, key: bytes) -> None:
        self.max_in_flight = max_in_flight
        self.max_wait = max_wait
        self._key = key
        self.in_flight = 0
        self._queue: deque[_Waiter] = deque()
        self._order = 0
        self.turned_away = 0

    @property
    def waiting(self) -> int:
        return len(self._queue)

    async def enter(self, arrived: float) -> bool:
        """Take a place now, or queue by arrival until one is handed over (True) or
        `max_wait` passes (False); whoever entered must `leave`."""
        if self.in_flight < self.max_in_flight and not self._queue:
            self.in_flight += 1
            return True
        self._order += 1
        waiter = _Waiter(arrived, self._order, asyncio.get_running_loop().create_future())
        # Most arrive last; a returning client's earlier arrival goes ahead of later ones.
        at = len(self._queue)
        while at > 0 and self._queue[at - 1] > waiter:
            at -= 1
        self._queue.insert(at, waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter.future), self.max_wait)
        except TimeoutError:
            if waiter.future.done():  # handed a place just as time ran out: take it
                return True
            self._queue.remove(waiter)
            self.turned_away += 1
            return False
        except BaseException:  # cancelled while waiting: pass on a place it was handed
            if waiter.future.done():
                self.leave()
            else:
                self._queue.remove(waiter)
            raise
        return True

    def leave(self) -> None:
        """Hand the place to the first in the queue, or free it."""
        while self._queue:
            waiter = self._queue.popleft()
            if not waiter.future.done():
                waiter.future.set_result(None)
                return
        self.in_flight -= 1

    def sign(self, arrived: float) -> str:
        stamp = f"{arrived:.6f}"
        mac = hmac.new(self._key, stamp.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{stamp}.{mac}"

    def place(self, shown: str) -> float | None:
        """The first arrival a returning client shows, when we signed it, within a minute."""
        try:
            arrived = float(shown.rpartition(".")[0])
        except ValueError:
            return None
        if not same_text(self.sign(arrived), shown):
            return None
        return arrived if time.time() - 60 < arrived <= time.time() else None

    def retry_after(self) -> int:
        return 1 + len(self._queue) // max(1, self.max_in_flight * 4)


class Admission:
    """ASGI middleware: every request but the exempt ones passes the `gate`; one turned away
    is answered 503 with Retry-After and its place in line."""

    def __init__(self, app: ASGIApp, *, gate: Gate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT):
            await self.app(scope, receive, send)
            return
        shown = _shown_place(scope)
        arrived = (self.gate.place(shown) if shown else None) or time.time()
        if not await self.gate.enter(arrived):
            await self._busy(scope, send, arrived)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.gate.leave()

    async def _busy(self, scope: Scope, send: Send, arrived: float) -> None:
        retry = self.gate.retry_after()
        place = self.gate.sign(arrived)
        headers = [
            (b"retry-after", str(retry).encode()),
            (PLACE_HEADER.encode(), place.encode()),
            (b"cache-control", b"no-store"),
        ]
        accept = next((v for k, v in scope["headers"] if k == b"accept"), b"")
        if b"text/html" in accept:
            body = _PAGE.format(seconds=retry).encode()
            headers.append((b"content-type", b"text/html; charset=utf-8"))
            cookie = f"{PLACE_COOKIE}={place}; Max-Age=60; Path=/; HttpOnly; SameSite=Lax"
            headers.append((b"set-cookie", cookie.encode()))
        else:
            body = json.dumps(
                {
                    "type": "urn:tessera:problem:service.busy",
                    "title": "Service Unavailable",
                    "status": 503,
                    "detail": "Many people are buying right now; try again in a moment. "
                    "Send the Queue-Place header back to keep your place in line.",
                    "instance": scope["path"],
                    "code": "service.busy",
                    "request_id": current_request_id(),
                }
            ).encode()
            headers.append((b"content-type", b"application/problem+json"))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _shown_place(scope: Scope) -> str | None:
    """The place a returning client shows: the header, or a browser's cookie."""
    found: str | None = None
    for name, value in scope["headers"]:
        if name == PLACE_HEADER.encode():
            return str(value.decode("latin-1"))
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, shown = part.strip().partition("=")
                if key == PLACE_COOKIE:
                    found = shown
    return found


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{seconds}"><title>One moment</title></head>
<body><main><h1>One moment</h1><p>Many people are buying right now. This page tries again
by itself in {seconds} seconds.</p></main></body></html>"""
