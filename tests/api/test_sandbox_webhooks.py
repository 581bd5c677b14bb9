"""The sandbox's asynchronous side, as in Stripe's test mode: SEPA debits that clear or fail
later, disputes, refunds made at the provider, and the signed webhooks the worker delivers."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from api.db import utcnow
from api.payments.models import (
    Invoice,
    InvoiceKind,
    Payment,
    Refund,
    SandboxEvent,
    SandboxIntent,
    SandboxRefund,
)
from api.payments.providers import SandboxProvider, stripe_card_fee, stripe_signature
from api.users.models import Role
from tests.api.factories import Api, TestUser
from tests.api.test_bookings import _reserved
from tests.api.test_payments import _held, _ledger, _pay

SECRET = "whsec_tessera_sandbox"
WEBHOOK = "/payments/webhooks/sandbox"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute", "sandbox_settle_seconds": 5}


def _sandbox(api: Api) -> SandboxProvider:
    sandbox = api.app.state.payment_providers["sandbox"]
    assert isinstance(sandbox, SandboxProvider)
    return sandbox


async def _deliver(api: Api, secret: str = SECRET) -> int:
    """What the worker does each round: POST the pending events to the webhook endpoint."""
    return await _sandbox(api).deliver_events(api.client, WEBHOOK, secret)


async def _post_event(api: Api, event_id: str, kind: str, obj: dict[str, Any]) -> httpx.Response:
    """An event signed as the sandbox (and Stripe) signs it, posted to the webhook endpoint."""
    body = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": kind,
            "created": int(time.time()),
            "data": {"object": obj},
        }
    ).encode()
    return await api.client.post(
        WEBHOOK,
        content=body,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": stripe_signature(body, SECRET, int(time.time())),
        },
    )


async def _later(api: Api) -> int:
    """Let the sandbox's later outcomes land (they are due 5 s after the payment)."""
    return await _sandbox(api).advance(utcnow() + timedelta(seconds=10))


async def _events(api: Api) -> list[tuple[str, bool]]:
    async with api.app.state.sessionmaker() as session:
        rows = await session.execute(
            select(SandboxEvent.type, SandboxEvent.delivered_at).order_by(
                SandboxEvent.created_at, SandboxEvent.id
            )
        )
        return [(kind, delivered is not None) for kind, delivered in rows.all()]


async def _status(api: Api, headers: dict[str, str], booking_id: str) -> str:
    shown = await api.client.get(f"/bookings/{booking_id}", headers=headers)
    return str(shown.json()["status"])


async def test_a_sepa_debit_clears_later_and_its_webhook_confirms_the_booking(api: Api) -> None:
    _, buyer, booking = await _held(api)
    started = await _pay(api, buyer, booking, "DE89 3704 0044 0532 0130 00")
    assert started.status_code == 201, started.text
    payment = started.json()
    assert (payment["status"], payment["method"]) == ("processing", "sepa_debit •••• 3000")
    assert await _deliver(api) == 1
    assert await _events(api) == [("payment_intent.processing", True)]
    assert await _status(api, buyer.headers, booking["id"]) == "pending"
    assert await _sandbox(api).advance() == 0  # not due yet
    assert await _later(api) == 1
    assert await _later(api) == 0  # settles once
    # Nothing changes on our side until the webhook arrives.
    assert await _status(api, buyer.headers, booking["id"]) == "pending"
    assert await _deliver(api) == 1
    assert await _events(api) == [
        ("payment_intent.processing", True),
        ("payment_intent.succeeded", True),
    ]
    shown = await api.client.get(f"/payments/{payment['id']}", headers=buyer.headers)
    assert shown.json()["status"] == "succeeded"
    assert await _status(api, buyer.headers, booking["id"]) == "confirmed"
    assert (await _ledger(api, payment["id"]))["charge"] == 5000
    invoice = await api.client.get(f"/bookings/{booking['id']}/invoice", headers=buyer.headers)
    assert invoice.status_code == 200
    # Delivered again (at least once is all a provider promises): acknowledged, no change.
    async with api.app.state.sessionmaker() as session:
        await session.execute(update(SandboxEvent).values(delivered_at=None))
        await session.commit()
    assert await _deliver(api) == 2
    assert (await _ledger(api, payment["id"]))["charge"] == 5000


async def test_a_failing_debit_fails_later_and_the_hold_stays_for_another_try(api: Api) -> None:
    _, buyer, booking = await _held(api)
    started = (await _pay(api, buyer, booking, "pm_sepaDebit_failure")).json()
    assert started["status"] == "processing"
    busy = await _pay(api, buyer, booking, "pm_card_visa")
    assert (busy.status_code, busy.json()["code"]) == (409, "payment.in_progress")
    await _later(api)
    await _deliver(api)
    failed = (await api.client.get(f"/payments/{started['id']}", headers=buyer.headers)).json()
    assert (failed["status"], failed["failure_code"]) == ("failed", "insufficient_funds")
    assert await _status(api, buyer.headers, booking["id"]) == "pending"
    retried = await _pay(api, buyer, booking, "pm_card_visa")
    assert retried.json()["status"] == "succeeded"


async def test_events_out_of_order_leave_the_latest_state(api: Api) -> None:
    _, buyer, booking = await _held(api)
    payment = (await _pay(api, buyer, booking, "pm_sepaDebit_success")).json()
    await _later(api)
    # The "processing" event reaches us after the "succeeded" one.
    async with api.app.state.sessionmaker() as session:
        await session.execute(
            update(SandboxEvent)
            .where(SandboxEvent.type == "payment_intent.processing")
            .values(created_at=utcnow() + timedelta(seconds=1))
        )
        await session.commit()
    assert await _deliver(api) == 2
    assert [kind for kind, _ in await _events(api)] == [
        "payment_intent.succeeded",
        "payment_intent.processing",
    ]
    shown = await api.client.get(f"/payments/{payment['id']}", headers=buyer.headers)
    assert shown.json()["status"] == "succeeded"
    assert await _status(api, buyer.headers, booking["id"]) == "confirmed"


async def test_a_refused_delivery_is_retried_with_backoff(api: Api) -> None:
    _, buyer, booking = await _held(api)
    payment = (await _pay(api, buyer, booking, "pm_card_visa")).json()
    assert await _deliver(api, secret="whsec_someone_else") == 0
    async with api.app.state.sessionmaker() as session:
        event = await session.scalar(select(SandboxEvent))
        assert event is not None
        assert event.attempts == 1
        assert event.next_attempt_at is not None
        assert event.next_attempt_at > utcnow()
        assert event.last_error is not None
        assert "HTTP 400" in event.last_error
        assert "webhook.invalid_signature" in event.last_error
    assert await _deliver(api) == 0  # not due again yet
    async with api.app.state.sessionmaker() as session:
        await session.execute(update(SandboxEvent).values(next_attempt_at=utcnow()))
        await session.commit()
    assert await _deliver(api) == 1
    assert (await _ledger(api, payment["id"]))["charge"] == 5000


async def test_a_disputed_payment_lands_a_chargeback(api: Api) -> None:
    _, buyer, booking = await _held(api)
    payment = (await _pay(api, buyer, booking, "4000 0000 0000 0259")).json()
    assert payment["status"] == "succeeded"
    await _later(api)
    await _deliver(api)
    assert [kind for kind, _ in await _events(api)] == [
        "payment_intent.succeeded",
        "charge.dispute.created",
    ]
    assert (await _ledger(api, payment["id"]))["chargeback"] == -5000
    assert [r.event_type for r in await api.outbox() if r.event_type == "payment.disputed"] == [
        "payment.disputed"
    ]


async def _refund_at_the_provider(api: Api, payment: dict[str, Any], amount: int) -> str:
    """A refund made in the provider's dashboard: no id of ours in its metadata."""
    answer = await _sandbox(api).refund(
        ref=payment["provider_ref"],
        amount_cents=amount,
        idempotency_key=f"dashboard_{uuid.uuid4().hex}",
        metadata={},
    )
    return answer.ref


async def test_a_refund_made_at_the_provider_is_recorded(api: Api) -> None:
    _, buyer, booking = await _held(api)
    payment = (await _pay(api, buyer, booking, "pm_card_visa")).json()
    await _deliver(api)
    await _refund_at_the_provider(api, payment, 2000)
    assert await _deliver(api) == 1
    shown = (await api.client.get(f"/payments/{payment['id']}", headers=buyer.headers)).json()
    assert shown["refunded_cents"] == 2000
    assert (await _ledger(api, payment["id"]))["refund"] == -2000
    assert await _status(api, buyer.headers, booking["id"]) == "confirmed"
    # The rest, also at the provider: the booking is refunded and its seats are free again.
    await _refund_at_the_provider(api, payment, 3000)
    assert await _deliver(api) == 1
    assert (await _ledger(api, payment["id"]))["refund"] == -5000
    assert await _status(api, buyer.headers, booking["id"]) == "refunded"
    assert set((await _reserved(api)).values()) == {0}
    async with api.app.state.sessionmaker() as session:
        credit_notes = await session.scalar(
            select(func.count()).where(Invoice.kind == InvoiceKind.credit_note)
        )
        reasons = (await session.scalars(select(Refund.reason))).all()
    assert credit_notes == 2
    assert reasons == ["refunded at sandbox", "refunded at sandbox"]


async def test_one_outside_refund_announced_twice_at_once_is_recorded_once(api: Api) -> None:
    _, buyer, booking = await _held(api)
    payment = (await _pay(api, buyer, booking, "pm_card_visa")).json()
    await _deliver(api)
    refund_id = await _refund_at_the_provider(api, payment, 1500)

    async def announce(event_id: str, kind: str) -> int:
        answer = await _post_event(api, event_id, kind, {"id": refund_id, "object": "refund"})
        return answer.status_code

    statuses = await asyncio.gather(
        announce("evt_a", "refund.created"),
        announce("evt_b", "refund.updated"),
        announce("evt_c", "refund.updated"),
    )
    assert statuses == [200, 200, 200]
    assert (await _ledger(api, payment["id"]))["refund"] == -1500
    async with api.app.state.sessionmaker() as session:
        recorded = await session.scalar(
            select(func.count()).where(Refund.provider_ref == refund_id)
        )
        refunded = await session.scalar(
            select(Payment.refunded_cents).where(Payment.id == uuid.UUID(payment["id"]))
        )
    assert (recorded, refunded) == (1, 1500)


async def test_a_sandbox_event_for_something_unknown_is_refused(api: Api) -> None:
    answer = await _post_event(
        api,
        "evt_unknown",
        "payment_intent.succeeded",
        {"id": "pi_sandbox_nothing", "object": "payment_intent"},
    )
    assert (answer.status_code, answer.json()["code"]) == (400, "webhook.unknown_object")


async def test_the_ledger_matches_what_the_provider_holds(api: Api) -> None:
    """Whatever mix of payments and refunds (ours, concurrent ones, refused ones, refunds made
    at the provider), each payment's ledger equals the provider's own books: the charge less
    its refunds, and less its fee for the balance the provider keeps for us."""
    owner, buyer, booking = await _held(api)
    first = (await _pay(api, buyer, booking, "pm_card_visa")).json()
    _, other_buyer, other = await _held(api, quantity=1)
    second = (await _pay(api, other_buyer, other, "pm_sepaDebit_success")).json()
    await _later(api)
    await _deliver(api)
    admin = await api.signed_in(Role.admin)

    async def refund(payment_id: str, amount: int, who: TestUser) -> int:
        answer = await api.client.post(
            f"/payments/{payment_id}/refunds", headers=who.headers, json={"amount_cents": amount}
        )
        return answer.status_code

    statuses = await asyncio.gather(
        refund(first["id"], 3000, owner), refund(first["id"], 3000, admin)
    )
    assert sorted(statuses) == [201, 409]
    await _refund_at_the_provider(api, first, 500)
    assert await refund(second["id"], 1000, admin) == 201
    assert await refund(second["id"], 5000, admin) == 409
    await _deliver(api)
    for payment in (first, second):
        async with api.app.state.sessionmaker() as session:
            intent = await session.get(SandboxIntent, payment["provider_ref"])
            assert intent is not None
            given_back = int(
                await session.scalar(
                    select(func.coalesce(func.sum(SandboxRefund.amount_cents), 0)).where(
                        SandboxRefund.intent_id == intent.id
                    )
                )
                or 0
            )
            held, fee = intent.amount_cents - given_back, stripe_card_fee(intent.amount_cents)
        ledger = await _ledger(api, payment["id"])
        assert ledger["charge"] + ledger.get("refund", 0) == held
        assert ledger["charge"] + ledger.get("refund", 0) + ledger["provider_fee"] == held - fee
        shown = await api.client.get(f"/payments/{payment['id']}", headers=admin.headers)
        assert shown.json()["refunded_cents"] == given_back
    assert (await _ledger(api, first["id"]))["refund"] == -3500
    assert (await _ledger(api, second["id"]))["refund"] == -1000
