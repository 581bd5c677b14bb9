"""The whole pipeline on data made through the API: outbox → DuckDB → dbt marts → published
snapshot, with the marts checked against the OLTP database's own figures."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from api.users.models import Role
from pipelines import publish
from tests.api.factories import Api
from tests.api.test_events import published_event, ticket_body
from tests.api.test_refunds import _paid, _refund
from tests.pipelines.support import run_pipeline

pytestmark = [
    pytest.mark.filterwarnings("ignore:sqlglotrs is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:AssetExecutionContext.op is deprecated:DeprecationWarning"),
]


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


def _snapshot(tmp_path: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    build = publish.current(tmp_path / "snapshot")
    assert build is not None
    with duckdb.connect() as reader:
        for table in build.glob("*.parquet"):
            reader.execute(f"create view {table.stem} as select * from '{table}'")  # noqa: S608 - paths of the test's own snapshot
        return reader.execute(sql, list(params)).fetchall()


def _check_passed(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    [evaluation] = [
        found
        for found in result.get_asset_check_evaluations()
        if found.check_name == "revenue_reconciles_with_oltp"
    ]
    failed = [
        found.check_name for found in result.get_asset_check_evaluations() if not found.passed
    ]
    assert failed == []
    assert evaluation.passed, evaluation.metadata
    return {key: value.value for key, value in evaluation.metadata.items()}


@pytest.mark.usefixtures("pipeline")
async def test_the_marts_match_the_oltp_database_and_follow_its_changes(
    api: Api, database_url: str, tmp_path: Path
) -> None:
    owner = await api.signed_in(Role.organizer)
    euro = await published_event(api, owner, tickets=[ticket_body(quantity=20)])
    dollar = await published_event(
        api, owner, tickets=[ticket_body(quantity=10, price_cents=4000)], currency="USD"
    )
    paid = [await _paid(api, owner, euro) for _ in range(3)]
    _, _, usd_payment = await _paid(api, owner, dollar, quantity=1)
    assert (await _refund(api, owner, paid[0][2]["id"], amount_cents=1500)).status_code == 201
    assert (await _refund(api, owner, paid[1][2]["id"])).status_code == 201  # in full

    first = await asyncio.to_thread(run_pipeline, database_url, tmp_path)
    assert first.success
    [indexed] = first.asset_materializations_for_node("search__event_index")
    assert indexed.metadata["mode"].value == "full"
    assert indexed.metadata["documents"].value == 2  # both published events are searchable
    figures = _check_passed(first)
    assert figures["oltp_net_cents"] == {"EUR": 3 * 5000 - 1500 - 5000, "USD": 4000}
    assert figures["payments_in_flight"] == 0
    assert _snapshot(
        tmp_path,
        "select currency, sum(gross_cents), sum(refunds_cents), sum(net_cents), "
        "sum(organizer_payout_cents) from revenue_daily group by all order by currency",
    ) == [
        ("EUR", 15000, 6500, 8500, 8500 - 3 * (175 + 125)),
        ("USD", 4000, 0, 4000, 4000 - 146 - 100),
    ]
    assert _snapshot(
        tmp_path,
        "select capacity, seats_sold, sell_through, bookings_cancelled from event_performance "
        "where event_id = ?",
        euro["id"],
    ) == [(20, 4, 0.2, 1)]

    assert _snapshot(
        tmp_path,
        "select kind, currency, count(*), sum(gross_cents) from invoice_register "
        "group by all order by 1, 2",
    ) == [
        ("credit_note", "EUR", 2, -6500),
        ("invoice", "EUR", 3, 15000),
        ("invoice", "USD", 1, 4000),
    ]
    assert _snapshot(tmp_path, "select max(sequence), count(*) from invoice_register") == [(6, 6)]
    assert _snapshot(
        tmp_path,
        "select currency, sum(payout_cents) from organizer_payouts group by all order by 1",
    ) == [("EUR", 7600), ("USD", 3754)]
    assert _snapshot(
        tmp_path,
        "select max(seats_cumulative), any_value(capacity) from event_sales_daily "
        "where event_id = ?",
        euro["id"],
    ) == [(4, 20)]
    assert _snapshot(
        tmp_path,
        "select sum(bookings_started), sum(bookings_confirmed), sum(payments_succeeded) "
        "from funnel_daily where event_id = ?",
        euro["id"],
    ) == [(3, 3, 3)]
    assert _snapshot(tmp_path, "select count(*), sum(bookings) from customers") == [(3, 3)]

    exported = sorted(path.name for path in (tmp_path / "exports").iterdir())
    assert exported == sorted(
        f"{report}.{suffix}"
        for report in ("revenue-by-day", "payouts", "tax", "invoices")
        for suffix in ("csv", "xlsx", "parquet")
    )

    # More happens; the next build picks it up (fct_payments is incremental).
    assert (await _refund(api, owner, usd_payment["id"], amount_cents=1000)).status_code == 201
    await _paid(api, owner, euro, quantity=1)
    second = await asyncio.to_thread(run_pipeline, database_url, tmp_path)
    figures = _check_passed(second)
    assert figures["oltp_net_cents"] == {"EUR": 8500 + 2500, "USD": 3000}
    assert _snapshot(
        tmp_path, "select currency, sum(net_cents) from revenue_daily group by all order by 1"
    ) == [("EUR", 11000), ("USD", 3000)]
    assert _snapshot(tmp_path, "select count(*) from fct_payments") == [(5,)]
