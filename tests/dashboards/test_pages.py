"""Every dashboard page renders a snapshot published from real data, without exceptions, and
shows the figures the OLTP database holds."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

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

PAGES = ("overview", "revenue", "events", "audience", "search", "finance", "notifications")


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


def _page(name: str) -> None:
    from dashboards import views

    getattr(views, name)()


@ONE_DATABASE
@pytest.mark.usefixtures("pipeline")
async def test_every_page_renders_the_published_snapshot(
    api: Api, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(quantity=30)])
    await api.client.get(f"/events/{event['id']}")  # a view
    paid = [await _paid(api, owner, event) for _ in range(3)]
    assert (await _refund(api, owner, paid[0][2]["id"], amount_cents=1000)).status_code == 201
    result = await asyncio.to_thread(run_pipeline, database_url, tmp_path)
    assert result.success
    monkeypatch.setenv("TESSERA_SNAPSHOT_DIR", str(tmp_path / "snapshot"))

    rendered = {}
    for name in PAGES:
        page = AppTest.from_function(_page, args=(name,), default_timeout=60).run()
        assert not page.exception, (name, page.exception)
        rendered[name] = page
    overview = rendered["overview"]
    metrics = {metric.label: metric.value for metric in overview.metric}
    assert metrics["Net revenue (EUR)"] == "140.00"  # 3 x 50.00 - 10.00
    assert metrics["Tickets sold"] == "6"
    charts = {name: [e.type for e in page if "chart" in e.type] for name, page in rendered.items()}
    assert len(charts["revenue"]) == 3, charts  # over time, by category, by organizer
    assert len(charts["events"]) == 1, charts  # the drill-down's sales curve
    assert len(charts["audience"]) == 3, charts  # funnel, cohorts, segments
    events_page = rendered["events"]
    assert events_page.selectbox[0].options  # the drill-down offers the event
    assert {m.label for m in events_page.metric} >= {"Sold", "Projected sell-out"}
    assert "Search analytics appear here" in rendered["search"].info[0].value
    downloads = rendered["finance"].get("download_button")
    assert len(downloads) == 12  # four reports, three formats each
