"""`dbt build` of the notification marts (and what they are built from) on outbox rows as
ingestion lands them: A/B variants convert when the recipient confirms a booking within 7
days after the send, and the daily mart counts each step on its day."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import duckdb
import pytest

from tests.dbt.test_dbt_project import DBT, DBT_PROJECT_DIR, Outbox

SENT = datetime.fromisoformat("2026-01-10T10:00:00+00:00")
CAMPAIGN = "new_event:email"


def _at(offset: timedelta = timedelta()) -> str:
    return (SENT + offset).isoformat()


def _notification(
    outbox: Outbox,
    user_id: str | None,
    *,
    campaign: str | None = CAMPAIGN,
    variant: str | None = "A",
    channel: str = "email",
    trigger: str = "new_event",
    event_id: str | None = "e1",
    failures: int = 0,
    gives_up: bool = False,
    bounces: bool = False,
    read: bool = False,
) -> str:
    """A notification's row images as the API writes them (`notification.<status>`): queued
    an hour before SENT; each failed attempt back to queued, or dead at the last if it
    `gives_up`; then sent at SENT and delivered a second later (an in-app message is
    delivered as it is sent) or, if it `bounces`, failed a minute later; read the next day."""
    image: dict[str, Any] = {
        "user_id": user_id,
        "trigger": trigger,
        "category": "marketing" if campaign else "orders",
        "channel": channel,
        "campaign": campaign,
        "variant": variant,
        "template_id": None,
        "template_version": 1,
        "event_id": event_id,
        "booking_id": None,
        "status": "queued",
        "attempts": 0,
        "created_at": _at(-timedelta(hours=1)),
        "sent_at": None,
        "delivered_at": None,
        "failed_at": None,
        "read_at": None,
        "provider": None,
        "version": 0,  # each step below writes the next version
    }
    notification_id = image["id"] = str(uuid.uuid4())

    def step(event_type: str, at: str, **changes: Any) -> None:
        image.update(changes, version=image["version"] + 1)
        outbox.add(
            event_type,
            "notification",
            dict(image),
            at=at,
            entity_id=notification_id,
            version=image["version"],
        )

    step("notification.queued", image["created_at"])
    for attempt in range(1, failures + 1):
        at = _at(-timedelta(minutes=30) + timedelta(minutes=attempt))
        if gives_up and attempt == failures:
            step("notification.dead", at, status="dead", attempts=attempt, failed_at=at)
        else:
            step("notification.queued", at, status="queued", attempts=attempt)
    if gives_up:
        return notification_id
    sent = {"attempts": failures + 1, "sent_at": _at(), "provider": "sandbox"}
    if channel == "in_app":
        step("notification.delivered", _at(), status="delivered", delivered_at=_at(), **sent)
    else:
        step("notification.sent", _at(), status="sent", **sent)
        if bounces:
            bounced = _at(timedelta(minutes=1))
            step("notification.failed", bounced, status="failed", failed_at=bounced)
        else:
            delivered = _at(timedelta(seconds=1))
            step("notification.delivered", delivered, status="delivered", delivered_at=delivered)
    if read:
        step("notification.read", _at(timedelta(days=1)), read_at=_at(timedelta(days=1)))
    return notification_id


def _booking_confirmed(outbox: Outbox, user_id: str, event_id: str, after: timedelta) -> None:
    confirmed_at = _at(after)
    image = {
        "user_id": user_id,
        "event_id": event_id,
        "status": "confirmed",
        "seats": 1,
        "created_at": confirmed_at,
        "confirmed_at": confirmed_at,
    }
    outbox.add("booking.confirmed", "booking", image, at=confirmed_at)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    outbox = Outbox()
    # Variant A: a1 books the notification's event 3 days after the send (converts), a2 the
    # same 8 days after (too late; its message bounced, but it was sent), a3 another event 2
    # days after (converts, not the same event); a4 converts not at all, and was sent at the
    # third attempt.
    _notification(outbox, "a1")
    _notification(outbox, "a2", bounces=True)
    _notification(outbox, "a3")
    _notification(outbox, "a4", failures=2)
    _booking_confirmed(outbox, "a1", "e1", timedelta(days=3))
    _booking_confirmed(outbox, "a2", "e1", timedelta(days=8))
    _booking_confirmed(outbox, "a3", "e2", timedelta(days=2))
    # Variant B: b1 books 3 days after; b2's message was given up on, so b2 was not reached.
    _notification(outbox, "b1", variant="B")
    _notification(outbox, "b2", variant="B", failures=2, gives_up=True)
    _booking_confirmed(outbox, "b1", "e1", timedelta(days=3))
    # In-app: delivered as it is sent, and read; a booking confirmed before the send does not
    # convert it.
    _notification(outbox, "c1", campaign="new_event:in_app", channel="in_app", read=True)
    _booking_confirmed(outbox, "c1", "e1", -timedelta(hours=2))
    # Outside any campaign: in the daily mart only.
    _notification(outbox, "a1", campaign=None, variant=None, trigger="booking_confirmed")
    # A message request shares the entity but is no row image.
    outbox.add("notification.requested", "notification", {"template": "welcome"}, at=_at())

    tmp_path = tmp_path_factory.mktemp("notifications")
    path = tmp_path / "tessera.duckdb"
    outbox.land(path)
    env = {**os.environ, "TESSERA_WAREHOUSE_PATH": str(path), "DO_NOT_TRACK": "1"}
    result = subprocess.run(  # noqa: S603 - our venv's dbt
        [
            str(DBT),
            "build",
            "--profiles-dir",
            ".",
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
            "--select",
            "+notification_variant_conversion",
            "+notifications_daily",
        ],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with duckdb.connect(str(path), read_only=True) as con:
        yield con


def test_variants_convert_within_seven_days_of_the_send(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    assert warehouse.sql(
        "select campaign, variant, channel, notifications, notifications_sent, users_reached, "
        "notifications_delivered, notifications_read, notifications_failed, converted_users, "
        "conversion_rate, converted_users_same_event, same_event_conversion_rate "
        "from marts.notification_variant_conversion order by all"
    ).fetchall() == [
        ("new_event:email", "A", "email", 4, 4, 4, 3, 0, 1, 2, 0.5, 1, 0.25),
        ("new_event:email", "B", "email", 2, 1, 1, 1, 0, 1, 1, 1.0, 1, 1.0),
        ("new_event:in_app", "A", "in_app", 1, 1, 1, 1, 1, 0, 0, 0.0, 0, 0.0),
    ]


def test_a_notification_was_first_sent_when_it_went_through(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    assert warehouse.sql(
        "select user_id, status, attempts, first_sent_at = ?::timestamptz "
        "from staging.stg_notifications where user_id in ('a4', 'b2', 'c1') order by user_id",
        params=[_at()],
    ).fetchall() == [
        ("a4", "delivered", 3, True),
        ("b2", "dead", 2, None),
        ("c1", "delivered", 1, True),
    ]
    # one row per notification; the message request is left out
    assert warehouse.sql("select count(*) from staging.stg_notifications").fetchall() == [(8,)]


def test_daily_counts_each_step_on_its_day(warehouse: duckdb.DuckDBPyConnection) -> None:
    assert warehouse.sql(
        "select cast(notification_date as varchar), trigger, channel, queued, sent, delivered, "
        "read, retried, failed, dead from marts.notifications_daily order by all"
    ).fetchall() == [
        ("2026-01-10", "booking_confirmed", "email", 1, 1, 1, 0, 0, 0, 0),
        # a4 and b2 were retried, a2 bounced, b2 was given up on
        ("2026-01-10", "new_event", "email", 6, 5, 4, 0, 2, 1, 1),
        ("2026-01-10", "new_event", "in_app", 1, 1, 1, 0, 0, 0, 0),
        ("2026-01-11", "new_event", "in_app", 0, 0, 0, 1, 0, 0, 0),
    ]
