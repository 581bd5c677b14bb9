"""The published API document: committed as `docs/openapi.json`, the same as the code's, and
usable by an integrator's generated client against the running API."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from api.users.models import Role
from tests.api.factories import Api, TestUser
from tests.api.test_events import event_body, ticket_body

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for item in document["paths"].values() for op in item.values()]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_committed_document_is_the_codes(api: Api) -> None:
    served = (await api.client.get("/openapi.json")).json()
    committed = json.loads(DOCUMENT.read_text())
    assert served == committed, (
        "docs/openapi.json differs from what the code serves: run `make openapi` and commit it"
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_document_explains_itself(api: Api) -> None:
    document = (await api.client.get("/openapi.json")).json()
    operations = _operations(document)
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    assert "createBooking" in ids
    assert all("_" not in op_id for op_id in ids)  # not create_booking_bookings_post
    described = {tag["name"] for tag in document["tags"] if tag.get("description")}
    used = {tag for op in operations for tag in op.get("tags", [])}
    assert used <= described
    for heading in ("## Signing in", "## Idempotency", "## Errors"):
        assert heading in document["info"]["description"]
    for op in operations:
        for media_type, media in op.get("requestBody", {}).get("content", {}).items():
            schema = media["schema"]
            refs = [s["$ref"] for s in [schema, *schema.get("anyOf", [])] if "$ref" in s]
            if media_type != "application/json" or not refs:
                continue  # forms, and the payment providers' own webhook bodies
            component = document["components"]["schemas"][refs[0].rsplit("/", 1)[-1]]
            assert component.get("examples"), op["operationId"]
    components = document["components"]["schemas"]
    for main in ("EventOut", "BookingOut", "PaymentOut", "TicketOut", "TokenPair", "Problem"):
        assert components[main]["examples"], main
    # Declared examples keep their empty fields (FastAPI alone would drop every null).
    assert components["BookingOut"]["examples"][0]["cancelled_at"] is None


@pytest.fixture(scope="module")
def generated_client(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """The Python client openapi-python-client makes of the committed document."""
    folder = tmp_path_factory.mktemp("client")
    tool = Path(sys.executable).with_name("openapi-python-client")
    env = {**os.environ, "PATH": f"{tool.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run(  # noqa: S603 - our venv's generator on our own document
        [
            str(tool),
            "generate",
            "--path",
            str(DOCUMENT),
            "--output-path",
            str(folder / "tessera_client"),
            "--meta",
            "none",
        ],
        check=True,
        capture_output=True,
        env=env,
        timeout=300,
    )
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module("tessera_client")
    finally:
        sys.path.remove(str(folder))


async def test_an_integrator_books_and_pays_through_the_generated_client(
    api: Api, served: str, generated_client: ModuleType
) -> None:
    client_module = importlib.import_module("tessera_client.client")
    models = importlib.import_module("tessera_client.models")

    def call(operation: str) -> Any:
        tag, name = operation.split(".")
        return importlib.import_module(f"tessera_client.api.{tag}.{name}")

    organizer = await api.make_user(role=Role.organizer)
    attendee = await api.make_user()
    async with contextlib.AsyncExitStack() as clients:
        await _integrate(served, organizer, attendee, clients, client_module, models, call)


async def _integrate(
    served: str,
    organizer: TestUser,
    attendee: TestUser,
    clients: contextlib.AsyncExitStack,
    client_module: Any,
    models: Any,
    call: Any,
) -> None:
    anonymous = await clients.enter_async_context(client_module.Client(base_url=served))

    async def sign_in(email: str, password: str) -> Any:
        tokens = await call("auth.auth_login").asyncio(
            client=anonymous, body=models.LoginRequest(email=email, password=password)
        )
        signed_in = client_module.AuthenticatedClient(base_url=served, token=tokens.access_token)
        return await clients.enter_async_context(signed_in)

    seller = await sign_in(organizer.email, organizer.password)
    event = await call("events.create_event").asyncio(
        client=seller, body=models.EventCreate.from_dict(event_body())
    )
    ticket_type = await call("events.add_ticket_type").asyncio(
        client=seller, event_id=event.id, body=models.TicketTypeFields.from_dict(ticket_body())
    )
    published = await call("events.publish_event").asyncio(client=seller, event_id=event.id)
    assert published.status == models.EventStatus.PUBLISHED

    buyer = await sign_in(attendee.email, attendee.password)
    booking = await call("bookings.create_booking").asyncio(
        client=buyer,
        body=models.BookingCreate(
            event_id=event.id,
            lines=[models.LineRequest(ticket_type_id=ticket_type.id, quantity=2)],
        ),
        idempotency_key="integrator-booking-1",
    )
    payment = await call("payments.pay_booking").asyncio(
        client=buyer,
        booking_id=booking.id,
        body=models.PaymentCreate(payment_method="4242 4242 4242 4242"),
    )
    assert payment.status == models.PaymentStatus.SUCCEEDED
    confirmed = await call("bookings.get_booking").asyncio(client=buyer, booking_id=booking.id)
    assert confirmed.status == models.BookingStatus.CONFIRMED
    tickets = await call("bookings.booking_tickets").asyncio(client=buyer, booking_id=booking.id)
    assert len(tickets) == 2

    refused = await call("bookings.get_booking").asyncio_detailed(
        client=anonymous, booking_id=booking.id
    )
    assert refused.status_code == 401
    assert json.loads(refused.content)["code"] == "auth.unauthorized"
