"""A check generated from `/openapi.json`: every operation, sent NUL characters in each text
field, query parameter and path segment, an explicit null in each body field and a repeated
entry in each list, answers a 4xx problem and never a 5xx (a NUL is always a 422).

Each operation starts from a body built from its own schema, with the ids of a small world
(an organizer's published event, a paid booking, a template) in its path, so the changes reach
the route's code rather than stopping at a 404.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.users.models import Role
from tests.api.factories import Api, TestUser
from tests.api.test_events import event_body, published_event, ticket_body

NUL_TEXT = "a\x00b"
JSON_TYPES = ("application/json",)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Values for string fields whose schema alone does not say what a valid one looks like.
NAMED_STRINGS = {
    "currency": "EUR",
    "country": "DE",
    "timezone": "Europe/Berlin",
    "locale": "en",
    "email": "someone@example.com",
    "password": "violet-kettle-harbour-42",
    "new_password": "amber-lantern-orchard-77",
    "phone": "+4915112345678",
    "slug": "a-fine-slug",
    "trigger": "booking_confirmed",
    "text_body": "Hello {{ name }}",
    "payment_method": "4242 4242 4242 4242",
    "endpoint": "https://push.example.com/send/abc",
    "p256dh": "B" * 40,
    "auth": "A" * 16,
}


# Bodies whose rules span fields (an event needs a venue or an online address).
BASELINES = {("POST", "/events"): event_body()}


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "100000/minute", "rate_limit_login_account": "100000/minute"}


class World:
    """Ids a path parameter of each name takes, and the admin the calls are made as."""

    def __init__(self, admin: TestUser, ids: dict[str, str]) -> None:
        self.admin = admin
        self.ids = ids

    def path(self, template: str, parameters: list[dict[str, Any]], nul_in: str | None) -> str:
        for parameter in parameters:
            if parameter["in"] != "path":
                continue
            name = parameter["name"]
            value = self.ids.get(name, str(uuid.uuid4()))
            if name == nul_in:
                value = "x%00y"
            template = template.replace("{" + name + "}", value)
        return template


async def _world(api: Api) -> World:
    admin = await api.signed_in(Role.admin)
    organizer = await api.signed_in(Role.organizer)
    event = await published_event(api, organizer, tickets=[ticket_body(quantity=50)])
    buyer = await api.signed_in()
    booking = await api.client.post(
        "/bookings",
        json={
            "event_id": event["id"],
            "lines": [{"ticket_type_id": event["ticket_types"][0]["id"], "quantity": 1}],
        },
        headers=buyer.headers,
    )
    assert booking.status_code == 201, booking.text
    payment = await api.client.post(
        f"/bookings/{booking.json()['id']}/payments",
        json={"payment_method": "4242 4242 4242 4242"},
        headers=buyer.headers,
    )
    assert payment.status_code in (200, 201), payment.text
    category = await api.client.post(
        "/categories", json={"name": "Fuzzed category"}, headers=admin.headers
    )
    template = await api.client.post(
        "/admin/notification-templates",
        json={"trigger": "booking_confirmed", "channel": "email", "text_body": "Hi {{ name }}"},
        headers=admin.headers,
    )
    assert template.status_code == 201, template.text
    return World(
        admin,
        {
            "eventId": event["id"],
            "slug": event["slug"],
            "ticketTypeId": event["ticket_types"][0]["id"],
            "bookingId": booking.json()["id"],
            "paymentId": payment.json()["id"],
            "categoryId": category.json()["id"],
            "templateId": template.json()["id"],
            "userId": str(buyer.id),
            "provider": "google",
            "report": "revenue_daily",
        },
    )


class Schema:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = self.document["components"]["schemas"][name]
        return schema

    def variant(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The first non-null alternative of a schema."""
        schema = self.resolve(schema)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [s for s in schema[key] if self.resolve(s).get("type") != "null"]
                return self.variant(options[0]) if options else {"type": "null"}
        if "allOf" in schema:
            return self.variant(schema["allOf"][0])
        return schema

    def example(self, schema: dict[str, Any], name: str, ids: dict[str, str]) -> Any:
        """A plausible value: examples, defaults and formats first, then the type's simplest."""
        schema = self.variant(schema)
        if schema.get("examples") and schema.get("type") != "object":
            # A whole object's example names made-up ids; objects are built field by field
            # so that ids come from the world and the changes reach the routes' code.
            return copy.deepcopy(schema["examples"][0])
        if schema.get("default") is not None:
            return copy.deepcopy(schema["default"])
        if "enum" in schema:
            return schema["enum"][0]
        if "const" in schema:
            return schema["const"]
        kind = schema.get("type")
        if kind == "object":
            properties = schema.get("properties", {})
            return {
                key: self.example(properties[key], key, ids) for key in schema.get("required", [])
            }
        if kind == "array":
            count = max(1, schema.get("minItems", 0))
            items = [self.example(schema.get("items", {}), name, ids) for _ in range(count)]
            return items if schema.get("uniqueItems") is not True or count == 1 else items[:1]
        if kind == "integer":
            return max(1, schema.get("minimum", 1))
        if kind == "number":
            return float(max(1, schema.get("minimum", 1)))
        if kind == "boolean":
            return True
        return self._string(schema, name, ids)

    @staticmethod
    def _string(schema: dict[str, Any], name: str, ids: dict[str, str]) -> str:
        fmt = schema.get("format")
        if fmt == "uuid":
            camel = name.replace("_id", "Id")
            return ids.get(camel, str(uuid.uuid4()))
        if fmt == "date-time":
            return (datetime.now(UTC) + timedelta(days=30)).isoformat()
        if fmt == "date":
            return (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
        if fmt == "email":
            return "someone@example.com"
        if fmt in ("uri", "url"):
            return "https://example.com/x"
        if name in NAMED_STRINGS:
            return NAMED_STRINGS[name]
        return "x" * max(3, schema.get("minLength", 0))

    def mutations(
        self, schema: dict[str, Any], value: Any, path: tuple[Any, ...] = ()
    ) -> Iterator[tuple[str, tuple[Any, ...], Any]]:
        """(kind, path, new value) for each field of an object: null, NUL text, repeated entry."""
        schema = self.variant(schema)
        kind = schema.get("type")
        if kind == "object" and isinstance(value, dict):
            for key, sub in schema.get("properties", {}).items():
                yield "null", (*path, key), None
                inner = self.variant(sub)
                if inner.get("type") == "string":
                    yield "nul", (*path, key), NUL_TEXT
                if key in value:
                    yield from self.mutations(sub, value[key], (*path, key))
                elif inner.get("type") == "array":
                    entry = self.example(inner.get("items", {}), key, {})
                    yield "repeat", (*path, key), [entry, entry]
                    if self.variant(inner.get("items", {})).get("type") == "string":
                        yield "nul", (*path, key), [NUL_TEXT]
        elif kind == "array" and isinstance(value, list) and value:
            yield "repeat", path, [value[0], value[0], *value[1:]]
            items = self.variant(schema.get("items", {}))
            if items.get("type") == "string":
                yield "nul", (*path, 0), NUL_TEXT
            yield from self.mutations(schema.get("items", {}), value[0], (*path, 0))


def _set(document: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    changed = copy.deepcopy(document)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return changed


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every operation; those that end something (cancel, delete, suspend) last, so the world's
    event and booking stay usable for the rest."""
    operations = [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    return sorted(
        operations,
        key=lambda op: op[0] == "DELETE" or op[1].endswith(("/cancel", "/status", "/logout")),
    )


async def test_no_operation_answers_bad_input_with_a_server_error(api: Api) -> None:
    document = (await api.client.get("/openapi.json")).json()
    schema = Schema(document)
    world = await _world(api)
    failures: list[str] = []
    sent = 0

    async def call(method: str, url: str, label: str, expect_422: bool, **kwargs: Any) -> None:
        nonlocal sent
        sent += 1
        admin = await api.login(world.admin)  # a generated logout may end the last session
        response = await api.client.request(method, url, headers=admin.headers, **kwargs)
        if response.status_code >= 500 or (expect_422 and response.status_code != 422):
            failures.append(f"{method} {url} {label}: {response.status_code} {response.text}")
        elif response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")

    for method, template, operation in _operations(document):
        parameters = [p for p in operation.get("parameters", []) if p["in"] in ("path", "query")]
        for parameter in parameters:
            if schema.variant(parameter["schema"]).get("type") not in ("string", "array"):
                continue
            if parameter["in"] == "path":
                url = world.path(template, parameters, nul_in=parameter["name"])
                await call(method, url, f"path {parameter['name']}", True)
            else:
                url = world.path(template, parameters, None)
                params = {parameter["name"]: NUL_TEXT}
                await call(method, url, f"query {parameter['name']}", True, params=params)
        body = operation.get("requestBody")
        if body is None:
            continue
        url = world.path(template, parameters, None)
        media, content = next(iter(body["content"].items()))
        body_schema = content["schema"]
        baseline = BASELINES.get((method, template)) or schema.example(body_schema, "", world.ids)
        if media in FORM_TYPES:
            for key, prop in schema.resolve(body_schema).get("properties", {}).items():
                if schema.variant(prop).get("format") == "binary":
                    continue
                fields = {k: v for k, v in baseline.items() if isinstance(v, str)}
                fields[key] = NUL_TEXT
                files = {"_": ("x.txt", b"x")} if media == "multipart/form-data" else None
                await call(method, url, f"form {key}", True, data=fields, files=files)
            continue
        assert media in JSON_TYPES, media
        for kind, path, new in schema.mutations(body_schema, baseline):
            label = f"body {'.'.join(map(str, path))} {kind}"
            await call(method, url, label, kind == "nul", json=_set(baseline, path, new))

    assert sent > 300, sent
    assert not failures, "\n".join(failures)
