"""The `tessera` command: migrate, seed and the worker, against a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.config import get_settings
from api.db import make_engine, make_sessionmaker
from api.notifications import service as notifications
from api.notifications.variants import variant_bucket
from api.users import service as users
from tessera.cli import app

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "var" / "tessera.db"
    monkeypatch.setenv("TESSERA_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("TESSERA_MAIL_DIR", str(tmp_path / "mail"))
    monkeypatch.setenv("TESSERA_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("TESSERA_ARGON2_TIME_COST", "1")
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        return connection.execute(sql).fetchall()


def test_migrate_then_seed_loads_demo_users_once(database: Path, tmp_path: Path) -> None:
    migrated = runner.invoke(app, ["migrate"])
    assert migrated.exit_code == 0, migrated.output
    seeded = runner.invoke(app, ["seed", "--users", "25", "--events", "40", "--bookings", "150"])
    assert seeded.exit_code == 0, seeded.output
    assert "created 30 users and 40 events" in seeded.output

    roles = dict(_rows(database, "SELECT role, count(*) FROM users GROUP BY role"))
    assert min(roles["admin"], roles["organizer"], roles["finance"], roles["analyst"]) >= 1
    assert sum(roles.values()) == 30
    # Seeding goes through the service layer, so the outbox saw every account.
    [(registered,)] = _rows(
        database, "SELECT count(*) FROM outbox WHERE event_type = 'user.registered'"
    )
    assert registered == 30
    days = _rows(database, "SELECT count(DISTINCT date(created_at)) FROM users")
    assert days[0][0] > 5  # sign-ups spread over time, as real ones are

    statuses = dict(_rows(database, "SELECT status, count(*) FROM events GROUP BY status"))
    assert statuses["published"] > 0
    assert statuses["completed"] > 0  # past events too, for the marts
    assert len(_rows(database, "SELECT DISTINCT timezone FROM events")) > 3
    assert _rows(database, "SELECT count(*) FROM categories")[0][0] >= 5
    [(published,)] = _rows(
        database, "SELECT count(*) FROM outbox WHERE event_type = 'event.published'"
    )
    assert published == statuses["published"] + statuses["completed"] + statuses.get("cancelled", 0)

    # Bookings and payments through the services, spread over the months before each event:
    # the outbox carries their history, as the marts need it.
    [(bookings, confirmed)] = _rows(
        database, "SELECT count(*), sum(status = 'confirmed') FROM bookings"
    )
    assert bookings > 50
    payments = dict(_rows(database, "SELECT status, count(*) FROM payments GROUP BY status"))
    assert payments["succeeded"] > 20
    [(succeeded_events,)] = _rows(
        database, "SELECT count(*) FROM outbox WHERE event_type = 'payment.succeeded'"
    )
    assert succeeded_events == payments["succeeded"]
    months = _rows(
        database,
        "SELECT count(DISTINCT strftime('%Y-%m', occurred_at)) FROM outbox "
        "WHERE event_type = 'booking.created'",
    )
    assert months[0][0] >= 3
    [(views,)] = _rows(database, "SELECT count(*) FROM outbox WHERE event_type = 'event.viewed'")
    assert views >= bookings
    [(late,)] = _rows(
        database,
        "SELECT count(*) FROM bookings b JOIN events e ON e.id = b.event_id "
        "WHERE b.created_at >= e.starts_at OR b.created_at < e.published_at",
    )
    assert late == 0  # booked while on sale, never after the start
    assert confirmed >= payments["succeeded"]  # paid ones, and free ones

    # The demo history is not mailed, but its latest confirmations are, with their tickets; and
    # an A/B-tested announcement went to the people who opted in.
    sent = runner.invoke(app, ["worker", "--once"])
    assert sent.exit_code == 0, sent.output
    parser = BytesParser(policy=policy.default)
    mails = [parser.parsebytes(p.read_bytes()) for p in (tmp_path / "mail").glob("*.eml")]
    confirmations = [m for m in mails if m["Subject"].startswith("Your tickets for")]
    assert 0 < len(confirmations) <= 20
    assert all(
        any((part.get_filename() or "").startswith("tickets-") for part in m.iter_attachments())
        for m in confirmations
    )
    variants = dict(
        _rows(
            database,
            "SELECT variant, count(*) FROM notifications WHERE campaign = 'new_event:email' "
            "GROUP BY variant",
        )
    )
    # Each person gets the variant their stable bucket names (A and B weigh 1 each). Which
    # variants a run's few recipients land in is chance: both need not appear.
    assigned = _rows(
        database,
        "SELECT DISTINCT user_id, variant FROM notifications WHERE campaign = 'new_event:email'",
    )
    assert assigned
    assert all(
        variant
        == ("A" if variant_bucket("new_event:email", str(uuid.UUID(str(user))), 2) < 1 else "B")
        for user, variant in assigned
    ), assigned
    assert len(mails) == len(confirmations) + sum(variants.values())

    again = runner.invoke(app, ["seed", "--users", "25"])
    assert "already present" in again.output
    assert _rows(database, "SELECT count(*) FROM users")[0][0] == 30


def test_the_history_loads_after_the_catalogue_with_progress(database: Path) -> None:
    """What `tessera up` does on the first start: people and events first (the pages can
    answer), then the months of bookings behind them, saying how far it got."""
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    base = runner.invoke(app, ["seed", "--users", "25", "--events", "40"])
    assert "created 30 users and 40 events; 0 bookings" in base.output
    assert _rows(database, "SELECT count(*) FROM bookings")[0][0] == 0

    loaded = runner.invoke(app, ["history", "--bookings", "1200"])
    assert loaded.exit_code == 0, loaded.output
    assert "1,000 of" in loaded.output  # progress on the way, with the time left
    assert "left" in loaded.output
    [(bookings,)] = _rows(database, "SELECT count(*) FROM bookings")
    assert f"{bookings:,} bookings" in loaded.output
    assert bookings > 500
    [(completed,)] = _rows(database, "SELECT count(*) FROM events WHERE status = 'completed'")
    assert completed > 0


def test_worker_delivers_what_was_left(database: Path, tmp_path: Path) -> None:
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    settings = get_settings()

    async def request_one() -> None:
        engine = make_engine(settings.database_url)
        async with make_sessionmaker(engine)() as session:
            user = await users.create(
                session, email="w@example.com", full_name="W", password_hash=None
            )
            await notifications.request(
                session,
                settings,
                template="password_changed",
                recipient=user.email,
                user_id=user.id,
                context={"name": "W"},
            )
            await session.commit()
        await engine.dispose()

    asyncio.run(request_one())
    first = runner.invoke(app, ["worker", "--once"])
    assert first.exit_code == 0, first.output
    assert "planned 1, sent 1, retrying 0, dead-lettered 0 notification(s)" in first.output
    assert "completed 0 ended event(s)" in first.output
    second = runner.invoke(app, ["worker", "--once"])
    assert "planned 0, sent 0, retrying 0, dead-lettered 0 notification(s)" in second.output
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1
