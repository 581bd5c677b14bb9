"""Invoices and credit notes: gapless numbers per organizer, totals, and a PDF that reads."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from api.payments.models import Invoice
from api.users.models import Role
from tests.api.factories import Api, TestUser
from tests.api.test_bookings import _book
from tests.api.test_events import published_event, ticket_body
from tests.api.test_payments import _pay


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


async def _taxed_event(api: Api, owner: TestUser) -> dict[str, Any]:
    return await published_event(
        api,
        owner,
        tickets=[
            ticket_body(
                name="Standard", price_cents=2500, quantity=100, tax_name="VAT", tax_rate_bps=1900
            )
        ],
    )


async def _buy(
    api: Api, event: dict[str, Any], quantity: int = 3
) -> tuple[TestUser, dict[str, Any]]:
    buyer = await api.signed_in()
    booking = (await _book(api, buyer, event, (0, quantity))).json()
    paid = await _pay(api, buyer, booking, "pm_card_visa")
    assert paid.json()["status"] == "succeeded", paid.text
    return buyer, {**booking, "payment_id": paid.json()["id"]}


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def test_a_paid_booking_gets_an_invoice_and_a_refund_a_credit_note(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _taxed_event(api, owner)
    buyer, booking = await _buy(api, event)
    response = await api.client.get(f"/bookings/{booking['id']}/invoice", headers=buyer.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    text = _text(response.content)
    assert "Invoice INV-" in text
    assert "000001" in text
    assert "Net total: €63.03" in text
    assert "Tax total: €11.97" in text
    assert "Total: €75.00" in text
    assert "VAT 19%: €11.97" in text
    assert buyer.email in text

    refunded = await api.client.post(
        f"/payments/{booking['payment_id']}/refunds",
        headers=owner.headers,
        json={"amount_cents": 2500},
    )
    assert refunded.status_code == 201, refunded.text
    both = _text(
        (await api.client.get(f"/bookings/{booking['id']}/invoice", headers=owner.headers)).content
    )
    assert "Credit note CN-" in both
    assert "Total: -€25.00" in both
    assert "Tax total: -€3.99" in both  # 25.00 * 11.97 / 75.00 = 3.99
    stranger = await api.signed_in()
    hidden = await api.client.get(f"/bookings/{booking['id']}/invoice", headers=stranger.headers)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "invoice.not_found")


async def test_unpaid_bookings_have_no_invoice(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _taxed_event(api, owner)
    buyer = await api.signed_in()
    booking = (await _book(api, buyer, event, (0, 1))).json()
    missing = await api.client.get(f"/bookings/{booking['id']}/invoice", headers=buyer.headers)
    assert (missing.status_code, missing.json()["code"]) == (404, "invoice.not_found")


async def test_invoice_numbers_have_no_gaps_under_concurrency(api: Api) -> None:
    first, second = await api.signed_in(Role.organizer), await api.signed_in(Role.organizer)
    events = [await _taxed_event(api, first), await _taxed_event(api, second)]
    held = []
    for index in range(10):
        buyer = await api.signed_in()
        event = events[index % 2]
        held.append((buyer, (await _book(api, buyer, event, (0, 1))).json()))
    responses = await asyncio.gather(
        *(_pay(api, b, booking, "pm_card_visa") for b, booking in held)
    )
    assert {r.json()["status"] for r in responses} == {"succeeded"}
    async with api.app.state.sessionmaker() as session:
        rows = (await session.execute(select(Invoice.organizer_id, Invoice.sequence))).all()
    for organizer in (first, second):
        numbers = sorted(seq for org, seq in rows if org == organizer.id)
        assert numbers == [1, 2, 3, 4, 5]
