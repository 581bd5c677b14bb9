"""Payments through the sandbox provider: test cards, 3-D Secure, idempotency, the ledger."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from api.bookings import service as bookings_service
from api.bookings import waitlist
from api.bookings.models import Booking
from api.payments import service as payments_service
from api.payments.models import LedgerEntry, Payment, SandboxIntent
from api.users.models import Role
from tests.api.factories import Api, TestUser
from tests.api.test_bookings import _book, _reserved
from tests.api.test_events import published_event, ticket_body


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


async def _held(
    api: Api, quantity: int = 2, seats: int = 10
) -> tuple[TestUser, TestUser, dict[str, Any]]:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(quantity=seats)])
    buyer = await api.signed_in()
    booking = await _book(api, buyer, event, (0, quantity))
    assert booking.status_code == 201, booking.text
    return owner, buyer, booking.json()


async def _pay(api: Api, buyer: TestUser, booking: dict[str, Any], card: str, **headers: str):  # type: ignore[no-untyped-def]
    return await api.client.post(
        f"/bookings/{booking['id']}/payments",
        headers={**buyer.headers, **headers},
        json={"payment_method": card},
    )


async def _ledger(api: Api, payment_id: str) -> dict[str, int]:
    async with api.app.state.sessionmaker() as session:
        rows = await session.execute(
            select(LedgerEntry.kind, func.sum(LedgerEntry.amount_cents))
            .where(LedgerEntry.payment_id == uuid.UUID(payment_id))
            .group_by(LedgerEntry.kind)
        )
        return {kind.value: int(total) for kind, total in rows.all()}


async def test_a_test_card_pays_and_confirms_the_booking(api: Api) -> None:
    owner, buyer, booking = await _held(api)
    paid = await _pay(api, buyer, booking, "4242 4242 4242 4242")
    assert paid.status_code == 201, paid.text
    payment = paid.json()
    assert (payment["status"], payment["amount_cents"], payment["currency"]) == (
        "succeeded",
        5000,
        "EUR",
    )
    assert payment["method"] == "visa •••• 4242"
    assert payment["provider_fee_cents"] == 175  # 2.9 % of 50.00 rounded, plus 0.30
    assert payment["platform_fee_cents"] == 125  # 2.5 % by default
    assert payment["organizer_payout_cents"] == 5000 - 175 - 125
    confirmed = await api.client.get(f"/bookings/{booking['id']}", headers=buyer.headers)
    assert confirmed.json()["status"] == "confirmed"
    tickets = await api.client.get(f"/bookings/{booking['id']}/tickets", headers=buyer.headers)
    assert len(tickets.json()) == 2
    assert await _ledger(api, payment["id"]) == {
        "charge": 5000,
        "provider_fee": -175,
        "platform_fee": -125,
    }
    assert [r.event_type for r in await api.outbox() if r.entity == "payment"] == [
        "payment.created",
        "payment.succeeded",
    ]
    # The organizer and the payer see it; nobody else does, and only the payer gets the secret.
    seen = await api.client.get(f"/payments/{payment['id']}", headers=owner.headers)
    assert seen.status_code == 200
    assert seen.json()["client_secret"] is None
    stranger = await api.signed_in()
    hidden = await api.client.get(f"/payments/{payment['id']}", headers=stranger.headers)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "payment.not_found")
    again = await _pay(api, buyer, booking, "pm_card_visa")
    assert (again.status_code, again.json()["code"]) == (409, "payment.already_paid")


@pytest.mark.parametrize(
    ("card", "code"),
    [
        ("4000000000000002", "card_declined"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ],
)
async def test_a_declined_card_leaves_the_hold_for_another_try(
    api: Api, card: str, code: str
) -> None:
    _, buyer, booking = await _held(api)
    declined = await _pay(api, buyer, booking, card)
    assert declined.status_code == 201, declined.text
    assert (declined.json()["status"], declined.json()["failure_code"]) == ("failed", code)
    assert declined.json()["failure_message"]
    held = await api.client.get(f"/bookings/{booking['id']}", headers=buyer.headers)
    assert held.json()["status"] == "pending"
    assert await _ledger(api, declined.json()["id"]) == {}
    retried = await _pay(api, buyer, booking, "pm_card_mastercard")
    assert retried.json()["status"] == "succeeded"
    assert retried.json()["id"] != declined.json()["id"]


async def test_3d_secure_waits_for_the_payer(api: Api) -> None:
    _, buyer, booking = await _held(api)
    started = await _pay(api, buyer, booking, "4000002500003155")
    payment = started.json()
    assert (payment["status"], payment["next_action"]["type"]) == (
        "requires_action",
        "authenticate",
    )
    busy = await _pay(api, buyer, booking, "pm_card_visa")
    assert (busy.status_code, busy.json()["code"]) == (409, "payment.in_progress")
    path = f"/payments/{payment['id']}/sandbox/authenticate"
    other = await api.signed_in()
    assert (await api.client.post(path, headers=other.headers)).status_code == 404
    passed = await api.client.post(path, headers=buyer.headers, json={"succeed": True})
    assert passed.status_code == 200, passed.text
    assert passed.json()["status"] == "succeeded"
    repeat = await api.client.post(path, headers=buyer.headers)
    assert (repeat.status_code, repeat.json()["code"]) == (409, "payment.no_action_needed")
    booked = await api.client.get(f"/bookings/{booking['id']}", headers=buyer.headers)
    assert booked.json()["status"] == "confirmed"


async def test_a_failed_challenge_fails_the_payment(api: Api) -> None:
    _, buyer, booking = await _held(api)
    payment = (await _pay(api, buyer, booking, "pm_card_authenticationRequired")).json()
    failed = await api.client.post(
        f"/payments/{payment['id']}/sandbox/authenticate",
        headers=buyer.headers,
        json={"succeed": False},
    )
    assert (failed.json()["status"], failed.json()["failure_code"]) == (
        "failed",
        "authentication_failed",
    )


async def test_the_same_key_never_charges_twice(api: Api) -> None:
    _, buyer, booking = await _held(api)
    key = {"Idempotency-Key": "pay-0000-0001"}
    first = await _pay(api, buyer, booking, "pm_card_visa", **key)
    second = await _pay(api, buyer, booking, "pm_card_visa", **key)
    assert second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.json() == first.json()
    async with api.app.state.sessionmaker() as session:
        charges = await session.scalar(select(func.count()).where(LedgerEntry.kind == "charge"))
    assert charges == 1


async def test_concurrent_payments_of_one_booking_charge_once(api: Api) -> None:
    _, buyer, booking = await _held(api)
    responses = await asyncio.gather(*(_pay(api, buyer, booking, "pm_card_visa") for _ in range(4)))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {
        "payment.in_progress",
        "payment.already_paid",
    }
    async with api.app.state.sessionmaker() as session:
        charged = await session.scalar(
            select(func.sum(LedgerEntry.amount_cents)).where(LedgerEntry.kind == "charge")
        )
    assert charged == 5000


async def test_only_the_buyer_pays_a_live_paid_hold(api: Api) -> None:
    owner, buyer, booking = await _held(api)
    by_owner = await _pay(api, owner, booking, "pm_card_visa")
    assert (by_owner.status_code, by_owner.json()["code"]) == (409, "payment.booking_not_payable")
    unknown = await _pay(api, buyer, booking, "4111111111111111")
    assert (unknown.status_code, unknown.json()["code"], unknown.json()["field"]) == (
        422,
        "payment.unknown_test_card",
        "payment_method",
    )
    free_owner = await api.signed_in(Role.organizer)
    free_event = await published_event(api, free_owner, tickets=[ticket_body(price_cents=0)])
    free = (await _book(api, buyer, free_event, (0, 1))).json()
    refused = await _pay(api, buyer, free, "pm_card_visa")
    assert (refused.status_code, refused.json()["code"]) == (409, "payment.booking_not_payable")


async def _lapse_and_release(api: Api, booking_id: str) -> None:
    async with api.app.state.sessionmaker() as session:
        await session.execute(
            update(Booking)
            .where(Booking.id == uuid.UUID(booking_id))
            .values(expires_at=datetime.now(UTC))
        )
        assert await waitlist.release_expired(session, now=datetime.now(UTC)) == 1
        await session.commit()


async def _late_success(api: Api, booking: dict[str, Any]) -> bool:
    """The provider's success for a payment begun while the hold was live lands now."""
    async with api.app.state.sessionmaker() as session:
        confirmed = await bookings_service.confirm_paid(
            session,
            booking_id=uuid.UUID(booking["id"]),
            payment_started_at=datetime.fromisoformat(booking["created_at"]),
        )
        await session.commit()
        return confirmed


async def test_a_payment_landing_after_the_hold_lapsed_claims_the_seats_again(api: Api) -> None:
    _, buyer, booking = await _held(api, quantity=2, seats=2)
    await _lapse_and_release(api, booking["id"])
    assert await _reserved(api) == {"General admission": 0}
    assert await _late_success(api, booking) is True
    shown = await api.client.get(f"/bookings/{booking['id']}", headers=buyer.headers)
    assert shown.json()["status"] == "confirmed"
    assert await _reserved(api) == {"General admission": 2}


async def test_a_payment_landing_after_the_seats_were_resold_is_not_fulfilled(api: Api) -> None:
    _, buyer, booking = await _held(api, quantity=2, seats=2)
    await _lapse_and_release(api, booking["id"])
    event = (await api.client.get(f"/events/{booking['event_id']}")).json()
    assert (await _book(api, await api.signed_in(), event, (0, 2))).status_code == 201
    assert await _late_success(api, booking) is False
    shown = await api.client.get(f"/bookings/{booking['id']}", headers=buyer.headers)
    assert shown.json()["status"] == "expired"
    assert await _reserved(api) == {"General admission": 2}


async def test_a_payment_left_pending_by_a_crash_is_resumed_without_a_second_charge(
    api: Api,
) -> None:
    _, buyer, booking = await _held(api)
    first = await _pay(api, buyer, booking, "pm_card_authenticationRequired")
    payment_id = uuid.UUID(first.json()["id"])
    async with api.app.state.sessionmaker() as session:
        # As if the process died after the provider answered but before we recorded it.
        await session.execute(
            update(Payment)
            .where(Payment.id == payment_id)
            .values(status="pending", created_at=datetime.now(UTC) - timedelta(minutes=5))
        )
        await session.commit()
    resumed = await _pay(api, buyer, booking, "pm_card_visa")
    assert resumed.status_code == 201, resumed.text
    # The provider found the first call by its key: the same payment, the same 3-D Secure step.
    assert (resumed.json()["id"], resumed.json()["status"]) == (
        str(payment_id),
        "requires_action",
    )
    async with api.app.state.sessionmaker() as session:
        intents = await session.scalar(select(func.count()).select_from(SandboxIntent))
    assert intents == 1


async def test_money_for_seats_that_are_gone_goes_back(api: Api) -> None:
    """A manual payment marked paid after its hold lapsed and its seats were sold."""
    _, buyer, booking = await _held(api, quantity=2, seats=2)
    started = await api.client.post(
        f"/bookings/{booking['id']}/payments",
        headers=buyer.headers,
        json={"provider": "manual", "payment_method": "bank_transfer"},
    )
    payment = started.json()
    await _lapse_and_release(api, booking["id"])
    event = (await api.client.get(f"/events/{booking['event_id']}")).json()
    assert (await _book(api, await api.signed_in(), event, (0, 2))).status_code == 201
    finance = await api.signed_in(Role.finance)
    marked = await api.client.post(f"/payments/{payment['id']}/mark-paid", headers=finance.headers)
    assert marked.json()["status"] == "succeeded"
    assert len(await api.outbox("payment.unfulfilled")) == 1
    state = api.app.state
    assert (
        await payments_service.refund_cancelled_bookings(
            state.sessionmaker, state.payment_providers
        )
        == 1
    )
    assert (await _ledger(api, payment["id"]))["refund"] == -5000
    shown = await api.client.get(f"/bookings/{booking['id']}", headers=buyer.headers)
    assert shown.json()["status"] == "expired"


async def test_a_fee_agreed_with_the_organizer_replaces_the_default(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    admin = await api.signed_in(Role.admin)
    path = f"/admin/organizers/{owner.id}/fees"
    default = await api.client.get(path, headers=admin.headers)
    assert default.json() == {
        "organizer_id": str(owner.id),
        "fee_bps": 250,
        "fee_fixed_cents": 0,
        "agreed": False,
    }
    assert (await api.client.get(path, headers=owner.headers)).status_code == 403
    agreed = await api.client.put(
        path, headers=admin.headers, json={"fee_bps": 500, "fee_fixed_cents": 50}
    )
    assert agreed.status_code == 200, agreed.text
    assert agreed.json()["agreed"] is True
    event = await published_event(api, owner, tickets=[ticket_body(quantity=5)])
    buyer = await api.signed_in()
    booking = (await _book(api, buyer, event, (0, 2))).json()
    paid = (await _pay(api, buyer, booking, "pm_card_visa")).json()
    assert paid["platform_fee_cents"] == 300  # 5 % of 50.00 plus 0.50
    attendee = await api.signed_in()
    refused = await api.client.put(
        f"/admin/organizers/{attendee.id}/fees", headers=admin.headers, json={"fee_bps": 100}
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "payment.not_an_organizer")
