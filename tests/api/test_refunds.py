"""Refunds: full and partial, never more than paid, once under concurrency and restarts."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from api.payments import service as payments
from api.payments.models import LedgerEntry, Refund, SandboxRefund
from api.users.models import Role
from tests.api.factories import Api, TestUser
from tests.api.test_bookings import _book, _reserved
from tests.api.test_events import published_event, ticket_body
from tests.api.test_payments import _ledger, _pay


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


async def _paid(api: Api, owner: TestUser, event: dict[str, Any], quantity: int = 2):  # type: ignore[no-untyped-def]
    buyer = await api.signed_in()
    booking = (await _book(api, buyer, event, (0, quantity))).json()
    payment = (await _pay(api, buyer, booking, "pm_card_visa")).json()
    assert payment["status"] == "succeeded", payment
    return buyer, booking, payment


async def _setup(
    api: Api,
) -> tuple[TestUser, dict[str, Any], TestUser, dict[str, Any], dict[str, Any]]:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(quantity=4)])
    buyer, booking, payment = await _paid(api, owner, event)
    return owner, event, buyer, booking, payment


async def _refund(api: Api, user: TestUser, payment_id: str, **body: Any):  # type: ignore[no-untyped-def]
    headers = {**user.headers}
    if "key" in body:
        headers["Idempotency-Key"] = body.pop("key")
    return await api.client.post(f"/payments/{payment_id}/refunds", headers=headers, json=body)


async def _refunds(api: Api) -> list[Refund]:
    async with api.app.state.sessionmaker() as session:
        return list(await session.scalars(select(Refund).order_by(Refund.created_at)))


async def _job(api: Api, batch: int = 100) -> int:
    state = api.app.state
    return await payments.refund_cancelled_bookings(
        state.sessionmaker, state.payment_providers, batch=batch
    )


async def test_a_full_refund_refunds_the_booking_and_frees_its_seats(api: Api) -> None:
    owner, _, buyer, booking, payment = await _setup(api)
    assert await _reserved(api) == {"General admission": 2}
    refunded = await _refund(api, owner, payment["id"], reason="Sorry")
    assert refunded.status_code == 201, refunded.text
    assert (refunded.json()["status"], refunded.json()["amount_cents"]) == ("succeeded", 5000)
    assert await _ledger(api, payment["id"]) == {
        "charge": 5000,
        "provider_fee": -175,
        "platform_fee": -125,
        "refund": -5000,
    }
    shown = await api.client.get(f"/bookings/{booking['id']}", headers=buyer.headers)
    assert shown.json()["status"] == "refunded"
    tickets = await api.client.get(f"/bookings/{booking['id']}/tickets", headers=buyer.headers)
    assert {t["status"] for t in tickets.json()} == {"void"}
    assert await _reserved(api) == {"General admission": 0}
    after = (await api.client.get(f"/payments/{payment['id']}", headers=owner.headers)).json()
    assert (after["refunded_cents"], after["organizer_payout_cents"]) == (5000, -300)
    assert len(await api.outbox("booking.refunded")) == 1


async def test_partial_refunds_never_exceed_what_was_paid(api: Api) -> None:
    owner, _, buyer, booking, payment = await _setup(api)
    first = await _refund(api, owner, payment["id"], amount_cents=2000)
    assert first.json()["amount_cents"] == 2000
    shown = await api.client.get(f"/bookings/{booking['id']}", headers=buyer.headers)
    assert shown.json()["status"] == "confirmed"  # a partial refund keeps the seats
    too_much = await _refund(api, owner, payment["id"], amount_cents=3001)
    assert (too_much.status_code, too_much.json()["code"], too_much.json()["field"]) == (
        409,
        "refund.exceeds_remaining",
        "amount_cents",
    )
    rest = await _refund(api, owner, payment["id"])
    assert rest.json()["amount_cents"] == 3000
    nothing = await _refund(api, owner, payment["id"])
    assert (nothing.status_code, nothing.json()["code"]) == (409, "refund.exceeds_remaining")
    assert (await _ledger(api, payment["id"]))["refund"] == -5000


async def test_only_the_organizer_finance_and_admins_refund(api: Api) -> None:
    _, _, buyer, _, payment = await _setup(api)
    own = await _refund(api, buyer, payment["id"])
    assert (own.status_code, own.json()["code"]) == (403, "payment.not_allowed")
    stranger = await _refund(api, await api.signed_in(Role.organizer), payment["id"])
    assert stranger.status_code == 404
    finance = await _refund(api, await api.signed_in(Role.finance), payment["id"], amount_cents=1)
    assert finance.status_code == 201, finance.text


async def test_concurrent_refunds_cannot_refund_twice(api: Api) -> None:
    owner, _, _, _, payment = await _setup(api)
    responses = await asyncio.gather(*(_refund(api, owner, payment["id"]) for _ in range(5)))
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]
    assert (await _ledger(api, payment["id"]))["refund"] == -5000
    async with api.app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(SandboxRefund)) == 1


async def test_a_repeated_key_replays_the_refund(api: Api) -> None:
    owner, _, _, _, payment = await _setup(api)
    first = await _refund(api, owner, payment["id"], amount_cents=500, key="refund-0000-1")
    second = await _refund(api, owner, payment["id"], amount_cents=500, key="refund-0000-1")
    assert second.json() == first.json()
    assert len(await _refunds(api)) == 1


async def test_a_cancelled_paid_booking_is_refunded_once_by_the_worker(api: Api) -> None:
    owner, _, buyer, booking, payment = await _setup(api)
    cancelled = await api.client.post(f"/bookings/{booking['id']}/cancel", headers=buyer.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert await _job(api) == 1
    assert await _job(api) == 0
    [refund] = await _refunds(api)
    assert (refund.amount_cents, refund.status.value) == (5000, "succeeded")
    shown = await api.client.get(f"/bookings/{booking['id']}", headers=owner.headers)
    assert shown.json()["status"] == "refunded"
    assert (await _ledger(api, payment["id"]))["refund"] == -5000


async def test_event_cancellation_refunds_every_booking_once_across_restarts(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(quantity=20)])
    paid = [await _paid(api, owner, event, quantity=1 + n % 2) for n in range(4)]
    unpaid = await _book(api, await api.signed_in(), event, (0, 1))
    assert unpaid.status_code == 201
    response = await api.client.post(
        f"/events/{event['id']}/cancel", headers=owner.headers, json={"reason": "Venue flooded"}
    )
    assert response.status_code == 200, response.text
    # The worker takes one cancellation and stops, ...
    settled = await _job(api, batch=1)
    # ... a second run crashes after recording its refunds, before asking the provider ...
    state = api.app.state
    async with state.sessionmaker() as session:
        work = await payments.outbox.read_after(
            session, consumer="refunds", event_types=payments.REFUND_TRIGGERS, limit=2
        )
        for row in work.rows:
            payment = await session.scalar(
                select(payments.Payment).where(
                    payments.Payment.booking_id == uuid.UUID(row.entity_id)
                )
            )
            if payment is not None:
                await payments.request_refund(
                    session,
                    payment_id=payment.id,
                    amount_cents=None,
                    reason="booking cancelled",
                    requested_by=None,
                    source_event_id=row.event_id,
                )
            await work.done(row)
        await work.close()
        await session.commit()
    # ... and after a restart everything is refunded, once.
    settled += await _job(api)
    assert settled == 4
    assert await _job(api) == 0
    refunds = await _refunds(api)
    assert sorted(r.payment_id for r in refunds) == sorted(uuid.UUID(p["id"]) for _, _, p in paid)
    assert {r.status.value for r in refunds} == {"succeeded"}
    async with state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(SandboxRefund)) == 4
        refunded = await session.scalar(
            select(func.sum(LedgerEntry.amount_cents)).where(LedgerEntry.kind == "refund")
        )
    assert refunded == -sum(p["amount_cents"] for _, _, p in paid)
    for buyer, booking, _ in paid:
        shown = await api.client.get(f"/bookings/{booking['id']}", headers=buyer.headers)
        assert shown.json()["status"] == "refunded"
