"""Rules every input follows: storable text, explicit nulls only where a value may be empty,
no repeated list entries. Each refusal is a 422 naming the field, and nothing is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from api.users.models import Role
from tests.api.factories import Api
from tests.api.test_events import create_event, published_event, ticket_body


def assert_refused(response: Any, field: str, error_type: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert problem["field"] == field, problem
    assert any(e["field"] == field and e["type"] == error_type for e in problem["errors"])


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/events?city=Ham%00burg", "query.city"),
        ("/events?q=jazz%00", "query.q"),
        ("/events/slug/harbour%00jazz", "path.slug"),
        ("/search/suggest?q=ja%00", "query.q"),
    ],
)
async def test_nul_in_public_query_and_path_is_refused(api: Api, path: str, field: str) -> None:
    """Anyone can send these, signed in or not: a 422, never a 500 or a stored NUL."""
    assert_refused(await api.client.get(path), field, "unstorable_character")


async def test_nul_and_lone_surrogates_in_json_are_refused_with_their_path(api: Api) -> None:
    organizer = await api.signed_in(Role.organizer)
    event = await create_event(api, organizer)
    for text in ("Pier\\u0000 7", "Pier \\udc00"):
        raw = (
            '{"title": "Harbour", "venue": {"name": "' + text + '", "city": "Hamburg", '
            '"country": "DE"}}'
        )
        response = await api.client.put(
            f"/events/{event['id']}",
            content=raw,
            headers={**organizer.headers, "content-type": "application/json"},
        )
        assert_refused(response, "body.venue.name", "unstorable_character")
    unchanged = await api.client.get(f"/events/{event['id']}", headers=organizer.headers)
    assert unchanged.json()["title"] == event["title"]
    assert unchanged.json()["venue"]["name"] == "Pier 7"


async def test_nul_in_profile_and_booking_fields_is_refused(api: Api) -> None:
    organizer = await api.signed_in(Role.organizer)
    event = await published_event(api, organizer)
    buyer = await api.signed_in()
    response = await api.client.put(
        "/users/profile", json={"bio": "hello\x00"}, headers=buyer.headers
    )
    assert_refused(response, "body.bio", "unstorable_character")
    line = {"ticket_type_id": event["ticket_types"][0]["id"], "quantity": 1}
    response = await api.client.post(
        "/bookings",
        json={"event_id": event["id"], "lines": [{**line, "attendees": ["Ada\x00"]}]},
        headers=buyer.headers,
    )
    assert_refused(response, "body.lines.0.attendees.0", "unstorable_character")
    mine = await api.client.get("/users/me/bookings", headers=buyer.headers)
    assert mine.json()["total"] == 0
    profile = await api.client.get("/users/profile", headers=buyer.headers)
    assert profile.json()["bio"] is None


async def test_nul_in_a_form_field_is_refused(api: Api) -> None:
    response = await api.client.post(
        "/auth/oauth/google/callback", data={"state": "abc\x00", "code": "x"}
    )
    assert_refused(response, "body.state", "unstorable_character")


async def test_a_search_with_nul_records_nothing(api: Api) -> None:
    response = await api.client.get("/events", params={"q": "jazz\x00night"})
    assert response.status_code == 422
    assert await api.outbox("search.performed") == []


async def test_explicit_null_is_refused_where_a_value_cannot_be_empty(api: Api) -> None:
    organizer = await api.signed_in(Role.organizer)
    event = await create_event(api, organizer)
    tickets = await api.client.post(
        f"/events/{event['id']}/ticket-types", json=ticket_body(), headers=organizer.headers
    )
    ticket_type = tickets.json()
    url = f"/events/{event['id']}/ticket-types/{ticket_type['id']}"
    for name in ("name", "price_cents", "quantity", "max_per_order", "tax_inclusive"):
        response = await api.client.put(url, json={name: None}, headers=organizer.headers)
        assert_refused(response, f"body.{name}", "null_not_allowed")
    # Where the value may be empty, null clears it.
    cleared = await api.client.put(
        url, json={"description": None, "sales_end": None}, headers=organizer.headers
    )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["description"] is None
    response = await api.client.put(
        f"/events/{event['id']}", json={"title": None}, headers=organizer.headers
    )
    assert_refused(response, "body.title", "null_not_allowed")
    response = await api.client.put(
        f"/events/{event['id']}", json={"category_id": None}, headers=organizer.headers
    )
    assert response.status_code == 200, response.text


async def test_a_merged_ticket_type_that_breaks_a_rule_is_a_422(api: Api) -> None:
    organizer = await api.signed_in(Role.organizer)
    event = await create_event(api, organizer)
    created = await api.client.post(
        f"/events/{event['id']}/ticket-types",
        json=ticket_body(min_per_order=2, max_per_order=4),
        headers=organizer.headers,
    )
    url = f"/events/{event['id']}/ticket-types/{created.json()['id']}"
    response = await api.client.put(url, json={"max_per_order": 1}, headers=organizer.headers)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "max_per_order"
    assert response.json()["code"] == "ticket_type.invalid"


async def test_admin_template_update_refuses_null_body(api: Api) -> None:
    admin = await api.signed_in(Role.admin)
    created = await api.client.post(
        "/admin/notification-templates",
        json={
            "trigger": "booking_confirmed",
            "channel": "email",
            "subject": "Booked",
            "text_body": "Hello {{ name }}",
        },
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    url = f"/admin/notification-templates/{created.json()['id']}"
    for name in ("text_body", "subject", "weight", "active"):
        response = await api.client.put(url, json={name: None}, headers=admin.headers)
        assert_refused(response, f"body.{name}", "null_not_allowed")


async def test_repeated_preferences_are_refused_all_or_nothing(api: Api) -> None:
    user = await api.signed_in()
    before = await api.client.get("/users/me/notification-preferences", headers=user.headers)
    entry = {"category": "marketing", "channel": "email", "enabled": True}
    for second in (entry, {**entry, "enabled": False}):
        response = await api.client.put(
            "/users/me/notification-preferences",
            json={"preferences": [entry, second]},
            headers=user.headers,
        )
        assert_refused(response, "body.preferences", "repeated_entry")
    after = await api.client.get("/users/me/notification-preferences", headers=user.headers)
    assert after.json() == before.json()


async def test_repeated_ticket_types_and_tags_are_refused(api: Api) -> None:
    organizer = await api.signed_in(Role.organizer)
    event = await published_event(api, organizer)
    buyer = await api.signed_in()
    line = {"ticket_type_id": event["ticket_types"][0]["id"], "quantity": 1}
    response = await api.client.post(
        "/bookings", json={"event_id": event["id"], "lines": [line, line]}, headers=buyer.headers
    )
    assert_refused(response, "body.lines", "repeated_entry")
    response = await api.client.put(
        f"/events/{event['id']}", json={"tags": ["jazz", "jazz"]}, headers=organizer.headers
    )
    assert_refused(response, "body.tags", "repeated_entry")


async def test_attendees_may_share_a_name(api: Api) -> None:
    organizer = await api.signed_in(Role.organizer)
    event = await published_event(api, organizer)
    buyer = await api.signed_in()
    line = {
        "ticket_type_id": event["ticket_types"][0]["id"],
        "quantity": 2,
        "attendees": ["Sam Lee", "Sam Lee"],
    }
    response = await api.client.post(
        "/bookings", json={"event_id": event["id"], "lines": [line]}, headers=buyer.headers
    )
    assert response.status_code == 201, response.text


async def test_the_schema_says_what_is_refused(api: Api) -> None:
    schema = (await api.client.get("/openapi.json")).json()["components"]["schemas"]
    ticket_update = schema["TicketTypeUpdate"]["properties"]
    assert ticket_update["name"]["type"] == "string"
    assert "default" not in ticket_update["name"]
    assert {"type": "null"} in ticket_update["description"]["anyOf"]
    assert schema["PreferencesUpdate"]["properties"]["preferences"]["uniqueItems"] is True
    assert "uniqueItems" not in schema["LineRequest"]["properties"]["attendees"]["anyOf"][0]


async def test_numbers_booleans_and_times_are_what_the_schema_says(api: Api) -> None:
    """No lax coercion behind the document's back: `0` is not false, `false` is not 0, and a
    number is not a date."""
    organizer = await api.signed_in(Role.organizer)
    event = await create_event(api, organizer)
    tickets = await api.client.post(
        f"/events/{event['id']}/ticket-types", json=ticket_body(), headers=organizer.headers
    )
    url = f"/events/{event['id']}/ticket-types/{tickets.json()['id']}"
    for body, field in (
        ({"price_cents": False}, "body.price_cents"),
        ({"quantity": "10"}, "body.quantity"),
        ({"tax_inclusive": 0}, "body.tax_inclusive"),
        ({"sales_end": 1893456000}, "body.sales_end"),
    ):
        response = await api.client.put(url, json=body, headers=organizer.headers)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["field"] == field
    for query in ("starts_to=0.5", "starts_from=1893456000"):
        response = await api.client.get(f"/events?{query}")
        assert response.status_code == 422, response.text
        assert response.json()["field"] == f"query.{query.split('=')[0]}"
    listed = await api.client.get("/events", params={"starts_from": "2026-01-01T00:00:00Z"})
    assert listed.status_code == 200


async def test_the_document_says_where_signing_in_is_optional(api: Api) -> None:
    paths = (await api.client.get("/openapi.json")).json()["paths"]
    assert {} in paths["/events"]["get"]["security"]
    assert {} in paths["/events/{eventId}"]["get"]["security"]
    assert {} not in paths["/users/profile"]["get"]["security"]


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def test_building_the_app_again_leaves_the_input_rules_as_they_were() -> None:
    """The rules are applied once to a model's schema, however often it is reused (each app
    reuses it): wrapping its dates again each time grew the schema until generating the
    document overflowed the stack."""
    from api.events.schemas import EventCreate
    from api.main import create_app
    from tests.api.conftest import make_settings

    create_app(make_settings("sqlite+aiosqlite://", Path("unused"))).openapi()
    depth = _depth(EventCreate.__pydantic_core_schema__)
    for _ in range(10):
        create_app(make_settings("sqlite+aiosqlite://", Path("unused"))).openapi()
    assert _depth(EventCreate.__pydantic_core_schema__) == depth
