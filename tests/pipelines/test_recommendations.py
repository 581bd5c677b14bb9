"""Recommendations end to end: bookings made through the API, the pipeline's marts
(co-bookings, category affinity, popularity) and index, then what the API recommends."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from api.users.models import Role
from tests.api.factories import Api, TestUser
from tests.api.test_bookings import _book
from tests.api.test_events import published_event, ticket_body
from tests.conftest import ONE_DATABASE
from tests.pipelines.support import run_pipeline

pytestmark = [
    pytest.mark.filterwarnings("ignore:sqlglotrs is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:AssetExecutionContext.op is deprecated:DeprecationWarning"),
]


@pytest.fixture
def settings_overrides(tmp_path: Path) -> dict[str, object]:
    """The API reads the snapshot and the index the pipeline run below writes."""
    return {
        "rate_limit_login_ip": "1000/minute",
        "snapshot_dir": tmp_path / "snapshot",
        "search_dir": tmp_path / "search",
    }


async def _free_event(api: Api, owner: TestUser, title: str, **extra: Any) -> dict[str, Any]:
    return await published_event(
        api, owner, tickets=[ticket_body(price_cents=0, quantity=50)], title=title, **extra
    )


@ONE_DATABASE
@pytest.mark.usefixtures("pipeline")
async def test_people_who_booked_this_also_booked_that(
    api: Api, database_url: str, tmp_path: Path
) -> None:
    owner = await api.signed_in(Role.organizer)
    opera = await _free_event(api, owner, "Opera Gala")
    ballet = await _free_event(api, owner, "Ballet Matinee")
    rave = await _free_event(api, owner, "Warehouse Rave")
    fans = [await api.signed_in() for _ in range(3)]
    for fan in fans:
        for event in (opera, ballet):
            assert (await _book(api, fan, event, (0, 1))).status_code == 201
    raver = await api.signed_in()
    assert (await _book(api, raver, rave, (0, 1))).status_code == 201
    newcomer = await api.signed_in()
    assert (await _book(api, newcomer, opera, (0, 1))).status_code == 201

    result = await asyncio.to_thread(run_pipeline, database_url, tmp_path)
    assert result.success

    mine = await api.client.get("/users/me/recommendations", headers=newcomer.headers)
    assert mine.status_code == 200, mine.text
    items = mine.json()["items"]
    assert items[0]["event"]["id"] == ballet["id"]
    assert items[0]["reason"] == "booked_together"
    assert opera["id"] not in [r["event"]["id"] for r in items]  # booked already

    similar = await api.client.get(f"/events/{opera['id']}/similar")
    assert similar.status_code == 200
    first = similar.json()["items"][0]
    assert (first["event"]["id"], first["reason"]) == (ballet["id"], "booked_together")

    # Popularity from the marts orders what a visitor with no history is offered.
    stranger = await api.signed_in()
    popular = await api.client.get("/users/me/recommendations", headers=stranger.headers)
    offered = [r["event"]["id"] for r in popular.json()["items"]]
    assert offered[:2] == [opera["id"], ballet["id"]]  # 4 and 3 bookings, then the rave's 1
    assert offered[2] == rave["id"]
