"""Search through the API: `GET /events?q=` over the index the pipelines keep, suggestions,
clicks, similar events and recommendations, each search and click recorded in the outbox."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.users.models import Role
from pipelines import search_index
from tests.api.factories import Api, TestUser
from tests.api.test_bookings import _book
from tests.api.test_events import event_body, published_event, ticket_body


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


async def sync_index(api: Api) -> search_index.SyncResult:
    return await api.sync_search_index()


def berlin(**overrides: Any) -> dict[str, Any]:
    venue = {
        "name": "Kraftwerk",
        "city": "Berlin",
        "country": "DE",
        "latitude": 52.51,
        "longitude": 13.42,
    }
    return {"venue": venue, **overrides}


async def catalogue(api: Api) -> tuple[TestUser, dict[str, dict[str, Any]]]:
    owner = await api.signed_in(Role.organizer)
    events = {
        "jazz": await published_event(api, owner, tags=["jazz", "live"]),
        "techno": await published_event(
            api,
            owner,
            tickets=[ticket_body(price_cents=1500)],
            **berlin(title="Techno Marathon", description="Twelve hours of techno."),
        ),
        "free": await published_event(
            api,
            owner,
            tickets=[ticket_body(price_cents=0)],
            **berlin(title="Open Air Jazz Picnic", description="Bring a blanket."),
        ),
    }
    return owner, events


def _search(api: Api, user: TestUser | None = None, **params: Any):  # type: ignore[no-untyped-def]
    return api.client.get("/events", params=params, headers=user.headers if user else None)


async def test_a_search_finds_events_despite_typos_with_facets_and_highlights(api: Api) -> None:
    owner, events = await catalogue(api)
    draft = await api.client.post(
        "/events", headers=owner.headers, json=event_body(title="Secret Jazz Rehearsal")
    )
    assert draft.status_code == 201
    await sync_index(api)

    found = await _search(api, q="jaz nihgt")
    assert found.status_code == 200, found.text
    page = found.json()
    # Every word (despite the typos) first, then events with some of them; not the draft.
    assert [item["id"] for item in page["items"]] == [events["jazz"]["id"], events["free"]["id"]]
    item = page["items"][0]
    assert item["ticket_types"] == events["jazz"]["ticket_types"]  # the listing's shape
    assert "<mark>Jazz</mark>" in item["highlights"]["title"]
    search_id = page["search_id"]
    assert item["click_url"].endswith(f"/search/{search_id}/open/{item['id']}?position=1")

    jazz = (await _search(api, q="jazz")).json()
    assert {i["id"] for i in jazz["items"]} == {events["jazz"]["id"], events["free"]["id"]}
    assert jazz["total"] == 2  # not the draft
    assert jazz["facets"]["city"] == {"Hamburg": 1, "Berlin": 1}
    assert jazz["facets"]["price"] == {"free": 1, "20_to_50": 1}

    recorded = [row.payload for row in await api.outbox("search.performed")]
    assert [(r["query"], r["result_count"]) for r in recorded] == [("jaz nihgt", 2), ("jazz", 2)]
    assert recorded[1]["result_ids"] == [i["id"] for i in jazz["items"]]
    assert recorded[0]["search_id"] == search_id


async def test_filters_sorting_and_pages_through_the_index(api: Api) -> None:
    _, events = await catalogue(api)
    await sync_index(api)
    near = await _search(api, lat=52.52, lon=13.40, radius_km=10)
    assert {i["id"] for i in near.json()["items"]} == {events["techno"]["id"], events["free"]["id"]}
    free = await _search(api, q="jazz", free="true")
    assert [i["id"] for i in free.json()["items"]] == [events["free"]["id"]]
    tagged = await _search(api, tags=["live"])
    assert [i["id"] for i in tagged.json()["items"]] == [events["jazz"]["id"]]
    cheapest = await _search(api, sort="price", tags=[], q="a")
    prices = [i["price_min_cents"] for i in cheapest.json()["items"]]
    assert prices == sorted(prices)

    first = (await _search(api, sort="relevance", limit=2)).json()
    assert first["total"] == 3
    assert len(first["items"]) == 2
    second = (await _search(api, sort="relevance", limit=2, cursor=first["next_cursor"])).json()
    assert second["next_cursor"] is None
    seen = [i["id"] for i in first["items"] + second["items"]]
    assert sorted(seen) == sorted(e["id"] for e in events.values())


async def test_changes_reach_the_index_with_the_next_sync(api: Api) -> None:
    owner, events = await catalogue(api)
    await sync_index(api)
    jazz = events["jazz"]
    changed = await api.client.put(
        f"/events/{jazz['id']}", headers=owner.headers, json={"title": "Fjord Blues Evening"}
    )
    assert changed.status_code == 200, changed.text
    cancelled = await api.client.post(
        f"/events/{events['techno']['id']}/cancel",
        headers=owner.headers,
        json={"reason": "The power plant is flooded."},
    )
    assert cancelled.status_code == 200
    # Before the sync the index is behind, but a cancelled event is never shown.
    assert (await _search(api, q="techno")).json()["items"] == []
    result = await sync_index(api)
    assert (result.indexed, result.removed) == (1, 1)
    assert [i["id"] for i in (await _search(api, q="fjord")).json()["items"]] == [jazz["id"]]
    assert (await _search(api, q="harbour")).json()["total"] == 0
    assert (await _search(api, q="techno")).json()["total"] == 0
    assert (await sync_index(api)).indexed == 0  # nothing new: nothing re-indexed


async def test_suggestions_complete_titles_and_cities(api: Api) -> None:
    _, events = await catalogue(api)
    await sync_index(api)
    found = await api.client.get("/search/suggest", params={"q": "techn"})
    assert found.status_code == 200
    assert found.json()["items"][0] == {
        "text": "Techno Marathon",
        "kind": "title",
        "event_id": events["techno"]["id"],
    }
    cities = (await api.client.get("/search/suggest", params={"q": "ber"})).json()["items"]
    assert {"text": "Berlin", "kind": "city", "event_id": None} in cities
    empty = await api.client.get("/search/suggest", params={"q": ""})
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["field"] == "query.q"


async def test_clicks_on_results_are_recorded(api: Api) -> None:
    _, _events = await catalogue(api)
    await sync_index(api)
    page = (await _search(api, q="techno")).json()
    search_id, [item] = page["search_id"], page["items"]
    clicked = await api.client.post(
        "/search/clicks", json={"search_id": search_id, "event_id": item["id"], "position": 1}
    )
    assert clicked.status_code == 201, clicked.text
    opened = await api.client.get(item["click_url"].removeprefix(api.settings.public_base_url))
    assert opened.status_code == 303
    assert opened.headers["location"].endswith(f"/event/{item['slug']}")  # the shop's page
    clicks = [row.payload for row in await api.outbox("search.clicked")]
    assert [(c["search_id"], c["event_id"], c["position"]) for c in clicks] == [
        (search_id, item["id"], 1)
    ] * 2
    unknown = await api.client.post(
        "/search/clicks",
        json={"search_id": str(uuid.uuid4()), "event_id": item["id"], "position": 1},
    )
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "search.not_found"
    assert len(await api.outbox("search.clicked")) == 2  # nothing half-written


async def test_bad_search_input_is_a_clear_problem(api: Api) -> None:
    partial = await _search(api, lat=52.5, lon=13.4)
    assert partial.status_code == 422
    assert (partial.json()["code"], partial.json()["field"]) == (
        "search.incomplete_geo_filter",
        "radius_km",
    )
    newest = await _search(api, q="jazz", sort="newest")
    assert newest.status_code == 422
    assert newest.json()["code"] == "event.sort_needs_search"
    organizer = await api.signed_in(Role.organizer)
    own = await api.client.get(
        "/events/organizer", params={"sort": "relevance"}, headers=organizer.headers
    )
    assert (own.status_code, own.json()["code"]) == (422, "event.sort_needs_search")
    cursor = await _search(api, q="jazz", cursor="not-a-cursor")
    assert (cursor.status_code, cursor.json()["code"]) == (422, "search.invalid_cursor")


async def test_recommendations_never_offer_past_sold_out_cancelled_or_booked_events(
    api: Api,
) -> None:
    owner, events = await catalogue(api)
    sold_out = await published_event(
        api, owner, tickets=[ticket_body(quantity=1, price_cents=0)], title="Tiny Jazz Club"
    )
    buyer = await api.signed_in()
    taker = await api.signed_in()
    assert (await _book(api, taker, sold_out, (0, 1))).status_code == 201
    assert (await _book(api, buyer, events["free"], (0, 1))).status_code == 201
    await sync_index(api)

    mine = await api.client.get("/users/me/recommendations", headers=buyer.headers)
    assert mine.status_code == 200, mine.text
    offered = [r["event"]["id"] for r in mine.json()["items"]]
    assert events["free"]["id"] not in offered  # booked already
    assert sold_out["id"] not in offered
    assert set(offered) == {events["jazz"]["id"], events["techno"]["id"]}
    assert {r["reason"] for r in mine.json()["items"]} <= {"category", "popular"}

    similar = await api.client.get(f"/events/{events['jazz']['id']}/similar")
    assert similar.status_code == 200
    ids = [r["event"]["id"] for r in similar.json()["items"]]
    assert events["jazz"]["id"] not in ids
    assert sold_out["id"] not in ids
    assert set(ids) == {events["techno"]["id"], events["free"]["id"]}
    anonymous = await api.client.get("/users/me/recommendations")
    assert anonymous.status_code == 401


async def test_a_newcomer_gets_popular_upcoming_events(api: Api) -> None:
    owner, events = await catalogue(api)
    soon = await published_event(
        api,
        owner,
        title="Starts In A Minute",
        starts_at=(datetime.now(UTC) + timedelta(hours=2)).isoformat(),
        ends_at=(datetime.now(UTC) + timedelta(hours=4)).isoformat(),
    )
    await sync_index(api)
    newcomer = await api.signed_in()
    found = await api.client.get(
        "/users/me/recommendations", params={"limit": 2}, headers=newcomer.headers
    )
    assert found.status_code == 200
    items = found.json()["items"]
    assert len(items) == 2
    assert {r["reason"] for r in items} == {"popular"}
    assert {r["event"]["id"] for r in items} <= {e["id"] for e in events.values()} | {soon["id"]}
