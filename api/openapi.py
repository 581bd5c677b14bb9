"""What the OpenAPI document says beyond the routes themselves: how to call the API, what each
tag holds, readable operation ids, and the answers every route can give."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

from api.errors import PROBLEM_JSON

DESCRIPTION = """
Tessera sells tickets: events and their ticket types, bookings that never oversell, payments,
refunds, tickets checked in at the door, and the messages that go with them.

## Signing in
`POST /auth/login` answers an access token (a JWT that lives 15 minutes) and a refresh token.
Send the access token as `Authorization: Bearer <token>`; trade the refresh token for a new
pair at `POST /auth/refresh` (refresh tokens rotate: presenting a used one ends the session).
Every operation lists who may call it; where signing in is optional, anonymous callers are
served too and signed-in callers may see more (their own drafts).

## Idempotency
`POST` operations that create a booking, a payment or a refund accept an `Idempotency-Key`
header (up to 255 characters). A repeat with the same key and body returns the first answer,
marked `Idempotent-Replayed: true`; the same key with another body is a 422.

## Errors
Every error is an RFC 9457 problem document (`application/problem+json`) with a stable `code`
(`booking.sold_out`, `auth.invalid_credentials`, `validation_error`), the `field` at fault and,
for validation errors, every field in `errors`. Quote the `request_id` (also the
`X-Request-ID` header) when reporting a problem. 429 and 503 answers carry `Retry-After`.

## Inputs
Text that a database cannot store (NUL, a lone surrogate) is refused wherever it is sent. In
updates, a field left out keeps its value and `null` clears only fields that may be empty.
Lists never repeat an entry. Money is integer minor units with an ISO 4217 currency; times are
ISO 8601 with an offset.
""".strip()

TAGS: list[dict[str, Any]] = [
    {
        "name": "auth",
        "description": "Sign up, sign in (password or a social provider), "
        "tokens, email and phone verification, password reset.",
    },
    {"name": "users", "description": "Your profile, and other people's public profiles."},
    {"name": "categories", "description": "The catalogue's categories."},
    {"name": "events", "description": "Create, publish, change, cancel and find events."},
    {
        "name": "ticket types",
        "description": "What an event sells: prices, tax, sales windows and per-order limits.",
    },
    {"name": "media", "description": "Images of an event."},
    {
        "name": "search",
        "description": "Full-text search, suggestions, click tracking and recommendations.",
    },
    {
        "name": "bookings",
        "description": "Hold seats, confirm, cancel; the attendee list of an "
        "event for its organizer.",
    },
    {"name": "tickets", "description": "Tickets with their QR codes, and check-in at the door."},
    {
        "name": "door staff",
        "description": "An organizer's door staff: people who may check tickets in and read the "
        "attendees of one event or of all the organizer's events, and nothing else.",
    },
    {
        "name": "waitlist",
        "description": "Queue for a sold-out ticket type; freed seats are offered in turn.",
    },
    {
        "name": "payments",
        "description": "Pay a booking (card, bank transfer, at the door), "
        "refunds, invoices, and the payment providers' webhooks.",
    },
    {
        "name": "finance",
        "description": "Reports for finance from the published analytics snapshot.",
    },
    {
        "name": "notifications",
        "description": "Preferences, the in-app inbox, push "
        "subscriptions, unsubscribing, delivery callbacks, and templates for admins.",
    },
    {
        "name": "admin",
        "description": "People, roles and suspensions, the audit log and "
        "organizers' fees: admins only.",
    },
    {"name": "operations", "description": "Liveness, readiness and Prometheus metrics."},
]

BAD_BODY_RESPONSE = {
    "description": "The body is not readable JSON",
    "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def _area(route: APIRoute) -> str:
    """Where a route is written: `oauth` for api/auth/oauth_router.py, `admin` for
    api/admin/router.py."""
    module = route.endpoint.__module__.split(".")
    last = module[-1].removesuffix("_router")
    return module[-2] if last == "router" else last


def operation_ids(routers: Iterable[APIRouter]) -> Callable[[APIRoute], str]:
    """Operation ids from the route functions' names (`createBooking`); a name used in two
    places gets the place's name in front (`adminGetUser`, `usersGetUser`)."""
    names = Counter(
        route.name for router in routers for route in router.routes if isinstance(route, APIRoute)
    )

    def operation_id(route: APIRoute) -> str:
        if names[route.name] > 1:
            return _camel(f"{_area(route)}_{route.name}")
        return _camel(route.name)

    return operation_id


def _declared_examples() -> dict[str, list[Any]]:
    """Each API model's examples as declared: FastAPI drops every null from the document it
    builds, which would leave a response example without its empty fields."""
    found: dict[str, list[list[Any]]] = {}
    stack = list(BaseModel.__subclasses__())
    while stack:
        model = stack.pop()
        stack.extend(model.__subclasses__())
        extra = model.model_config.get("json_schema_extra")
        examples = extra.get("examples") if isinstance(extra, dict) else None
        if model.__module__.startswith("api.") and isinstance(examples, list) and examples:
            found.setdefault(model.__name__, []).append(examples)
    return {name: examples[0] for name, examples in found.items() if len(examples) == 1}


def _uses(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return dependant.call is call or any(_uses(sub, call) for sub in dependant.dependencies)


def document(
    app: FastAPI, routers: Iterable[APIRouter], optional_sign_in: Callable[..., Any]
) -> None:
    """Say in OpenAPI what the routes alone do not: a body that is not decodable JSON is
    answered 400 before validation, and routes where signing in is optional take anonymous
    callers too (an empty security requirement beside the bearer token)."""
    build = app.openapi
    optional = {
        (route.path, method.lower())
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and _uses(route.dependant, optional_sign_in)
        for method in route.methods or ()
    }

    def openapi() -> dict[str, Any]:
        schema = build()
        declared = _declared_examples()
        for name, component in schema.get("components", {}).get("schemas", {}).items():
            if "examples" in component and name in declared:
                component["examples"] = declared[name]
        for path, item in schema["paths"].items():
            for method, operation in item.items():
                if "requestBody" in operation:
                    operation["responses"].setdefault("400", BAD_BODY_RESPONSE)
                security = operation.get("security")
                if (path, method) in optional and security and {} not in security:
                    operation["security"] = [{}, *security]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
