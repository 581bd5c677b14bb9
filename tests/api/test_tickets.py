"""Tickets with signed QR codes, and check-in at the door."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.bookings import tickets
from api.bookings.models import Ticket
from api.db import utcnow
from api.users.models import Role
from tests.api.factories import Api
from tests.api.test_bookings import _book
from tests.api.test_events import published_event, ticket_body


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


async def _free_event(api: Api, owner, **kw):  # type: ignore[no-untyped-def]
    """Free tickets for an event starting in an hour, so its check-in is open."""
    starts = utcnow().replace(microsecond=0) + timedelta(hours=1)
    return await published_event(
        api,
        owner,
        tickets=[ticket_body(price_cents=0, quantity=10)],
        starts_at=starts.isoformat(),
        ends_at=(starts + timedelta(hours=3)).isoformat(),
        **kw,
    )


async def test_confirmed_seats_get_signed_tickets(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _free_event(api, owner)
    buyer = await api.signed_in()
    booking = (await _book(api, buyer, event, (0, 3))).json()
    response = await api.client.get(f"/bookings/{booking['id']}/tickets", headers=buyer.headers)
    assert response.status_code == 200
    tickets = response.json()
    assert len(tickets) == 3
    assert len({t["qr_payload"] for t in tickets}) == 3
    assert all(t["qr_payload"].startswith("TSR1.") for t in tickets)
    assert all(t["qr_svg"].lstrip().startswith("<svg") for t in tickets)
    stranger = await api.signed_in()
    hidden = await api.client.get(f"/bookings/{booking['id']}/tickets", headers=stranger.headers)
    assert hidden.status_code == 404


async def test_check_in_is_idempotent_and_refuses_bad_tickets(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _free_event(api, owner)
    other = await _free_event(api, owner, title="Other night")
    buyer = await api.signed_in()
    booking = (await _book(api, buyer, event, (0, 2))).json()
    first, second = (
        await api.client.get(f"/bookings/{booking['id']}/tickets", headers=buyer.headers)
    ).json()
    door = f"/events/{event['id']}/check-ins"

    admitted = await api.client.post(
        door, headers=owner.headers, json={"payload": first["qr_payload"]}
    )
    assert admitted.status_code == 200
    assert admitted.json()["already_checked_in"] is False
    again = await api.client.post(
        door, headers=owner.headers, json={"payload": first["qr_payload"]}
    )
    assert again.json()["already_checked_in"] is True
    assert again.json()["first_checked_in_at"] == admitted.json()["first_checked_in_at"]
    assert len(await api.outbox("ticket.checked_in")) == 1

    forged = first["qr_payload"][:-3] + (
        "AAA" if not first["qr_payload"].endswith("AAA") else "BBB"
    )
    cases = [
        (door, forged, 422, "ticket.invalid_signature"),
        (door, first["qr_payload"][:-3] + "\u00e9t\u00e9", 422, "ticket.invalid_signature"),
        (f"/events/{other['id']}/check-ins", second["qr_payload"], 409, "ticket.wrong_event"),
    ]
    for path, payload, status, code in cases:
        response = await api.client.post(path, headers=owner.headers, json={"payload": payload})
        assert (response.status_code, response.json()["code"]) == (status, code)

    await api.client.post(f"/bookings/{booking['id']}/cancel", headers=owner.headers)
    void = await api.client.post(
        door, headers=owner.headers, json={"payload": second["qr_payload"]}
    )
    assert (void.status_code, void.json()["code"]) == (409, "ticket.cancelled")

    intruder = await api.signed_in(Role.organizer)
    denied = await api.client.post(
        door, headers=intruder.headers, json={"payload": second["qr_payload"]}
    )
    assert denied.status_code == 403
    attendee = await api.signed_in()
    assert (
        await api.client.post(
            door, headers=attendee.headers, json={"payload": second["qr_payload"]}
        )
    ).status_code == 403


async def test_unknown_but_well_signed_ticket_is_404(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _free_event(api, owner)
    ghost = Ticket(code="no-such-ticket-code-000")
    payload = tickets.qr_payload(api.settings, ghost)
    response = await api.client.post(
        f"/events/{event['id']}/check-ins", headers=owner.headers, json={"payload": payload}
    )
    assert (response.status_code, response.json()["code"]) == (404, "ticket.unknown")
