"""The Stripe provider through the official SDK against a Stripe-compatible server on loopback
(localstripe), and Stripe's webhooks with their documented signature scheme."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from api.payments import service as payments
from api.payments.models import LedgerEntry
from tests.api.factories import Api
from tests.api.test_payments import _held, _ledger

WEBHOOK_SECRET = "whsec_test_secret_for_the_suite"


@pytest.fixture(scope="session")
def stripe_server() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(  # noqa: S603 - our interpreter, our script
        [
            sys.executable,
            "-u",
            str(Path(__file__).parents[1] / "stripe_server.py"),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    # aiohttp prints "======== Running on ... ========" once it listens; EOF means it died.
    for line in process.stdout:
        if "Running on" in line:
            break
    else:
        raise RuntimeError("the Stripe-compatible server did not start")
    url = f"http://127.0.0.1:{port}"
    yield url
    process.terminate()
    process.wait(timeout=10)
    process.stdout.close()


def stripe_settings(stripe_server: str) -> dict[str, object]:
    """A deployment that takes payments through Stripe (here, the server on loopback)."""
    return {
        "rate_limit_login_ip": "1000/minute",
        "payment_provider": "stripe",
        "stripe_secret_key": "sk_test_tessera",
        "stripe_publishable_key": "pk_test_tessera",
        "stripe_webhook_secret": WEBHOOK_SECRET,
        "stripe_api_base": stripe_server,
    }


@pytest.fixture
def settings_overrides(stripe_server: str) -> dict[str, object]:
    return stripe_settings(stripe_server)


async def _payment_method(stripe_server: str, number: str) -> str:
    """What Stripe.js does in the buyer's browser: the card goes to Stripe, which answers with a
    PaymentMethod id; only that id reaches us. (Stripe.js uses the publishable key; localstripe
    takes secret keys only for this call.)"""
    async with httpx.AsyncClient(base_url=stripe_server, auth=("sk_test_browser", "")) as browser:
        created = await browser.post(
            "/v1/payment_methods",
            data={
                "type": "card",
                "card[number]": number,
                "card[exp_month]": "12",
                "card[exp_year]": "2034",
                "card[cvc]": "123",
            },
        )
        created.raise_for_status()
        return str(created.json()["id"])


def _signed(payload: dict[str, Any], *, secret: str = WEBHOOK_SECRET, at: int | None = None):  # type: ignore[no-untyped-def]
    """A webhook delivery as Stripe signs it: HMAC-SHA256 of "timestamp.body" (`v1`)."""
    body = json.dumps(payload)
    timestamp = int(time.time()) if at is None else at
    signature = hmac.new(
        secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256
    ).hexdigest()
    return body, {"Stripe-Signature": f"t={timestamp},v1={signature}"}


def _event(event_id: str, kind: str, object_id: str, obj: str = "payment_intent") -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": {"id": object_id, "object": obj}},
    }


async def _deliver(api: Api, payload: dict[str, Any], **sign: Any):  # type: ignore[no-untyped-def]
    body, headers = _signed(payload, **sign)
    return await api.client.post(
        "/payments/webhooks/stripe",
        content=body,
        headers={**headers, "Content-Type": "application/json"},
    )


def _charge_of(intent: dict[str, Any]) -> str:
    charge = intent["latest_charge"]
    return str(charge["id"] if isinstance(charge, dict) else charge)


async def _pay(api: Api, buyer: Any, booking: dict[str, Any], method: str):  # type: ignore[no-untyped-def]
    return await api.client.post(
        f"/bookings/{booking['id']}/payments",
        headers=buyer.headers,
        json={"payment_method": method},
    )


async def test_a_card_payment_through_stripe_confirms_the_booking(
    api: Api, stripe_server: str
) -> None:
    _, buyer, booking = await _held(api)
    method = await _payment_method(stripe_server, "4242424242424242")
    paid = await _pay(api, buyer, booking, method)
    assert paid.status_code == 201, paid.text
    payment = paid.json()
    assert (payment["provider"], payment["status"]) == ("stripe", "succeeded")
    assert payment["provider_ref"].startswith("pi_")
    assert payment["method"] == "visa •••• 4242"
    async with httpx.AsyncClient(
        base_url=stripe_server, auth=("sk_test_tessera", "")
    ) as stripe_api:
        remote = (await stripe_api.get(f"/v1/payment_intents/{payment['provider_ref']}")).json()
    assert (remote["amount"], remote["currency"]) == (5000, "eur")
    assert remote["metadata"]["booking_id"] == booking["id"]
    shown = await api.client.get(f"/bookings/{booking['id']}", headers=buyer.headers)
    assert shown.json()["status"] == "confirmed"
    card_number = await api.client.post(
        f"/bookings/{booking['id']}/payments",
        headers=buyer.headers,
        json={"payment_method": "4242424242424242"},
    )
    assert (card_number.status_code, card_number.json()["code"]) == (
        422,
        "payment.unknown_stripe_method",
    )


async def test_a_declined_card_fails_and_a_refund_goes_through_stripe(
    api: Api, stripe_server: str
) -> None:
    owner, buyer, booking = await _held(api)
    declined = await _pay(
        api, buyer, booking, await _payment_method(stripe_server, "4000000000000341")
    )
    assert declined.status_code == 201, declined.text
    assert declined.json()["status"] == "failed"
    assert declined.json()["failure_code"]
    paid = await _pay(api, buyer, booking, await _payment_method(stripe_server, "4242424242424242"))
    assert paid.json()["status"] == "succeeded"
    refund = await api.client.post(
        f"/payments/{paid.json()['id']}/refunds", headers=owner.headers, json={"amount_cents": 1500}
    )
    assert refund.status_code == 201, refund.text
    assert (refund.json()["status"], refund.json()["provider_ref"][:3]) == ("succeeded", "re_")
    assert (await _ledger(api, paid.json()["id"]))["refund"] == -1500


async def test_3d_secure_completes_through_a_signed_webhook(api: Api, stripe_server: str) -> None:
    _, buyer, booking = await _held(api)
    started = await _pay(
        api, buyer, booking, await _payment_method(stripe_server, "4000002500003155")
    )
    payment = started.json()
    assert (payment["status"], payment["next_action"]["type"]) == (
        "requires_action",
        "use_stripe_sdk",
    )
    intent_id = payment["provider_ref"]
    # The buyer passes the bank's challenge in the browser (Stripe.js talks to Stripe) ...
    async with httpx.AsyncClient() as client:
        passed = await client.post(
            f"{stripe_server}/v1/payment_intents/{intent_id}/_authenticate",
            data={
                "client_secret": payment["client_secret"],
                "success": "true",
                "key": "pk_test_browser",
            },
        )
        assert passed.status_code == 200, passed.text
    # ... and Stripe tells us. A failure event that arrives late changes nothing: we read the
    # intent again and it has succeeded.
    late_failure = await _deliver(api, _event("evt_1", "payment_intent.payment_failed", intent_id))
    assert late_failure.json() == {"received": True, "duplicate": False}
    succeeded = await _deliver(api, _event("evt_2", "payment_intent.succeeded", intent_id))
    assert succeeded.status_code == 200, succeeded.text
    again = await _deliver(api, _event("evt_2", "payment_intent.succeeded", intent_id))
    assert again.json() == {"received": True, "duplicate": True}
    shown = await api.client.get(f"/payments/{payment['id']}", headers=buyer.headers)
    assert shown.json()["status"] == "succeeded"
    booked = await api.client.get(f"/bookings/{booking['id']}", headers=buyer.headers)
    assert booked.json()["status"] == "confirmed"
    async with api.app.state.sessionmaker() as session:
        charges = await session.scalar(select(func.count()).where(LedgerEntry.kind == "charge"))
    assert charges == 1


@pytest.mark.parametrize(
    ("sign", "reason"),
    [
        ({"secret": "whsec_someone_else"}, "wrong secret"),
        ({"at": int(time.time()) - 3600}, "an hour old"),
    ],
)
async def test_webhooks_with_a_bad_signature_are_refused(
    api: Api, sign: dict[str, Any], reason: str
) -> None:
    response = await _deliver(api, _event("evt_bad", "payment_intent.succeeded", "pi_x"), **sign)
    assert response.status_code == 400, reason
    assert response.json()["code"] == "webhook.invalid_signature"
    unsigned = await api.client.post("/payments/webhooks/stripe", content=b"{}")
    assert unsigned.status_code == 400


async def test_a_refund_stripe_settles_later_is_recorded_from_its_webhook(
    api: Api, stripe_server: str
) -> None:
    _, buyer, booking = await _held(api)
    paid = await _pay(api, buyer, booking, await _payment_method(stripe_server, "4242424242424242"))
    payment = paid.json()
    state = api.app.state
    async with state.sessionmaker() as session:
        refund = await payments.request_refund(
            session,
            payment_id=uuid.UUID(payment["id"]),
            amount_cents=1000,
            reason="goodwill",
            requested_by=None,
        )
        await session.commit()
    # Stripe accepted the refund, but our process stopped before recording the answer.
    answer = await state.payment_providers["stripe"].refund(
        ref=payment["provider_ref"], amount_cents=1000, idempotency_key=str(refund.id)
    )
    assert (await _ledger(api, payment["id"])).get("refund") is None
    delivered = await _deliver(api, _event("evt_r1", "refund.updated", answer.ref, "refund"))
    assert delivered.json() == {"received": True, "duplicate": False}
    assert (await _ledger(api, payment["id"]))["refund"] == -1000
    again = await _deliver(api, _event("evt_r1", "refund.updated", answer.ref, "refund"))
    assert again.json()["duplicate"] is True
    assert (await _ledger(api, payment["id"]))["refund"] == -1000


async def test_a_refund_made_in_stripes_dashboard_is_recorded_once(
    api: Api, stripe_server: str
) -> None:
    _, buyer, booking = await _held(api)
    paid = await _pay(api, buyer, booking, await _payment_method(stripe_server, "4242424242424242"))
    payment = paid.json()
    async with httpx.AsyncClient(base_url=stripe_server, auth=("sk_test_tessera", "")) as dashboard:
        intent = (await dashboard.get(f"/v1/payment_intents/{payment['provider_ref']}")).json()
        charge_id = _charge_of(intent)
        made = await dashboard.post("/v1/refunds", data={"charge": charge_id, "amount": "5000"})
        assert made.status_code == 200, made.text
    refund_id = made.json()["id"]
    # Stripe announces it as the charge refunded and as a refund created; we record it once.
    first = await _deliver(api, _event("evt_d1", "charge.refunded", charge_id, "charge"))
    assert first.json() == {"received": True, "duplicate": False}
    second = await _deliver(api, _event("evt_d2", "refund.created", refund_id, "refund"))
    assert second.json() == {"received": True, "duplicate": False}
    assert (await _ledger(api, payment["id"]))["refund"] == -5000
    shown = await api.client.get(f"/payments/{payment['id']}", headers=buyer.headers)
    assert shown.json()["refunded_cents"] == 5000
    booked = await api.client.get(f"/bookings/{booking['id']}", headers=buyer.headers)
    assert booked.json()["status"] == "refunded"


async def test_a_dispute_lands_a_chargeback_once(api: Api, stripe_server: str) -> None:
    _, buyer, booking = await _held(api)
    paid = await _pay(api, buyer, booking, await _payment_method(stripe_server, "4242424242424242"))
    payment = paid.json()
    async with httpx.AsyncClient(base_url=stripe_server, auth=("sk_test_tessera", "")) as bank:
        intent = (await bank.get(f"/v1/payment_intents/{payment['provider_ref']}")).json()
        opened = await bank.post("/v1/disputes", data={"charge": _charge_of(intent)})
        assert opened.status_code == 200, opened.text
    dispute_id = opened.json()["id"]
    event = _event("evt_dp1", "charge.dispute.created", dispute_id, "dispute")
    assert (await _deliver(api, event)).json() == {"received": True, "duplicate": False}
    assert (await _deliver(api, event)).json() == {"received": True, "duplicate": True}
    assert (await _ledger(api, payment["id"]))["chargeback"] == -5000
