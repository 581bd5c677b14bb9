"""`make fuzz`: schemathesis in all its phases (examples, coverage, fuzzing, stateful) against a
real server, signed in as an admin and then as an organizer, on SQLite and on PostgreSQL.

    python -m tests.fuzz.campaign [--max-examples N] [--databases sqlite,postgres]

Each run gets a fresh, migrated database holding the two accounts (with unguessable passwords,
so no generated password change can lock the run out), a server under uvicorn on a free
loopback port, and its reports (JUnit and NDJSON) under `var/fuzz/<database>-<role>/`. It exits
non-zero when any run found a failure; `docs/fuzzing.md` records the campaigns and their fixes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy.engine import make_url

from api.main import create_app
from api.migrate import upgrade_async
from api.users import service as users
from api.users.models import Role
from tests.api.conftest import make_settings
from tests.api.test_events import event_body, ticket_body
from tests.conftest import POSTGRES_URL

ROOT = Path(__file__).resolve().parents[2]
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "use_after_free",
        "ensure_resource_availability",
        "ignored_auth",
    ]
)
ROLES = {"admin": Role.admin, "organizer": Role.organizer}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _database(kind: str, folder: Path) -> tuple[str, str | None]:
    """A migrated database of this kind: its URL and, for PostgreSQL, its name to drop."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{folder / 'tessera.db'}"
        await upgrade_async(url)
        return url, None
    name = f"tessera_fuzz_{uuid.uuid4().hex[:10]}"
    admin_dsn = make_url(POSTGRES_URL).set(drivername="postgresql", database="postgres")
    connection = await asyncpg.connect(admin_dsn.render_as_string(hide_password=False))
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    url = make_url(POSTGRES_URL).set(drivername="postgresql+asyncpg", database=name)
    rendered = url.render_as_string(hide_password=False)
    await upgrade_async(rendered)
    return rendered, name


async def _drop(name: str) -> None:
    admin_dsn = make_url(POSTGRES_URL).set(drivername="postgresql", database="postgres")
    connection = await asyncpg.connect(admin_dsn.render_as_string(hide_password=False))
    await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await connection.close()


async def _accounts(url: str, folder: Path, role: Role) -> dict[str, tuple[str, str, str]]:
    """The run's account, an admin who sets up the world and an attendee: (email, password, id)
    by name."""
    app = create_app(make_settings(url, folder))
    accounts = {}
    async with LifespanManager(app), app.state.sessionmaker() as session:
        for name, account_role in (("run", role), ("setup", Role.admin), ("other", Role.attendee)):
            email = f"fuzz-{name}@example.com"
            password = secrets.token_urlsafe(24)
            user = await users.create(
                session,
                email=email,
                full_name=f"Fuzz {name.title()}",
                password_hash=await app.state.passwords.hash(password),
                role=account_role,
                email_verified=True,
            )
            accounts[name] = (email, password, str(user.id))
        await session.commit()
    return accounts


def _world(base: str, accounts: dict[str, tuple[str, str, str]]) -> dict[str, str]:
    """Resources for the path parameters, made through the API: the run's account owns a
    published event and a paid booking; the setup admin adds a category and a template."""

    def client(name: str) -> httpx.Client:
        email, password, _ = accounts[name]
        login = httpx.post(f"{base}/auth/login", json={"email": email, "password": password})
        token = login.raise_for_status().json()["access_token"]
        return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})

    with client("run") as run, client("setup") as setup:
        event = run.post("/events", json=event_body()).raise_for_status().json()
        ticket_type = (
            run.post(f"/events/{event['id']}/ticket-types", json=ticket_body(quantity=100))
            .raise_for_status()
            .json()
        )
        run.post(f"/events/{event['id']}/publish").raise_for_status()
        line = {"ticket_type_id": ticket_type["id"], "quantity": 1}
        booking = run.post(
            "/bookings", json={"event_id": event["id"], "lines": [line]}
        ).raise_for_status()
        payment = run.post(
            f"/bookings/{booking.json()['id']}/payments",
            json={"payment_method": "4242 4242 4242 4242"},
        ).raise_for_status()
        category = setup.post("/categories", json={"name": "Fuzzing"}).raise_for_status()
        template = setup.post(
            "/admin/notification-templates",
            json={"trigger": "booking_confirmed", "channel": "email", "text_body": "Hi"},
        ).raise_for_status()
    return {
        "eventId": event["id"],
        "slug": event["slug"],
        "ticketTypeId": ticket_type["id"],
        "bookingId": booking.json()["id"],
        "paymentId": payment.json()["id"],
        "categoryId": category.json()["id"],
        "templateId": template.json()["id"],
        "userId": accounts["other"][2],
    }


def _config(folder: Path, ids: dict[str, str]) -> Path:
    """Path parameters take the world's ids nine times in ten, generated values otherwise."""
    lines = []
    for name, value in ids.items():
        lines += [f"[dictionaries.{name}]", f'values = ["{value}"]', ""]
    lines.append("[parameters]")
    lines += [f'"path.{name}" = {{ dictionary = "{name}", probability = 0.9 }}' for name in ids]
    path = folder / "schemathesis.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _server_env(url: str, folder: Path) -> dict[str, str]:
    settings = {
        "ENV": "test",
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "1024",
        "MAIL_DIR": str(folder / "mail"),
        "SMS_DIR": str(folder / "sms"),
        "SEARCH_DIR": str(folder / "search"),
        "MEDIA_DIR": str(folder / "media"),
        "SNAPSHOT_DIR": str(folder / "snapshot"),
        "LOG_LEVEL": "WARNING",
        "LOG_JSON": "false",
        # As in production: /metrics answers only its scraper's token.
        "METRICS_TOKEN": secrets.token_urlsafe(24),
    }
    # Fuzzing signs in and registers thousands of times from one address.
    for name in ("LOGIN_IP", "LOGIN_ACCOUNT", "REGISTER_IP", "RESET_IP", "RESET_ACCOUNT"):
        settings[f"RATE_LIMIT_{name}"] = "1000000/minute"
    for name in ("VERIFY_IP", "VERIFY_ACCOUNT"):
        settings[f"RATE_LIMIT_{name}"] = "1000000/minute"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env.update({f"TESSERA_{k}": v for k, v in settings.items()})
    env["PYTHONPATH"] = str(ROOT)
    return env


def _wait_ready(base: str, server: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped with {server.returncode}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise TimeoutError("the server did not become ready in time")


def _run(kind: str, role_name: str, max_examples: int, seed: int) -> int:
    folder = ROOT / "var" / "fuzz" / f"{kind}-{role_name}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    url, drop = asyncio.run(_database(kind, folder))
    try:
        accounts = asyncio.run(_accounts(url, folder, ROLES[role_name]))
        email, password, _ = accounts["run"]
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = _server_env(url, folder)
        server = subprocess.Popen(  # noqa: S603 - our interpreter and app
            [sys.executable, "-m", "uvicorn", "api.main:app", "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=(folder / "server.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready(base, server, time.monotonic() + 60)
            config = _config(folder, _world(base, accounts))
            fuzz_env = {
                **env,
                "SCHEMATHESIS_HOOKS": "tests.fuzz.schemathesis_hooks",
                "TESSERA_FUZZ_BASE_URL": base,
                "TESSERA_FUZZ_EMAIL": email,
                "TESSERA_FUZZ_PASSWORD": password,
            }
            command = [
                str(Path(sys.executable).with_name("schemathesis")),
                f"--config-file={config}",
                "run",
                f"{base}/openapi.json",
                "--phases=examples,coverage,fuzzing,stateful",
                f"--checks={CHECKS}",
                f"--max-examples={max_examples}",
                f"--seed={seed}",
                "--workers=1",
                "--request-timeout=30",
                "--suppress-health-check=all",
                "--report=junit,ndjson",
                f"--report-dir={folder}",
            ]
            print(f"== {kind} as {role_name}: {' '.join(command[1:])}", flush=True)
            return subprocess.run(command, cwd=folder, env=fuzz_env, check=False).returncode  # noqa: S603 - our own command line
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        if drop is not None:
            asyncio.run(_drop(drop))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--roles", default="admin,organizer")
    args = parser.parse_args()
    results = {
        (kind, role): _run(kind, role, args.max_examples, args.seed)
        for kind in args.databases.split(",")
        for role in args.roles.split(",")
    }
    for (kind, role), code in results.items():
        print(f"{kind:>8} as {role:<9}: {'passed' if code == 0 else f'FAILED ({code})'}")
    sys.exit(max(results.values()))


if __name__ == "__main__":
    main()
