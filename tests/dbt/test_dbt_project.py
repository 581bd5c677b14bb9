"""`dbt build` runs the whole project (seeds, models, data and unit tests) into a fresh DuckDB
holding outbox rows as ingestion lands them. (An empty warehouse builds too: see
tests/pipelines/test_definitions.py.)"""

import csv
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import duckdb

from pipelines.ingest import ensure_raw

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"


def _dbt_build(warehouse: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TESSERA_WAREHOUSE_PATH": str(warehouse), "DO_NOT_TRACK": "1"}
    args = ["build", "--profiles-dir", ".", "--target-path", str(tmp_path / "target")]
    return subprocess.run(  # noqa: S603 - our venv's dbt
        [str(DBT), *args, "--log-path", str(tmp_path / "logs")],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


DAY1 = "2026-01-05T10:00:00+00:00"
DAY2 = "2026-01-06T10:00:00+00:00"


class Outbox:
    """Builds raw.outbox_events rows the way ingestion lands them."""

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []

    def add(
        self,
        event_type: str,
        entity: str,
        payload: dict[str, Any],
        *,
        at: str,
        entity_id: str | None = None,
        version: int = 1,
        actor_id: str | None = None,
    ) -> str:
        entity_id = entity_id or str(uuid.uuid4())
        payload_json = json.dumps(payload)
        landed = (str(uuid.uuid4()), event_type, entity, entity_id, version, payload_json)
        self.rows.append((*landed, at, actor_id))
        return entity_id

    def event(self, event_id: str, category_id: str) -> None:
        image = {"title": event_id, "organizer_id": "o1", "category_id": category_id}
        self.add("event.published", "event", image, at=DAY1, entity_id=event_id, version=2)

    def booking(self, user_id: str, event_id: str, *, cancelled: bool = False) -> None:
        booking_id = str(uuid.uuid4())
        image = {"user_id": user_id, "event_id": event_id, "seats": 1, "confirmed_at": DAY1}
        confirmed = image | {"status": "confirmed"}
        self.add("booking.confirmed", "booking", confirmed, at=DAY1, entity_id=booking_id)
        if cancelled:
            image |= {"status": "cancelled"}
            self.add(
                "booking.cancelled", "booking", image, at=DAY2, entity_id=booking_id, version=2
            )

    def search(self, query: str, result_count: int, *, at: str, visitor_id: str) -> str:
        search_id = str(uuid.uuid4())
        payload = {
            "search_id": search_id,
            "query": query,
            "normalized_query": " ".join(query.split()).lower(),
            "filters": {"city": "Berlin"},
            "sort": "relevance",
            "page": 1,
            "result_count": result_count,
            "result_ids": ["e1"][:result_count],
            "user_id": None,
            "visitor_id": visitor_id,
            "searched_at": at,
        }
        return self.add("search.performed", "search", payload, at=at, entity_id=search_id)

    def click(self, search_id: str, event_id: str, position: int, *, at: str) -> None:
        click_id = str(uuid.uuid4())
        payload = {
            "click_id": click_id,
            "search_id": search_id,
            "event_id": event_id,
            "position": position,
            "user_id": None,
            "visitor_id": "v1",
            "clicked_at": at,
        }
        self.add("search.clicked", "search_click", payload, at=at, entity_id=click_id)

    def land(self, warehouse: Path) -> None:
        with duckdb.connect(str(warehouse)) as con:
            ensure_raw(con)
            con.executemany(
                "insert into raw.outbox_events values "
                "(?, 0, null, ?, ?, ?, ?, ?::json, ?::timestamptz, ?, null, now())",
                self.rows,
            )


def test_dbt_build_turns_behaviour_events_into_search_and_recommendation_marts(
    tmp_path: Path,
) -> None:
    outbox = Outbox()
    for event_id, category_id in (("e1", "c1"), ("e2", "c1"), ("e3", "c2")):
        outbox.event(event_id, category_id)
    outbox.booking("u1", "e1")
    outbox.booking("u1", "e2")
    outbox.booking("u2", "e1")
    outbox.booking("u2", "e3", cancelled=True)  # confirmed, then cancelled: does not count
    api_view = {"event_id": "e3", "user_id": "u1", "visitor_id": None, "viewed_at": DAY2}
    outbox.add("event.viewed", "event_view", api_view, at=DAY2)  # as the API emits it
    outbox.add("event.viewed", "event", {}, at=DAY2, entity_id="e1", actor_id="u1")  # older
    jazz = outbox.search("Jazz  Berlin", 1, at=DAY1, visitor_id="v1")
    outbox.click(jazz, "e1", 1, at=DAY1)
    outbox.click(jazz, "e1", 3, at=DAY1)
    outbox.search("jazz berlin", 1, at=DAY2, visitor_id="v2")
    outbox.search("opera", 0, at=DAY2, visitor_id="v2")
    outbox.search("", 3, at=DAY2, visitor_id="v3")  # filters only
    warehouse = tmp_path / "tessera.duckdb"
    outbox.land(warehouse)

    result = _dbt_build(warehouse, tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    _the_currencies_seed_is_loaded(warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.sql(
            "select normalized_query, searches, zero_result_searches, zero_result_rate, "
            "searches_with_click, click_through_rate, clicks, mean_click_position "
            "from marts.search_queries order by normalized_query"
        ).fetchall() == [
            ("jazz berlin", 2, 0, 0.0, 1, 0.5, 2, 2.0),
            ("opera", 1, 1, 1.0, 0, 0.0, 0, None),
        ]
        assert con.sql(
            "select cast(search_date as varchar), searches, unique_searchers, "
            "zero_result_searches, click_through_rate from marts.search_daily order by 1"
        ).fetchall() == [("2026-01-05", 1, 1, 0, 1.0), ("2026-01-06", 3, 2, 1, 0.0)]
        assert con.sql(
            "select event_id, user_id from staging.stg_event_views order by event_id"
        ).fetchall() == [("e1", "u1"), ("e3", "u1")]
        assert con.sql(  # views, searches and clicks are not row images
            "select entity, entity_id from staging.stg_outbox__latest "
            "where entity <> 'booking' order by all"
        ).fetchall() == [("event", "e1"), ("event", "e2"), ("event", "e3")]
        # now = the latest occurred_at (DAY2): 3 x bookings_30d + views_30d / 10 + bookings / 10
        assert con.sql(
            "select event_id, bookings_all_time, views_30d, popularity "
            "from marts.event_popularity order by event_id"
        ).fetchall() == [("e1", 2, 1, 6.3), ("e2", 1, 0, 3.1), ("e3", 0, 1, 0.1)]
        assert con.sql(  # 1 / sqrt(2 x 1)
            "select event_id, similar_event_id, shared_bookers, round(score, 4) "
            "from marts.event_co_bookings order by all"
        ).fetchall() == [("e1", "e2", 1, 0.7071), ("e2", "e1", 1, 0.7071)]
        assert con.sql(  # u1: c1 = 3 x 2 + 1, c2 = 1, of 8
            "select user_id, category_id, bookings, views, score "
            "from marts.user_category_affinity order by all"
        ).fetchall() == [
            ("u1", "c1", 2, 1, 0.875),
            ("u1", "c2", 0, 1, 0.125),
            ("u2", "c1", 1, 0, 1.0),
        ]


def _the_currencies_seed_is_loaded(warehouse: Path) -> None:
    with (DBT_PROJECT_DIR / "seeds" / "currencies.csv").open(newline="") as seed:
        seed_rows = len(list(csv.DictReader(seed)))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.sql("select count(*) from currencies").fetchall() == [(seed_rows,)]
        assert con.sql("select count(*) from staging.stg_seeds__currencies").fetchall() == [
            (seed_rows,)
        ]
        assert con.sql(
            "select minor_units from staging.stg_seeds__currencies where currency_code = 'JPY'"
        ).fetchall() == [(0,)]
