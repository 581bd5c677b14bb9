"""One published snapshot for the dashboard tests, built once per test run from data made
through the API: two organizers with their own events, buyers, and an account of each role;
and the API itself served on loopback for the dashboards to sign in against.

The build is expensive (the whole pipeline), so it is shared: the first test process to need
it builds it under a file lock, and every process (pytest-xdist workers included) reads it."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import shutil
import socket
import threading
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from asgi_lifespan import LifespanManager

from api.config import Settings
from api.main import create_app
from api.migrate import upgrade_async
from api.users.models import Role
from tests.api.conftest import make_settings
from tests.api.factories import DEFAULT_PASSWORD, Api, TestUser
from tests.api.test_bookings import _book
from tests.api.test_events import published_event, ticket_body
from tests.api.test_payments import _pay
from tests.api.test_refunds import _refund
from tests.pipelines.support import VENV_BIN, run_pipeline

RELAXED_LIMITS: dict[str, object] = {
    "rate_limit_login_ip": "1000/minute",
    "rate_limit_login_account": "1000/minute",
}
# Organizer A's event starts at 18:00 UTC, 20:00 in Berlin (summer time).
A_STARTS = "2030-07-01T18:00:00+00:00"


@dataclass(frozen=True)
class Account:
    email: str
    password: str
    user_id: str


@dataclass(frozen=True)
class World:
    """What the tests know of the data: accounts by role, and each organizer's names."""

    database: str  # the SQLite file the data was made in (each process serves a copy)
    snapshot: str
    accounts: dict[str, Account]
    a_event_ids: list[str]
    b_event_ids: list[str]
    buyer_emails: list[str]
    buyer_ids: list[str]

    def account(self, who: str) -> Account:
        return self.accounts[who]

    @classmethod
    def load(cls, path: Path) -> World:
        raw = json.loads(path.read_text())
        raw["accounts"] = {k: Account(**v) for k, v in raw["accounts"].items()}
        return cls(**raw)


def world_settings(database: Path, home: Path) -> Settings:
    return make_settings(f"sqlite+aiosqlite:///{database}", home, **RELAXED_LIMITS)


def jwt_key() -> bytes:
    """The key the API signs access tokens with (every test API shares the test secret)."""
    return world_settings(Path("world.db"), Path("world")).derived_key("jwt")


async def _paid(api: Api, event: dict[str, Any], buyer: TestUser, seats: int) -> dict[str, Any]:
    booking = (await _book(api, buyer, event, (0, seats))).json()
    payment = (await _pay(api, buyer, booking, "pm_card_visa")).json()
    assert payment["status"] == "succeeded", payment
    return dict(payment)


async def _make(home: Path) -> World:
    database = home / "world.db"
    await upgrade_async(f"sqlite+aiosqlite:///{database}")
    app = create_app(world_settings(database, home))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4321))
        async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as http:
            api = Api(app, http)
            accounts: dict[str, TestUser] = {}
            admin = accounts["admin"] = await api.signed_in(
                Role.admin, email="admin@example.com", full_name="Ada Admin"
            )
            accounts["finance"] = await api.make_user(
                role=Role.finance, email="finance@example.com", full_name="Fin Ance"
            )
            analyst = accounts["analyst"] = await api.make_user(
                email="analyst@example.com", full_name="Ana Lyst"
            )
            made = await http.put(
                f"/admin/users/{analyst.id}/role", headers=admin.headers, json={"role": "analyst"}
            )
            assert made.status_code == 200, made.text
            accounts["attendee"] = await api.make_user(
                email="attendee@example.com", full_name="Atte Ndee"
            )
            a = accounts["organizer_a"] = await api.signed_in(
                Role.organizer, email="aurora@example.com", full_name="Aurora Live"
            )
            german = await http.put(
                "/users/profile",
                headers=a.headers,
                json={"locale": "de-DE", "timezone": "Europe/Berlin"},
            )
            assert german.status_code == 200, german.text
            b = accounts["organizer_b"] = await api.signed_in(
                Role.organizer, email="borealis@example.com", full_name="Borealis Concerts"
            )
            buyers = [
                await api.signed_in(email=f"buyer{n}@example.com", full_name=f"Buyer{n} Person")
                for n in range(4)
            ]
            # Organizer A: six seats at 25.00 EUR, 10.00 refunded: 140.00 net.
            jazz = await published_event(
                api,
                a,
                tickets=[ticket_body(quantity=30)],
                title="Harbour Jazz Night",
                starts_at=A_STARTS,
                ends_at="2030-07-01T21:00:00+00:00",
            )
            await http.get(f"/events/{jazz['id']}")  # a view, for the funnel
            paid = [await _paid(api, jazz, buyer, 2) for buyer in buyers[:3]]
            refunded = await _refund(api, a, paid[0]["id"], amount_cents=1000)
            assert refunded.status_code == 201, refunded.text
            # Organizer B: two seats at 37.00 EUR (74.00), two at 4,500 JPY (9,000).
            brass = await published_event(
                api,
                b,
                tickets=[ticket_body(quantity=20, price_cents=3700)],
                title="Brass Bonanza",
            )
            taiko = await published_event(
                api,
                b,
                tickets=[ticket_body(quantity=20, price_cents=4500)],
                title="Taiko Evening",
                currency="JPY",
                timezone="Asia/Tokyo",
            )
            await _paid(api, brass, buyers[3], 2)
            await _paid(api, taiko, buyers[3], 2)
    for user in accounts.values():
        user.access_token = user.refresh_token = ""  # each test signs in on its own
    return World(
        database=str(database),
        snapshot=str(home / "snapshot"),
        accounts={
            k: Account(email=u.email, password=DEFAULT_PASSWORD, user_id=str(u.id))
            for k, u in accounts.items()
        },
        a_event_ids=[jazz["id"]],
        b_event_ids=[brass["id"], taiko["id"]],
        buyer_emails=[buyer.email for buyer in buyers],
        buyer_ids=[str(buyer.id) for buyer in buyers],
    )


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def build_once(shared: Path) -> World:
    """The world under `shared`: made and published by the first process to ask."""
    home = shared / "dashboard-world"
    done = home / "world.json"
    shared.mkdir(parents=True, exist_ok=True)
    with _locked(shared / "dashboard-world.lock"):
        if not done.exists():
            shutil.rmtree(home, ignore_errors=True)
            home.mkdir()
            # Its own event loop, in its own thread: the tests' loop may be running.
            with ThreadPoolExecutor(1) as thread:
                world = thread.submit(asyncio.run, _make(home)).result()
            previous = {k: os.environ.get(k) for k in ("PATH", "DO_NOT_TRACK")}
            os.environ["PATH"] = f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"
            os.environ["DO_NOT_TRACK"] = "1"
            try:
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", "sqlglotrs is deprecated")
                    warnings.filterwarnings("ignore", "AssetExecutionContext.op is deprecated")
                    result = run_pipeline(f"sqlite+aiosqlite:///{world.database}", home)
            finally:
                for key, value in previous.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
            assert result.success
            done.write_text(json.dumps(asdict(world)))
    return World.load(done)


@contextlib.contextmanager
def serve_api(world: World, home: Path) -> Iterator[str]:
    """The API on a loopback port, on this process's own copy of the world's database."""
    home.mkdir(parents=True, exist_ok=True)
    database = home / "world.db"
    shutil.copyfile(world.database, database)
    # Listening before uvicorn starts: connections wait in the backlog until it serves them.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(world_settings(database, home)), log_config=None, lifespan="on")
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="dashboard-api", daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()
