"""The express path's ASGI layer, on PostgreSQL: in front of the FastAPI routes, it takes the
common `POST /bookings` (a signed-in buyer, one line, JSON) and books it in one statement, and
the common `POST /events/{eventId}/check-ins` (a first admission) and admits it in one
(`express`), without the framework's per-request work. Everything else, and every request those
statements do not carry out, goes on to the FastAPI route unchanged, body included: it
refuses, replays an `Idempotency-Key` or a scan id, and does what this layer leaves, with the
same documents as always.

What the routes' dependencies would check first is checked here before anything is written: a
JSON body that the route's schema accepts and that holds nothing unstorable, an access token
that verifies (its session and user are the statements' to check), an `Idempotency-Key` of an
acceptable length.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import State
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import service as auth_service
from api.auth import tokens
from api.bookings import creation, door, express, service, tickets
from api.bookings.models import ScanOutcome
from api.bookings.router import booking_view
from api.bookings.schemas import BookingCreate, CheckInOut, CheckInRequest
from api.config import Settings
from api.db import utcnow
from api.errors import BUSY_SQLSTATES, AppError, app_error_response, database_busy
from api.idempotency import Idempotency
from api.inputs import UNSTORABLE, may_carry_unstorable
from api.observability import set_actor

if TYPE_CHECKING:
    from api.events import Event

PATH = "/bookings"
DOOR_PATH = "/events/{eventId}/check-ins"
# Headers this path reads; a request carrying one of them twice goes to the route.
_ONCE = (b"authorization", b"content-type", b"idempotency-key", b"cookie")
log = logging.getLogger(__name__)


class ExpressPool:
    """The connections the express path works on (asyncpg, opened at start or on first use),
    and the events it plans from. One per app; closed by its lifespan."""

    def __init__(self, settings: Settings) -> None:
        self.dsn = make_url(settings.database_url).set(drivername="postgresql")
        self.size = settings.database_pool_size
        self.lock_timeout_ms = settings.database_lock_timeout_ms
        self.hold = timedelta(minutes=settings.booking_hold_minutes)
        self.on_sale = express.OnSale()
        self.tokens = auth_service.verified_tokens(settings)
        self._pool: asyncpg.Pool[Any] | None = None
        self._opening = asyncio.Lock()
        self._warming: asyncio.Task[Any] | None = None
        self._closed = False
        # Called with each statement the pool's connections run (asyncpg's `LoggedQuery`),
        # for connections opened after one is added: tests count round trips with it.
        self.query_loggers: list[Callable[[Any], None]] = []

    def open_in_background(self) -> None:
        """Open the connections now, not in the first burst of bookings (each takes a few
        milliseconds, and longer on a busy machine)."""
        self._warming = asyncio.create_task(self._open_all())

    async def _open_all(self) -> None:
        try:
            await self.pool(min_size=self.size)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # The routes answer meanwhile; the next booking tries again.
            log.warning("express connections not opened at start: %s", exc)

    async def pool(self, min_size: int = 0) -> asyncpg.Pool[Any]:
        if self._closed:
            raise asyncpg.InterfaceError("the express pool is closed")
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        self.dsn.render_as_string(hide_password=False),
                        min_size=min_size,
                        max_size=self.size,
                        server_settings={
                            "timezone": "UTC",
                            "lock_timeout": f"{int(self.lock_timeout_ms)}ms",
                            "plan_cache_mode": "force_generic_plan",
                        },
                        init=self._opened,
                        # Each use is one statement outside any transaction: it leaves no
                        # session state behind, so no reset round trip on release.
                        reset=_leave_as_is,
                    )
        return self._pool

    async def _opened(self, connection: asyncpg.Connection[Any]) -> None:
        await express.warm(connection)
        for logger in self.query_loggers:
            connection.add_query_logger(logger)

    async def close(self) -> None:
        self._closed = True
        if self._warming is not None:
            self._warming.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError, asyncpg.PostgresError):
                await self._warming
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


class ExpressBookings:
    """ASGI middleware: books `POST /bookings` and admits a ticket at
    `POST /events/{eventId}/check-ins`, each in one statement, where it can (see the module)."""

    def __init__(self, app: ASGIApp, *, settings: Settings, state: State) -> None:
        self.app = app
        self.settings = settings
        self.state = state
        self.routes: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = _express_route(scope)
        if route is None:
            await self.app(scope, receive, send)
            return
        body, last = await _read_body(receive)
        response = None
        if last is None and (claims := self._caller(scope, body)) is not None:
            if route == PATH:
                response = await self._book(scope, body, claims)
            else:
                response = await self._check_in(scope, body, claims)
        outcome = (
            "handed_on"
            if response is None
            else {503: "busy", 409: "sold_out"}.get(response.status_code, "done")
        )
        self.state.metrics.express_requests.labels(route, outcome).inc()
        if response is None:
            await self.app(scope, _replaying(body, last, receive), send)
            return
        scope["route"] = self._route(scope, route)
        await response(scope, receive, send)

    def _route(self, scope: Scope, path: str) -> Any:
        """The FastAPI route this path stands in for (metrics and logs name it)."""
        if path not in self.routes:
            self.routes[path] = next(
                (r for r in scope["app"].routes if getattr(r, "path", None) == path), None
            )
        return self.routes[path]

    def _caller(self, scope: Scope, body: bytes) -> tokens.AccessClaims | None:
        """What the request's access token says, when the request is of the kind this path
        takes (JSON, a bearer token, nothing unstorable, a usable `Idempotency-Key`)."""
        names = [name for name, _ in scope["headers"]]
        if any(names.count(name) > 1 for name in _ONCE):
            return None  # which one counts is the framework's to say (it takes the first)
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        key = headers.get(b"idempotency-key")
        if (
            content_type != b"application/json"
            or scheme.lower() != "bearer"
            or (key is not None and not 8 <= len(key) <= 255)
            or UNSTORABLE.search(headers.get(b"cookie", b"").decode("latin-1"))
            or may_carry_unstorable(body)
        ):
            return None
        claims = auth_service.token_claims(self.state.express.tokens, token.strip())
        if claims is not None:
            set_actor(claims.user_id)
        return claims

    async def _event(self, event_id: uuid.UUID) -> Event | None:
        """The event as last read, or None (the route decides) when it cannot be read."""
        lane: ExpressPool = self.state.express
        try:
            return await lane.on_sale.get(self.state.read_sessionmaker, event_id)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("express path: event not read: %s", exc)
            return None

    async def _run(self, scope: Scope, work: Callable[[Any], Awaitable[Any]]) -> Any:
        """`work` on a connection of the express pool; None when the database refused it or
        went away (the route answers as for any request), a 503 when a lock waited too long
        (nothing was written, and waiting again in the route would not help)."""
        lane: ExpressPool = self.state.express
        try:
            async with (await lane.pool()).acquire() as connection:
                return await work(connection)
        except asyncpg.PostgresError as exc:
            if exc.sqlstate in BUSY_SQLSTATES:
                log.warning("database busy: %s", exc)
                return database_busy(Request(scope))
            if not isinstance(exc, asyncpg.UniqueViolationError):
                log.warning("express path: statement refused: %s", exc)
            return None  # (a key or scan id used before: the route replays its answer)
        except (asyncpg.InterfaceError, OSError, TimeoutError) as exc:
            log.warning("express path: no connection: %s", exc)
            return None

    async def _book(
        self, scope: Scope, body: bytes, claims: tokens.AccessClaims
    ) -> Response | None:
        try:
            data = BookingCreate.model_validate(json.loads(body))
        except (ValueError, RecursionError, ValidationError):
            return None
        lane: ExpressPool = self.state.express
        event = await self._event(data.event_id)
        if event is None:
            return None
        caller = express.Caller(claims.user_id, claims.session_id, claims.issued_at)
        try:
            planned = express.prepare(
                caller=caller, event=event, data=data, now=utcnow(), hold=lane.hold
            )
        except AppError as refused:
            if refused.code == "booking.unknown_ticket_type":
                lane.on_sale.forget(event.id)  # perhaps added since it was read
            return None  # refused: the route refuses it again, in its own words
        if planned is None:
            return None
        result = booking_view(planned.booking).model_dump(mode="json")  # as jsonable_encoder
        key = dict(scope["headers"]).get(b"idempotency-key")
        idempotency = Idempotency(key.decode("latin-1") if key else None, "POST", PATH, body)
        answer = idempotency.answer(result, status_code=201, principal=claims.user_id)
        outcome = await self._run(scope, lambda c: express.book(c, planned, answer))
        if isinstance(outcome, Response) or outcome is None:
            return outcome
        if outcome == express.Outcome.changed:
            lane.on_sale.forget(event.id)
        if outcome == express.Outcome.sold_out:
            (line,) = data.lines
            name = next(t.name for t in event.ticket_types if t.id == line.ticket_type_id)
            return app_error_response(Request(scope), creation.sold_out(name, 0))
        return JSONResponse(result, status_code=201) if outcome == express.Outcome.booked else None

    async def _check_in(
        self, scope: Scope, body: bytes, claims: tokens.AccessClaims
    ) -> Response | None:
        try:
            data = CheckInRequest.model_validate(json.loads(body))
            event_id = uuid.UUID(scope["path"].split("/")[2])
        except (ValueError, RecursionError, ValidationError):
            return None
        if str(event_id) != scope["path"].split("/")[2].lower():
            return None  # a spelling of the id the route's parameter may not take
        lane: ExpressPool = self.state.express
        event = await self._event(event_id)
        if event is None:
            return None
        now = utcnow()
        at = door.scanned_at(data.scanned_at, now)
        opens, closes = service.check_in_window(event)
        try:
            code = tickets.code_from_payload(self.settings, data.payload)
        except AppError:
            return None
        if not opens <= at <= closes:
            return None
        caller = express.Caller(claims.user_id, claims.session_id, claims.issued_at)
        admitted = await self._run(
            scope,
            lambda c: express.admit(
                c,
                caller=caller,
                event=event,
                code=code,
                scan_id=data.scan_id or uuid.uuid4(),
                device=door.device_label(data.device),
                at=at,
                now=now,
            ),
        )
        if admitted is False:
            lane.on_sale.forget(event.id)  # perhaps edited: read it again for the next scan
        if not isinstance(admitted, express.Admission):
            return admitted if isinstance(admitted, Response) else None
        result = CheckInOut(
            ticket_id=admitted.ticket_id,
            booking_id=admitted.booking_id,
            ticket_type_id=admitted.ticket_type_id,
            already_checked_in=False,
            first_checked_in_at=at,
            holder_name=admitted.holder_name,
            ticket_type_name=admitted.ticket_type_name,
            first_checked_in_by=None,
            first_checked_in_device=None,
            outcome=ScanOutcome.admitted.value,
        )
        return JSONResponse(result.model_dump(mode="json"))


def _express_route(scope: Scope) -> str | None:
    """Which of the express path's routes the request is for, if any."""
    if (
        scope["type"] != "http"
        or scope["method"] != "POST"
        or scope.get("root_path")
        or scope.get("query_string")
    ):
        return None
    path: str = scope["path"]
    if path == PATH:
        return PATH
    parts = path.split("/")
    if len(parts) == 4 and parts[1] == "events" and parts[3] == "check-ins":
        return DOOR_PATH
    return None


async def _leave_as_is(connection: asyncpg.Connection[Any]) -> None:
    del connection


async def _read_body(receive: Receive) -> tuple[bytes, Message | None]:
    """The whole body, or what came of it before the client went away (and that message)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _replaying(body: bytes, last: Message | None, receive: Receive) -> Receive:
    """A `receive` that hands the app the body read here, then what comes after."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]
    if last is not None:
        pending.append(last)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay
