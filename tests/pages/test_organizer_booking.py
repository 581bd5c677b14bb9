"""One booking in the back office, on both databases: its tickets, payment and history, and a
partial then a full refund from the page (sent twice, refunded once)."""

from __future__ import annotations

import re

import pytest

from api.users.models import Role
from tests.api.factories import Api
from tests.api.test_events import published_event, ticket_body
from tests.pages.test_account_and_storefront import form_token
from tests.pages.test_back_office import browser_as


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


async def test_the_organizer_refunds_part_then_the_rest_of_a_booking(api: Api) -> None:
    owner = await browser_as(api, Role.organizer, "Olu Organizer")
    event = await published_event(api, owner, tickets=[ticket_body(quantity=20, price_cents=2500)])
    buyer = await api.signed_in(full_name="Bea Buyer")
    booked = await api.client.post(
        "/bookings",
        headers=buyer.headers,
        json={
            "event_id": event["id"],
            "lines": [{"ticket_type_id": event["ticket_types"][0]["id"], "quantity": 2}],
        },
    )
    booking_id = booked.json()["id"]
    paid = await api.client.post(
        f"/bookings/{booking_id}/payments",
        headers=buyer.headers,
        json={"payment_method": "pm_card_visa"},
    )
    assert paid.status_code == 201, paid.text
    path = f"/organizer/bookings/{booking_id}"

    page = await api.client.get(path)
    assert page.status_code == 200
    assert "Bea Buyer" in page.text
    assert "Confirmed" in page.text
    assert "Empty: all that is left, €50.00." in page.text
    key = re.search(r'name="form_key" value="([0-9a-f]{32})"', page.text)
    assert key is not None
    partial = {"csrf_token": form_token(page), "form_key": key.group(1), "amount": "12.50"}
    first = await api.client.post(f"{path}/refund", data=partial | {"reason": "Late start"})
    twice = await api.client.post(f"{path}/refund", data=partial | {"reason": "Late start"})
    assert first.status_code == twice.status_code == 303
    after = await api.client.get(path)
    assert "€12.50 refunded" in after.text
    assert "Empty: all that is left, €37.50." in after.text

    too_much = await api.client.post(
        f"{path}/refund",
        data={"csrf_token": form_token(after), "form_key": "f" * 32, "amount": "100"},
    )
    assert too_much.status_code in (409, 422)
    assert 'id="f-amount-error"' in too_much.text
    rest = await api.client.post(
        f"{path}/refund", data={"csrf_token": form_token(after), "form_key": "e" * 32}
    )
    assert rest.status_code == 303
    done = await api.client.get(path)
    assert "Refunded" in done.text
    assert "€50.00 refunded" in done.text
    assert 'action="/organizer/bookings/' not in done.text  # nothing left to refund
    booking = await api.client.get(f"/bookings/{booking_id}", headers=buyer.headers)
    assert booking.json()["status"] == "refunded"

    money = await api.client.get("/organizer/money")
    assert money.status_code == 200
    figures = re.sub(r"\s+", " ", money.text)
    assert "<dt>Sold</dt><dd>€50.00</dd>" in figures
    assert "<dt>Refunded</dt><dd>€50.00</dd>" in figures
    assert "Credit note" in money.text
    assert "Invoice" in money.text
    pdf = await api.client.get(f"{path}/invoice.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    await browser_as(api, Role.organizer, "Other Organizer")
    assert (await api.client.get(path)).status_code == 404
    assert (await api.client.get(f"{path}/invoice.pdf")).status_code == 404
    assert "No payments yet." in (await api.client.get("/organizer/money")).text
    await browser_as(api, Role.attendee, "Bea Again")
    assert (await api.client.get(path)).status_code == 403
