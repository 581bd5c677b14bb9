"""The notifications page: campaign variants with a significance hint, and the daily volumes,
read from a published snapshot; an empty snapshot gives friendly empty states."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.notifications_view import EMPTY, two_proportion_z_test
from tests.dashboards.support import signed_in, visit
from tests.dashboards.world import World

VARIANT_COLUMNS = [
    "campaign",
    "variant",
    "channel",
    "notifications",
    "notifications_sent",
    "users_reached",
    "notifications_delivered",
    "notifications_read",
    "notifications_failed",
    "converted_users",
    "conversion_rate",
    "converted_users_same_event",
    "same_event_conversion_rate",
    "first_sent_at",
    "last_sent_at",
]
DAILY_COLUMNS = [
    "notification_date",
    "trigger",
    "channel",
    "queued",
    "sent",
    "delivered",
    "read",
    "retried",
    "failed",
    "dead",
]


def _publish(tmp_path: Path, tables: dict[str, pd.DataFrame]) -> Path:
    """A snapshot as the pipeline publishes it: `current` -> a build of Parquet files."""
    snapshot = tmp_path / "snapshot"
    build = snapshot / "builds" / "20260101T000000Z"
    build.mkdir(parents=True)
    for name, frame in tables.items():
        frame.to_parquet(build / f"{name}.parquet", index=False)
    (snapshot / "current").symlink_to(build)
    return snapshot


def _variant(campaign: str, variant: str, users: int, converted: int, last: str) -> dict[str, Any]:
    sent_at = pd.Timestamp(last, tz="UTC")
    return {
        "campaign": campaign,
        "variant": variant,
        "channel": "email",
        "notifications": users,
        "notifications_sent": users,
        "users_reached": users,
        "notifications_delivered": users,
        "notifications_read": 0,
        "notifications_failed": 0,
        "converted_users": converted,
        "conversion_rate": round(converted / users, 4),
        "converted_users_same_event": converted // 2,
        "same_event_conversion_rate": round(converted // 2 / users, 4),
        "first_sent_at": sent_at - pd.Timedelta(days=3),
        "last_sent_at": sent_at,
    }


def _day(day: str, *, sent: int, delivered: int, failed: int, dead: int) -> dict[str, Any]:
    return {
        "notification_date": date.fromisoformat(day),
        "trigger": "new_event",
        "channel": "email",
        "queued": sent,
        "sent": sent,
        "delivered": delivered,
        "read": 0,
        "retried": 2 * failed,
        "failed": failed,
        "dead": dead,
    }


def _run(world: World, snapshot: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The page as an analyst opens it, on this snapshot."""
    monkeypatch.setenv("TESSERA_SNAPSHOT_DIR", str(snapshot))
    return visit(signed_in(world.account("analyst")), "notifications")


def test_z_test_matches_the_textbook_pooled_test() -> None:
    # 10 % of 500 against 15 % of 500: pooled 12.5 %, z = 0.05 / sqrt(.125 x .875 x 2 / 500)
    test = two_proportion_z_test(50, 500, 75, 500)
    assert test is not None
    assert test.z == pytest.approx(2.3905, abs=1e-4)
    assert test.p_value == pytest.approx(0.01683, abs=1e-5)
    reverse = two_proportion_z_test(75, 500, 50, 500)
    assert reverse is not None
    assert reverse.z == pytest.approx(-test.z)
    assert two_proportion_z_test(0, 0, 5, 10) is None
    same = two_proportion_z_test(0, 10, 0, 20)
    assert same is not None
    assert same.p_value == 1.0
    assert not math.isnan(same.z)


def test_renders_an_empty_snapshot(
    dashboards: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = _run(dashboards, _publish(tmp_path, {}), monkeypatch)

    assert page.title[0].value == "Notifications"
    assert EMPTY in page.info[0].value


def test_renders_marts_without_rows(
    dashboards: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = _publish(
        tmp_path,
        {
            "notification_variant_conversion": pd.DataFrame(columns=VARIANT_COLUMNS),
            "notifications_daily": pd.DataFrame(columns=DAILY_COLUMNS),
        },
    )

    page = _run(dashboards, snapshot, monkeypatch)

    assert EMPTY in page.info[0].value


def test_shows_variants_with_a_significance_hint_and_the_daily_volumes(
    dashboards: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    variants = pd.DataFrame(
        [
            _variant("new_event:email", "A", 1000, 100, "2026-01-20"),
            _variant("new_event:email", "B", 1000, 140, "2026-01-20"),
            _variant("reminder_24h:email", "A", 10, 1, "2026-01-05"),
            _variant("reminder_24h:email", "B", 10, 2, "2026-01-05"),
        ]
    )
    daily = pd.DataFrame(
        [
            _day("2026-01-19", sent=1000, delivered=990, failed=30, dead=5),
            _day("2026-01-20", sent=1000, delivered=995, failed=10, dead=0),
        ]
    )
    snapshot = _publish(
        tmp_path,
        {"notification_variant_conversion": variants, "notifications_daily": daily},
    )

    page = _run(dashboards, snapshot, monkeypatch)

    campaigns = page.selectbox[0]
    assert campaigns.options == ["new_event:email", "reminder_24h:email"]  # latest sent first
    shown = page.dataframe[0].value
    assert list(shown["variant"]) == ["A", "B"]
    assert list(shown["users_reached"]) == [1000, 1000]
    assert shown["hint"][0] == "Control"
    assert shown["hint"][1].startswith("Converts better than A (p = 0.00")
    assert shown["lift"][1] == pytest.approx(0.4)
    assert len([e for e in page if "chart" in e.type]) == 2  # variants, sent and failed per day
    metrics = {metric.label: metric.value for metric in page.metric}
    assert metrics == {
        "Sent": "2,000",
        "Delivered": "1,985",
        "Retried": "80",
        "Failed": "40",
        "Given up": "5",
    }

    page = campaigns.select("reminder_24h:email").run()

    assert not page.exception
    assert list(page.dataframe[0].value["hint"]) == ["Control", "Too few users to tell"]
