"""Finance exports: `GET /finance/exports/{report}` serves the published snapshot as CSV, XLSX
or Parquet, within dates, to finance and admins only."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from api.users.models import Role
from tests.api.factories import Api
from tests.api.test_events import published_event, ticket_body
from tests.api.test_refunds import _paid, _refund
from tests.conftest import ONE_DATABASE
from tests.pipelines.support import run_pipeline

pytestmark = [
    pytest.mark.filterwarnings("ignore:sqlglotrs is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:AssetExecutionContext.op is deprecated:DeprecationWarning"),
]


@pytest.fixture
def settings_overrides(tmp_path: Path) -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute", "snapshot_dir": tmp_path / "snapshot"}


async def test_refused_and_unavailable_exports_say_why(api: Api) -> None:
    attendee = await api.signed_in()
    finance = await api.signed_in(Role.finance)
    path = "/finance/exports/revenue-by-day"
    assert (await api.client.get(path)).status_code == 401
    forbidden = await api.client.get(path, headers=attendee.headers)
    assert forbidden.status_code == 403
    missing = await api.client.get(path, headers=finance.headers)
    assert (missing.status_code, missing.json()["code"]) == (503, "export.snapshot_unavailable")
    assert missing.headers["Retry-After"] == "60"
    unknown = await api.client.get("/finance/exports/salaries", headers=finance.headers)
    assert (unknown.status_code, unknown.json()["code"], unknown.json()["field"]) == (
        404,
        "export.unknown_report",
        "report",
    )
    backwards = await api.client.get(
        path, params={"from": "2026-02-01", "to": "2026-01-01"}, headers=finance.headers
    )
    assert (backwards.status_code, backwards.json()["code"]) == (422, "export.invalid_range")
    bad_format = await api.client.get(path, params={"format": "pdf"}, headers=finance.headers)
    assert bad_format.status_code == 422


@ONE_DATABASE
@pytest.mark.usefixtures("pipeline")
async def test_reports_come_in_three_formats_within_dates(
    api: Api, database_url: str, tmp_path: Path
) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(quantity=10)])
    paid = [await _paid(api, owner, event) for _ in range(2)]
    assert (await _refund(api, owner, paid[0][2]["id"], amount_cents=2000)).status_code == 201
    assert (await asyncio.to_thread(run_pipeline, database_url, tmp_path)).success
    finance = await api.signed_in(Role.finance)

    as_csv = await api.client.get("/finance/exports/revenue-by-day", headers=finance.headers)
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert 'filename="revenue-by-day.csv"' in as_csv.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert sum(int(row["net_cents"]) for row in rows) == 2 * 5000 - 2000
    assert as_csv.headers["X-Snapshot-Built-At"]

    invoices = await api.client.get(
        "/finance/exports/invoices", params={"format": "parquet"}, headers=finance.headers
    )
    register = pl.read_parquet(io.BytesIO(invoices.content))
    assert sorted(register["kind"].to_list()) == ["credit_note", "invoice", "invoice"]

    workbook = await api.client.get(
        "/finance/exports/payouts", params={"format": "xlsx"}, headers=finance.headers
    )
    assert workbook.status_code == 200
    assert workbook.content[:2] == b"PK"  # an Office Open XML (zip) file
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    header, *values = list(sheet.iter_rows(values_only=True))
    payout = header.index("payout_cents")
    assert sum(int(row[payout]) for row in values) == 2 * 5000 - 2000 - 2 * (175 + 125)

    before = await api.client.get(
        "/finance/exports/revenue-by-day",
        params={"to": "2000-01-01"},
        headers=finance.headers,
    )
    assert before.headers["X-Report-Rows"] == "0"
    other = await api.client.get(
        "/finance/exports/payouts",
        params={"organizerId": str(finance.id)},
        headers=finance.headers,
    )
    assert other.headers["X-Report-Rows"] == "0"
