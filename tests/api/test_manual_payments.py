"""Manual payments: bank transfer or pay at the door, marked paid by finance."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from api.users.models import Role
from tests.api.factories import Api
from tests.api.test_payments import _held, _ledger


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


async def test_a_bank_transfer_holds_the_booking_until_finance_marks_it_paid(api: Api) -> None:
    owner, buyer, booking = await _held(api)
    started = await api.client.post(
        f"/bookings/{booking['id']}/payments",
        headers=buyer.headers,
        json={"provider": "manual", "payment_method": "bank_transfer"},
    )
    assert started.status_code == 201, started.text
    payment = started.json()
    assert (payment["status"], payment["provider"]) == ("processing", "manual")
    assert payment["next_action"]["reference"].startswith("TSR-")
    held = (await api.client.get(f"/bookings/{booking['id']}", headers=buyer.headers)).json()
    assert held["status"] == "pending"
    held_for = datetime.fromisoformat(held["expires_at"]) - datetime.fromisoformat(
        held["created_at"]
    )
    assert timedelta(hours=71) < held_for <= timedelta(hours=72, minutes=1)

    path = f"/payments/{payment['id']}/mark-paid"
    assert (await api.client.post(path, headers=owner.headers)).status_code == 403
    assert (await api.client.post(path, headers=buyer.headers)).status_code == 403
    finance = await api.signed_in(Role.finance)
    marked = await api.client.post(path, headers=finance.headers, json={"reference": "BANK-42"})
    assert marked.status_code == 200, marked.text
    assert (marked.json()["status"], marked.json()["provider_fee_cents"]) == ("succeeded", 0)
    confirmed = await api.client.get(f"/bookings/{booking['id']}", headers=buyer.headers)
    assert confirmed.json()["status"] == "confirmed"
    assert await _ledger(api, payment["id"]) == {
        "charge": 5000,
        "provider_fee": 0,
        "platform_fee": -125,
    }
    again = await api.client.post(path, headers=finance.headers)
    assert (again.status_code, again.json()["code"]) == (409, "payment.not_awaiting_funds")

    refund = await api.client.post(
        f"/payments/{payment['id']}/refunds", headers=finance.headers, json={"amount_cents": 1000}
    )
    assert (refund.status_code, refund.json()["status"]) == (201, "succeeded")


async def test_only_known_manual_methods_and_card_payments_cannot_be_marked_paid(
    api: Api,
) -> None:
    _, buyer, booking = await _held(api)
    path = f"/bookings/{booking['id']}/payments"
    unknown = await api.client.post(
        path, headers=buyer.headers, json={"provider": "manual", "payment_method": "cheque"}
    )
    assert (unknown.status_code, unknown.json()["code"], unknown.json()["field"]) == (
        422,
        "payment.unknown_manual_method",
        "payment_method",
    )
    card = (
        await api.client.post(path, headers=buyer.headers, json={"payment_method": "pm_card_visa"})
    ).json()
    finance = await api.signed_in(Role.finance)
    refused = await api.client.post(f"/payments/{card['id']}/mark-paid", headers=finance.headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "payment.not_awaiting_funds")
