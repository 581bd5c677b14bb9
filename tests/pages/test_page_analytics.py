"""What the pages tell the analytics, on both databases: each view of an event's page (also
when the page was shared from memory) and each search, as the JSON API records them."""

from __future__ import annotations

import re

import pytest

from api.users.models import Role
from tests.api.factories import Api
from tests.api.test_events import published_event
from tests.pages.test_checkout import signed_in_browser


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute", "page_cache_seconds": 60}


async def test_every_view_of_an_event_page_is_counted_even_when_shared(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner)
    for _ in range(2):  # the second comes from memory
        page = await api.client.get(f"/event/{event['slug']}")
        [beacon] = re.findall(r'<img class="seen" src="([^"]+)"', page.text)
        seen = await api.client.get(beacon)
        assert seen.status_code == 200
        assert seen.headers["content-type"] == "image/gif"
        assert seen.headers["cache-control"] == "no-store"
    views = await api.outbox("event.viewed")
    assert [v.payload["event_id"] for v in views] == [event["id"], event["id"]]
    visitor = api.client.cookies["tessera_vid"]
    assert {v.payload["visitor_id"] for v in views} == {visitor}  # one visitor, twice

    user = await signed_in_browser(api)
    await api.client.get(beacon)
    mine = (await api.outbox("event.viewed"))[-1]
    assert (mine.payload["user_id"], mine.payload["visitor_id"]) == (str(user.id), None)
    assert (await api.client.get("/event/no-such-event/seen.gif")).status_code == 404


async def test_a_search_on_the_home_page_and_its_clicks_are_recorded(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    await published_event(api, owner, title="Harbour Jazz Night")
    await api.sync_search_index()
    found = await api.client.get("/", params={"q": "harbor jaz"})
    assert "Harbour Jazz Night" in found.text
    [search] = await api.outbox("search.performed")
    assert search.payload["query"] == "harbor jaz"
    assert search.payload["visitor_id"] == found.cookies["tessera_vid"]
    # The result opens through its click link: the click is recorded, then the event's page.
    [link] = re.findall(r'<h2><a href="([^"]+)">Harbour Jazz Night</a>', found.text)
    assert link.startswith(f"/search/{search.payload['search_id']}/open/")
    opened = await api.client.get(link)
    assert opened.headers["location"].endswith("/event/harbour-jazz-night")
    [click] = await api.outbox("search.clicked")
    assert (click.payload["search_id"], click.payload["position"]) == (
        search.payload["search_id"],
        1,
    )
    browsing = await api.client.get("/")
    assert browsing.status_code == 200
    assert len(await api.outbox("search.performed")) == 1  # browsing is not a search
