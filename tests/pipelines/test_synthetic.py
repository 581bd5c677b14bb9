"""The bulk generator makes outbox rows the models accept: every dbt model and test builds on
them, and the marts' revenue equals paid minus refunded in the raw rows."""

from __future__ import annotations

from pathlib import Path

import duckdb

from bench.pipeline_build import _check, _dbt_build
from pipelines.synthetic import generate, one_more_sale


def test_generated_data_builds_and_reconciles(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        made = generate(connection, bookings=3_000)
        again = duckdb.connect(str(tmp_path / "again.duckdb"))
        same = generate(again, bookings=3_000)
        again.close()
    assert made.bookings == same.bookings  # seeded: the same arguments, the same data
    assert made.rows > made.bookings * 5
    _dbt_build(warehouse, tmp_path / "target", full_refresh=True)  # raises if a test fails
    before = _check(warehouse)
    assert before["agrees"], before
    with duckdb.connect(str(warehouse)) as connection:
        one_more_sale(connection)
    _dbt_build(warehouse, tmp_path / "target", full_refresh=False)
    after = _check(warehouse)
    assert after["agrees"], after
    assert after["payments"] == before["payments"] + 1
