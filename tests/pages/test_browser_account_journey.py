"""The account area and the waitlist in a real browser (Debian's Chromium, 360 px wide): a
visitor signs up with a social provider (the OpenID provider on loopback), lands signed in,
switches the pages to German, chooses which messages reach them, reads the inbox, and queues
for a sold-out event. Every page is checked with axe-core and photographed."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, expect

from api.auth import oauth
from api.users.models import Role
from tests.api.conftest import serving
from tests.api.factories import Api
from tests.api.test_events import published_event, ticket_body
from tests.oauth_provider import Client, Provider, openid_provider
from tests.pages.browsing import browser, looked_at, needs_chromium, phone

__all__ = ["browser"]

needs_chromium()


@pytest.fixture
def port() -> int:
    """A free loopback port for the app, known before it starts: the provider must know the
    callback address in advance, as a real one does."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def op(monkeypatch: pytest.MonkeyPatch, port: int) -> Iterator[Provider]:
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the loopback provider speaks http
    oauth.METADATA.clear()
    with openid_provider() as provider:
        provider.clients["google-client"] = Client(
            client_id="google-client",
            client_secret="google-secret",
            redirect_uris=[f"http://127.0.0.1:{port}/auth/oauth/google/callback"],
        )
        provider.user = {
            "sub": "g-2002",
            "email": "grace@example.com",
            "email_verified": True,
            "name": "Grace Hopper",
        }
        yield provider


@pytest.fixture
def settings_overrides(op: Provider, port: int) -> dict[str, object]:
    return {
        "public_base_url": f"http://127.0.0.1:{port}",
        "rate_limit_login_ip": "1000/minute",
        "oauth_google_client_id": "google-client",
        "oauth_google_client_secret": "google-secret",
        "oauth_google_discovery_url": f"{op.base}/.well-known/openid-configuration",
    }


@pytest.fixture
async def site(app: FastAPI, port: int) -> AsyncIterator[str]:
    async with serving(app, port) as url:
        yield url


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_visitor_signs_up_with_google_sets_up_the_account_and_joins_a_waitlist(
    api: Api, site: str, browser: Browser
) -> None:
    owner = await api.signed_in(Role.organizer)
    await published_event(
        api,
        owner,
        title="Sold Out Sessions",
        tickets=[ticket_body(name="Standing", quantity=1, price_cents=0)],
    )
    early = await api.signed_in()
    taken = await api.client.get("/events/slug/sold-out-sessions")
    booked = await api.client.post(
        "/bookings",
        headers=early.headers,
        json={
            "event_id": taken.json()["id"],
            "lines": [{"ticket_type_id": taken.json()["ticket_types"][0]["id"], "quantity": 1}],
        },
    )
    assert booked.status_code == 201, booked.text
    context = await phone(browser)
    page = await context.new_page()

    await page.goto(f"{site}/account/sign-in")
    await looked_at(page, "20-sign-in-with-providers")
    await page.get_by_role("link", name="Continue with Google").click()
    # The provider on loopback gives consent at once and sends the browser back.
    await expect(page.get_by_role("link", name="Grace Hopper")).to_be_visible()
    assert page.url == f"{site}/"

    await page.get_by_role("link", name="Grace Hopper").click()
    await expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    await looked_at(page, "21-profile")
    await page.get_by_label("Language").select_option("de")
    await page.get_by_label("Time zone").fill("Europe/Berlin")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_text("Ihr Profil ist gespeichert.")).to_be_visible()
    await looked_at(page, "22-profile-in-german")

    await page.get_by_role("link", name="Benachrichtigungen").click()
    news_by_email = page.get_by_label(
        "Neuigkeiten von Veranstaltern, bei denen Sie gebucht haben: E-Mail"
    )
    await news_by_email.check()
    await page.get_by_role("button", name="Speichern").click()
    await expect(page.get_by_text("Ihre Auswahl ist gespeichert.")).to_be_visible()
    await expect(news_by_email).to_be_checked()
    await looked_at(page, "23-notification-choices")

    await page.goto(f"{site}/event/sold-out-sessions")
    await expect(page.get_by_text("Ausverkauft").first).to_be_visible()
    await page.get_by_role("button", name="Auf die Warteliste").click()
    await expect(page.get_by_text("Sie stehen auf der Warteliste für Standing.")).to_be_visible()
    await looked_at(page, "24-on-the-waitlist")

    await page.get_by_role("link", name="Meine Buchungen").first.click()
    await expect(page.get_by_text("Platz 1 in der Warteschlange.")).to_be_visible()
    await looked_at(page, "25-my-waitlist-places")

    await page.get_by_role("link", name="Posteingang").first.click()
    await expect(page.get_by_role("heading", name="Posteingang")).to_be_visible()
    await looked_at(page, "26-inbox")
    await context.close()
