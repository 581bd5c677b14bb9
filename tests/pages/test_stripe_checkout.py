"""The checkout with Stripe configured, against the Stripe-compatible server on loopback, on
both databases: the Payment Element's page (Stripe.js allowed by the page's CSP, no test
cards), the PaymentMethod id it posts, a card number refused, and the bank's step read back."""

from __future__ import annotations

import httpx
import pytest

from api.users.models import Role
from tests.api.factories import Api
from tests.api.test_events import published_event
from tests.api.test_stripe import _payment_method, stripe_server, stripe_settings
from tests.pages.test_account_and_storefront import form_token
from tests.pages.test_checkout import book, signed_in_browser

__all__ = ["stripe_server"]


@pytest.fixture
def settings_overrides(stripe_server: str) -> dict[str, object]:
    return stripe_settings(stripe_server)


async def _checkout(api: Api) -> tuple[str, httpx.Response]:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner)
    await signed_in_browser(api)
    held = await book(api, event["slug"], {event["ticket_types"][0]["id"]: 1})
    path = held.headers["location"]
    return path, await api.client.get(path)


async def test_the_payment_element_pays_with_the_method_stripe_made(
    api: Api, stripe_server: str
) -> None:
    path, page = await _checkout(api)
    assert 'data-stripe-key="pk_test_tessera"' in page.text
    assert '<div id="payment-element">' in page.text
    assert "https://js.stripe.com/v3/" in page.text
    assert "4242 4242 4242 4242" not in page.text  # no sandbox test cards with Stripe
    csp = page.headers["content-security-policy"]
    assert "script-src 'self' https://js.stripe.com" in csp
    assert "frame-src https://js.stripe.com" in csp

    typed = await api.client.post(
        f"{path}/pay",
        data={
            "csrf_token": form_token(page),
            "method": "stripe",
            "payment_method": "4242424242424242",
        },
    )
    assert typed.status_code == 422  # a card number never reaches Tessera
    assert "PaymentMethod id" in typed.text

    method = await _payment_method(stripe_server, "4242424242424242")
    paid = await api.client.post(
        f"{path}/pay",
        data={"csrf_token": form_token(page), "method": "stripe", "payment_method": method},
    )
    assert paid.status_code == 303, paid.text
    mine = await api.client.get(paid.headers["location"])
    assert "Your booking is confirmed." in mine.text


async def test_the_banks_step_is_shown_by_stripe_and_read_back(
    api: Api, stripe_server: str
) -> None:
    path, page = await _checkout(api)
    method = await _payment_method(stripe_server, "4000002500003155")
    started = await api.client.post(
        f"{path}/pay",
        data={"csrf_token": form_token(page), "method": "stripe", "payment_method": method},
    )
    step = started.headers["location"]
    assert "/authenticate/" in step
    shown = await api.client.get(step)
    assert 'data-client-secret="' in shown.text
    assert "script-src 'self' https://js.stripe.com" in shown.headers["content-security-policy"]
    secret = shown.text.split('data-client-secret="', 1)[1].split('"', 1)[0]
    back = shown.text.split('data-return="', 1)[1].split('"', 1)[0]

    # Stripe.js shows the bank's page; the buyer passes it; Stripe.js comes back to us.
    intent = secret.split("_secret_", 1)[0]
    async with httpx.AsyncClient() as client:
        passed = await client.post(
            f"{stripe_server}/v1/payment_intents/{intent}/_authenticate",
            data={"client_secret": secret, "success": "true", "key": "pk_test_browser"},
        )
        assert passed.status_code == 200, passed.text
    returned = await api.client.get(back)
    assert returned.status_code == 303
    mine = await api.client.get(returned.headers["location"])
    assert "Your booking is confirmed." in mine.text
