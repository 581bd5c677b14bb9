"""The sensors ask for a run exactly when there is something new: the outbox sensor for a
refresh of the marts, the search sensor for a sync of the index."""

from __future__ import annotations

import asyncio
from pathlib import Path

import dagster as dg
import pytest

from api.users.models import Role
from pipelines.resources import OltpDatabaseResource, SearchIndexResource, SnapshotResource
from search.factory import make_backend
from tests.api.factories import Api
from tests.api.test_events import published_event

pytestmark = [
    pytest.mark.filterwarnings("ignore:sqlglotrs is deprecated:DeprecationWarning"),
]


def _tick(database_url: str, cursor: str | None) -> dg.SensorResult:
    from pipelines.defs.publish.definitions import outbox_sensor  # after the warning filters

    context = dg.build_sensor_context(
        cursor=cursor, resources={"oltp_database": OltpDatabaseResource(url=database_url)}
    )
    result = outbox_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


@pytest.mark.usefixtures("pipeline")
async def test_the_sensor_requests_a_run_only_for_new_rows(api: Api, database_url: str) -> None:
    empty = _tick(database_url, None)
    assert empty.run_requests == []
    assert empty.skip_reason is not None
    await api.signed_in()
    await api.outbox_settled()
    first = _tick(database_url, None)
    [request] = first.run_requests or []
    assert request.run_key == first.cursor
    again = _tick(database_url, first.cursor)
    assert again.run_requests == []  # nothing new since
    await api.signed_in()
    await api.outbox_settled()
    later = _tick(database_url, first.cursor)
    assert len(later.run_requests or []) == 1
    assert later.cursor != first.cursor


def _search_tick(database_url: str, index_dir: Path, cursor: str | None) -> dg.SensorResult:
    from pipelines.defs.search.definitions import search_sensor

    context = dg.build_sensor_context(
        cursor=cursor,
        resources={
            "oltp_database": OltpDatabaseResource(url=database_url),
            "search_index": SearchIndexResource(path=str(index_dir)),
        },
    )
    result = search_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def _sync(database_url: str, tmp_path: Path) -> dict[str, object]:
    from pipelines.defs.search.definitions import event_index

    result = dg.materialize(
        [event_index],
        run_config={"ops": {"search__event_index": {"config": {"full": False}}}},
        resources={
            "oltp_database": OltpDatabaseResource(url=database_url),
            "search_index": SearchIndexResource(path=str(tmp_path / "search")),
            "snapshot": SnapshotResource(path=str(tmp_path / "snapshot")),
        },
    )
    assert result.success
    [materialization] = result.asset_materializations_for_node("search__event_index")
    return {key: value.value for key, value in materialization.metadata.items()}


@pytest.mark.usefixtures("pipeline")
async def test_the_search_sensor_syncs_the_index_after_catalogue_changes(
    api: Api, database_url: str, tmp_path: Path
) -> None:
    index_dir = tmp_path / "search"
    assert _search_tick(database_url, index_dir, None).run_requests == []
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner)
    await api.outbox_settled()
    first = _search_tick(database_url, index_dir, None)
    assert len(first.run_requests or []) == 1
    figures = await asyncio.to_thread(_sync, database_url, tmp_path)
    assert (figures["mode"], figures["indexed"], figures["documents"]) == ("sync", 1, 1)
    assert _search_tick(database_url, index_dir, first.cursor).run_requests == []
    backend = make_backend("tantivy", index_dir=index_dir)
    assert backend.get(event["id"]) is not None
    cancelled = await api.client.post(
        f"/events/{event['id']}/cancel", headers=owner.headers, json={"reason": "Storm warning"}
    )
    assert cancelled.status_code == 200
    await api.outbox_settled()
    assert len(_search_tick(database_url, index_dir, first.cursor).run_requests or []) == 1
    figures = await asyncio.to_thread(_sync, database_url, tmp_path)
    assert (figures["removed"], figures["documents"]) == (1, 0)
    assert backend.get(event["id"]) is None
