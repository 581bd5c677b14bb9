"""The outbox sensor asks for a refresh exactly when ingestion has something new to take."""

from __future__ import annotations

import dagster as dg
import pytest

from pipelines.resources import OltpDatabaseResource
from tests.api.factories import Api

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
    first = _tick(database_url, None)
    [request] = first.run_requests or []
    assert request.run_key == first.cursor
    again = _tick(database_url, first.cursor)
    assert again.run_requests == []  # nothing new since
    await api.signed_in()
    later = _tick(database_url, first.cursor)
    assert len(later.run_requests or []) == 1
    assert later.cursor != first.cursor
