"""Listing events: visibility, filters, sorting, cursor pages, categories."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from api.users.models import Role
from tests.api.factories import Api
from tests.api.test_events import SOON, create_event, published_event, ticket_body


async def _catalogue(api: Api) -> dict[str, Any]:
    admin = await api.signed_in(Role.admin)
    music = (
        await api.client.post("/categories", headers=admin.headers, json={"name": "Music"})
    ).json()
    talks = (
        await api.client.post("/categories", headers=admin.headers, json={"name": "Talks"})
    ).json()
    owner = await api.signed_in(Role.organizer)
    events = {
        "jazz": await published_event(api, owner, title="Jazz", category_id=music["id"]),
        "free": await published_event(
            api,
            owner,
            title="Open Mic",
            category_id=music["id"],
            tickets=[ticket_body(price_cents=0)],
            starts_at=(SOON + timedelta(days=2)).isoformat(),
            ends_at=(SOON + timedelta(days=2, hours=2)).isoformat(),
        ),
        "paris": await published_event(
            api,
            owner,
            title="Salon",
            category_id=talks["id"],
            venue={"name": "Atelier", "city": "Paris", "country": "FR"},
            tickets=[ticket_body(price_cents=9000)],
            starts_at=(SOON + timedelta(days=1)).isoformat(),
            ends_at=(SOON + timedelta(days=1, hours=2)).isoformat(),
        ),
        "online": await published_event(
            api,
            owner,
            title="Webinar",
            venue=None,
            online_url="https://meet.example.com/x",
            tickets=[ticket_body(price_cents=500)],
            starts_at=(SOON + timedelta(days=3)).isoformat(),
            ends_at=(SOON + timedelta(days=3, hours=1)).isoformat(),
        ),
        "unlisted": await published_event(api, owner, title="Secret", visibility="unlisted"),
    }
    await create_event(api, owner, title="Draft only", category_id=music["id"])
    return {"events": events, "music": music, "talks": talks, "owner": owner}


def _titles(page: dict[str, Any]) -> list[str]:
    return [item["title"] for item in page["items"]]


async def test_listing_shows_published_public_events_only(api: Api) -> None:
    data = await _catalogue(api)
    page = (await api.client.get("/events")).json()
    assert _titles(page) == ["Jazz", "Salon", "Open Mic", "Webinar"]
    assert page["total"] == 4
    unlisted = data["events"]["unlisted"]
    assert (await api.client.get(f"/events/{unlisted['id']}")).status_code == 200  # by link only


async def test_filters(api: Api) -> None:
    data = await _catalogue(api)

    async def titles(query: str) -> list[str]:
        response = await api.client.get(f"/events?{query}")
        assert response.status_code == 200, response.text
        return _titles(response.json())

    assert await titles("city=paris") == ["Salon"]
    assert await titles("country=de") == ["Jazz", "Open Mic"]
    assert await titles("free=true") == ["Open Mic"]
    assert await titles("free=false&online=false") == ["Jazz", "Salon"]
    assert await titles("online=true") == ["Webinar"]
    assert await titles("price_min=1000&price_max=5000") == ["Jazz"]
    assert await titles(f"category_id={data['music']['id']}") == ["Jazz", "Open Mic"]
    day_two = (SOON + timedelta(days=1, hours=12)).isoformat().replace("+", "%2B")
    assert await titles(f"starts_from={day_two}") == ["Open Mic", "Webinar"]
    assert await titles(f"organizer_id={data['owner'].id}") == [
        "Jazz",
        "Salon",
        "Open Mic",
        "Webinar",
    ]
    for query in ("price_min=-1", "price_max=9223372036854775808"):
        bad = await api.client.get(f"/events?{query}")
        assert bad.status_code == 422
        assert bad.json()["field"] == f"query.{query.split('=')[0]}"


async def test_sorting(api: Api) -> None:
    await _catalogue(api)
    by_price = _titles((await api.client.get("/events?sort=price")).json())
    assert by_price == ["Open Mic", "Webinar", "Jazz", "Salon"]
    newest = _titles((await api.client.get("/events?sort=newest")).json())
    assert newest == ["Webinar", "Salon", "Open Mic", "Jazz"]


async def test_cursor_pages_walk_every_event_once(api: Api) -> None:
    await _catalogue(api)
    for sort in ("starts_at", "price", "newest"):
        full = _titles((await api.client.get(f"/events?sort={sort}&limit=100")).json())
        seen: list[str] = []
        cursor = None
        while True:
            query = f"/events?sort={sort}&limit=1" + (f"&cursor={cursor}" if cursor else "")
            page = (await api.client.get(query)).json()
            seen += _titles(page)
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == full, sort
    bad = await api.client.get("/events?cursor=not-a-cursor")
    assert bad.status_code == 422
    assert bad.json()["code"] == "pagination.invalid_cursor"


async def test_organizer_sees_all_their_events(api: Api) -> None:
    data = await _catalogue(api)
    mine = (await api.client.get("/events/organizer", headers=data["owner"].headers)).json()
    assert mine["total"] == 6
    assert {"draft", "published"} == {item["status"] for item in mine["items"]}
    other = await api.signed_in(Role.organizer)
    assert (await api.client.get("/events/organizer", headers=other.headers)).json()["total"] == 0
    attendee = await api.signed_in()
    assert (await api.client.get("/events/organizer", headers=attendee.headers)).status_code == 403


async def test_categories_with_upcoming_counts(api: Api) -> None:
    data = await _catalogue(api)
    categories = (await api.client.get("/categories")).json()
    assert [(c["name"], c["slug"], c["upcoming_events"]) for c in categories] == [
        ("Music", "music", 2),
        ("Talks", "talks", 1),
    ]
    page = (await api.client.get(f"/events/category/{data['talks']['id']}")).json()
    assert _titles(page) == ["Salon"]
    admin = await api.signed_in(Role.admin)
    again = await api.client.post("/categories", headers=admin.headers, json={"name": "Music"})
    assert again.status_code == 409
    assert again.json()["code"] == "category.exists"
    organizer = data["owner"]
    denied = await api.client.post("/categories", headers=organizer.headers, json={"name": "Art"})
    assert denied.status_code == 403
    missing = await api.client.get("/events/category/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
