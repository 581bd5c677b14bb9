"""The events catalogue: lifecycle, ownership, ticket types, slugs and listing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.events import service as events_service
from api.users.models import Role
from tests.api.factories import Api, TestUser

SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)


def event_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Harbour Jazz Night",
        "description": "Live **jazz** by the water.",
        "venue": {
            "name": "Pier 7",
            "city": "Hamburg",
            "country": "DE",
            "latitude": 53.5,
            "longitude": 9.9,
        },
        "starts_at": SOON.isoformat(),
        "ends_at": (SOON + timedelta(hours=3)).isoformat(),
        "timezone": "Europe/Berlin",
        "capacity": 200,
        "currency": "EUR",
    }
    body.update(overrides)
    return body


def ticket_body(**overrides: Any) -> dict[str, Any]:
    return {"name": "General admission", "price_cents": 2500, "quantity": 150, **overrides}


async def create_event(api: Api, owner: TestUser, **overrides: Any) -> dict[str, Any]:
    response = await api.client.post("/events", headers=owner.headers, json=event_body(**overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def published_event(
    api: Api, owner: TestUser, tickets: list[dict[str, Any]] | None = None, **overrides: Any
) -> dict[str, Any]:
    event = await create_event(api, owner, **overrides)
    for ticket in tickets or [ticket_body()]:
        added = await api.client.post(
            f"/events/{event['id']}/ticket-types", headers=owner.headers, json=ticket
        )
        assert added.status_code == 201, added.text
    published = await api.client.post(f"/events/{event['id']}/publish", headers=owner.headers)
    assert published.status_code == 200, published.text
    return dict(published.json())


async def test_organizer_creates_a_draft_with_a_slug(api: Api) -> None:
    organizer = await api.signed_in(Role.organizer)
    event = await create_event(api, organizer)
    assert event["status"] == "draft"
    assert event["slug"] == "harbour-jazz-night"
    assert event["organizer_id"] == str(organizer.id)
    assert event["description_html"] == "<p>Live <strong>jazz</strong> by the water.</p>\n"
    assert event["venue"]["city"] == "Hamburg"
    [created] = await api.outbox("event.created")
    assert created.entity_id == event["id"]
    assert created.actor_id == organizer.id


async def test_only_organizers_and_admins_create_events(api: Api) -> None:
    attendee = await api.signed_in()
    assert (
        await api.client.post("/events", headers=attendee.headers, json=event_body())
    ).status_code == 403
    assert (await api.client.post("/events", json=event_body())).status_code == 401
    admin = await api.signed_in(Role.admin)
    assert (
        await api.client.post("/events", headers=admin.headers, json=event_body())
    ).status_code == 201


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ends_at": SOON.isoformat()}, "body"),
        ({"venue": None}, "body"),
        ({"currency": "euro"}, "body.currency"),
        ({"timezone": "Mars/Olympus"}, "body.timezone"),
        ({"capacity": -1}, "body.capacity"),
        ({"starts_at": "2030-01-01T10:00:00"}, "body.starts_at"),
        ({"status": "published"}, "body.status"),
    ],
)
async def test_bad_event_input_names_the_field(
    api: Api, overrides: dict[str, Any], field: str
) -> None:
    organizer = await api.signed_in(Role.organizer)
    response = await api.client.post(
        "/events", headers=organizer.headers, json=event_body(**overrides)
    )
    assert response.status_code == 422
    assert response.json()["field"] == field
    assert await api.outbox("event.created") == []


async def test_drafts_are_visible_only_to_their_owner_and_admins(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    other = await api.signed_in(Role.organizer)
    admin = await api.signed_in(Role.admin)
    event = await create_event(api, owner)
    path = f"/events/{event['id']}"
    assert (await api.client.get(path, headers=owner.headers)).status_code == 200
    assert (await api.client.get(path, headers=admin.headers)).status_code == 200
    assert (await api.client.get(path, headers=other.headers)).status_code == 404
    assert (await api.client.get(path)).status_code == 404
    assert (await api.client.get(f"/events/slug/{event['slug']}")).status_code == 404
    listed = (await api.client.get("/events")).json()
    assert listed["items"] == []


async def test_publishing_needs_a_ticket_type_and_a_future_start(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await create_event(api, owner)
    bare = await api.client.post(f"/events/{event['id']}/publish", headers=owner.headers)
    assert bare.status_code == 409
    assert bare.json()["code"] == "event.no_ticket_types"

    past = await create_event(
        api,
        owner,
        starts_at=(datetime.now(UTC) - timedelta(days=1)).isoformat(),
        ends_at=(datetime.now(UTC) - timedelta(hours=20)).isoformat(),
    )
    await api.client.post(
        f"/events/{past['id']}/ticket-types", headers=owner.headers, json=ticket_body()
    )
    late = await api.client.post(f"/events/{past['id']}/publish", headers=owner.headers)
    assert late.status_code == 409
    assert late.json()["code"] == "event.starts_in_past"

    published = await published_event(api, owner, title="Second Night")
    assert published["status"] == "published"
    assert published["published_at"] is not None
    again = await api.client.post(f"/events/{published['id']}/publish", headers=owner.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "event.invalid_transition"
    assert len(await api.outbox("event.published")) == 1


async def test_ticket_types_may_not_exceed_capacity(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await create_event(api, owner, capacity=100)
    base = f"/events/{event['id']}/ticket-types"
    first = await api.client.post(base, headers=owner.headers, json=ticket_body(quantity=60))
    assert first.status_code == 201
    over = await api.client.post(
        base, headers=owner.headers, json=ticket_body(name="VIP", quantity=41)
    )
    assert over.status_code == 422
    assert over.json()["code"] == "event.capacity_exceeded"
    grow = await api.client.put(
        f"{base}/{first.json()['id']}", headers=owner.headers, json={"quantity": 101}
    )
    assert grow.status_code == 422
    shrink_event = await api.client.put(
        f"/events/{event['id']}", headers=owner.headers, json={"capacity": 59}
    )
    assert shrink_event.status_code == 422
    assert shrink_event.json()["field"] == "capacity"
    bad_window = await api.client.post(
        base,
        headers=owner.headers,
        json=ticket_body(
            sales_start=SOON.isoformat(), sales_end=(SOON - timedelta(days=1)).isoformat()
        ),
    )
    assert bad_window.status_code == 422
    listed = (await api.client.get(base, headers=owner.headers)).json()
    assert [t["quantity"] for t in listed] == [60]


async def test_only_the_owner_or_an_admin_changes_an_event(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    intruder = await api.signed_in(Role.organizer)
    admin = await api.signed_in(Role.admin)
    event = await published_event(api, owner)
    path = f"/events/{event['id']}"
    ticket_id = event["ticket_types"][0]["id"]
    attempts = [
        api.client.put(path, headers=intruder.headers, json={"title": "Mine now"}),
        api.client.post(f"{path}/cancel", headers=intruder.headers, json={"reason": "because"}),
        api.client.post(f"{path}/duplicate", headers=intruder.headers),
        api.client.post(
            f"{path}/ticket-types", headers=intruder.headers, json=ticket_body(quantity=1)
        ),
        api.client.put(
            f"{path}/ticket-types/{ticket_id}", headers=intruder.headers, json={"price_cents": 1}
        ),
        api.client.delete(f"{path}/ticket-types/{ticket_id}", headers=intruder.headers),
        api.client.delete(path, headers=intruder.headers),
    ]
    for response in await asyncio.gather(*attempts):
        assert response.status_code == 403, response.request.url
        assert response.json()["code"] == "event.not_owner"
    attendee = await api.signed_in()
    assert (
        await api.client.put(path, headers=attendee.headers, json={"title": "x" * 5})
    ).status_code == 403
    by_admin = await api.client.put(path, headers=admin.headers, json={"title": "Fixed by admin"})
    assert by_admin.status_code == 200
    assert (await api.client.get(path)).json()["title"] == "Fixed by admin"


async def test_after_publishing_currency_is_fixed_and_slug_is_stable(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner)
    path = f"/events/{event['id']}"
    locked = await api.client.put(path, headers=owner.headers, json={"currency": "USD"})
    assert locked.status_code == 409
    assert locked.json()["code"] == "event.currency_locked"
    renamed = await api.client.put(
        path, headers=owner.headers, json={"title": "Harbour Jazz Nights"}
    )
    assert renamed.json()["slug"] == "harbour-jazz-night"
    moved = await api.client.put(path, headers=owner.headers, json={"slug": "jazz-at-pier-7"})
    assert moved.status_code == 200
    assert moved.json()["slug"] == "jazz-at-pier-7"
    for slug in ("jazz-at-pier-7", "harbour-jazz-night"):
        found = await api.client.get(f"/events/slug/{slug}")
        assert found.status_code == 200
        assert found.json()["id"] == event["id"]
    other = await create_event(api, owner, title="Another")
    taken = await api.client.put(
        f"/events/{other['id']}", headers=owner.headers, json={"slug": "harbour-jazz-night"}
    )
    assert taken.status_code == 409
    assert taken.json()["code"] == "event.slug_taken"


async def test_cancel_needs_a_reason_and_freezes_the_event(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner)
    path = f"/events/{event['id']}"
    assert (
        await api.client.post(f"{path}/cancel", headers=owner.headers, json={})
    ).status_code == 422
    cancelled = await api.client.post(
        f"{path}/cancel", headers=owner.headers, json={"reason": "Storm warning"}
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    [row] = await api.outbox("event.cancelled")
    assert row.payload["cancellation_reason"] == "Storm warning"
    frozen = await api.client.put(path, headers=owner.headers, json={"title": "Back on"})
    assert frozen.status_code == 409
    assert frozen.json()["code"] == "event.not_editable"
    assert (await api.client.get(path)).json()["status"] == "cancelled"  # still viewable by link
    assert (await api.client.get("/events")).json()["items"] == []


async def test_only_drafts_can_be_deleted(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    draft = await create_event(api, owner)
    live = await published_event(api, owner, title="Live one")
    assert (
        await api.client.delete(f"/events/{live['id']}", headers=owner.headers)
    ).status_code == 409
    assert (
        await api.client.delete(f"/events/{draft['id']}", headers=owner.headers)
    ).status_code == 204
    assert (
        await api.client.get(f"/events/{draft['id']}", headers=owner.headers)
    ).status_code == 404
    assert len(await api.outbox("event.deleted")) == 1


async def test_duplicate_makes_a_shifted_draft_with_ticket_types(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(
        api, owner, tickets=[ticket_body(), ticket_body(name="VIP", quantity=10)]
    )
    response = await api.client.post(
        f"/events/{event['id']}/duplicate", headers=owner.headers, json={"shift_days": 7}
    )
    assert response.status_code == 201
    copy = response.json()
    assert copy["status"] == "draft"
    assert copy["id"] != event["id"]
    assert copy["slug"] == "harbour-jazz-night-2"
    assert [t["name"] for t in copy["ticket_types"]] == ["General admission", "VIP"]
    shifted = datetime.fromisoformat(copy["starts_at"]) - datetime.fromisoformat(event["starts_at"])
    assert shifted == timedelta(days=7)


async def test_slugs_stay_unique_under_concurrent_creation(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    responses = await asyncio.gather(
        *(api.client.post("/events", headers=owner.headers, json=event_body()) for _ in range(6))
    )
    assert [r.status_code for r in responses] == [201] * 6
    slugs = {r.json()["slug"] for r in responses}
    assert len(slugs) == 6
    assert "harbour-jazz-night" in slugs


async def test_markdown_is_sanitised(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await create_event(
        api,
        owner,
        description='<script>alert(1)</script>[x](javascript:alert(2)) <img src=x onerror="y">',
    )
    html = event["description_html"]
    assert "<script" not in html
    assert "<img" not in html
    assert 'href="javascript' not in html
    assert "<p>" in html


async def test_viewing_an_event_records_a_behaviour_event(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner)
    first = await api.client.get(f"/events/{event['id']}")
    visitor = first.cookies.get("tessera_vid")
    assert visitor
    viewer = await api.signed_in()
    await api.client.get(f"/events/slug/{event['slug']}", headers=viewer.headers)
    views = await api.outbox("event.viewed")
    assert [v.payload["event_id"] for v in views] == [event["id"]] * 2
    assert views[0].payload["visitor_id"] == visitor
    assert views[1].payload["user_id"] == str(viewer.id)


async def test_ended_events_are_completed(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner)
    async with api.app.state.sessionmaker() as session:
        early = await events_service.complete_ended(session, now=SOON)
        later = await events_service.complete_ended(session, now=SOON + timedelta(hours=4))
        await session.commit()
    assert (early, later) == (0, 1)
    assert (await api.client.get(f"/events/{event['id']}")).json()["status"] == "completed"
    assert len(await api.outbox("event.completed")) == 1
    assert (
        await api.client.post(
            f"/events/{event['id']}/cancel", headers=owner.headers, json={"reason": "late"}
        )
    ).status_code == 409
