"""Refusals in the visitor's language: a German visitor reads why in German, by the stable code
the JSON API answers with; an English one reads the service's own sentence."""

from __future__ import annotations

import pytest

import api.main  # noqa: F401 - every domain's errors, imported
from api.errors import AppError
from api.pages.problems import CATALOGUES
from api.users.models import Role
from tests.api.factories import Api
from tests.api.test_events import published_event, ticket_body
from tests.pages.test_account_and_storefront import form_token
from tests.pages.test_checkout import book, pay, signed_in_browser

# The domains whose refusals a page of the shop or the account can show.
ON_PAGES = ("auth.", "booking.", "waitlist.", "payment.", "page.", "user.")


def _codes(kind: type[AppError]) -> set[str]:
    found = {kind.code}
    for sub in kind.__subclasses__():
        found |= _codes(sub)
    return found


def test_every_refusal_a_page_can_show_is_in_german_too() -> None:
    codes = {c for c in _codes(AppError) if c.startswith(ON_PAGES)}
    assert len(codes) > 40
    assert sorted(codes - set(CATALOGUES["de"])) == []


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


async def test_a_german_visitor_reads_why_in_german(api: Api) -> None:
    german = {"Accept-Language": "de-DE,de;q=0.9"}
    page = await api.client.get("/account/sign-in", headers=german)
    wrong = await api.client.post(
        "/account/sign-in",
        data={"csrf_token": form_token(page), "email": "x@example.com", "password": "nope"},
        headers=german,
    )
    assert "E-Mail-Adresse oder Passwort stimmen nicht." in wrong.text
    english = await api.client.post(
        "/account/sign-in",
        data={"csrf_token": form_token(page), "email": "x@example.com", "password": "nope"},
    )
    assert "The email or password is not correct." in english.text

    nameless = await api.client.post(
        "/account/sign-up",
        data={"csrf_token": form_token(page), "email": "a@example.com", "password": "x" * 20},
        headers=german,
    )
    assert 'id="f-full_name-error">Das ist zu kurz.' in nameless.text

    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(quantity=5)])
    # Signed in, the account's language counts (the browser's only without one we speak).
    buyer = await api.login(await signed_in_browser(api))
    speaks = await api.client.put("/users/profile", headers=buyer.headers, json={"locale": "de"})
    assert speaks.status_code == 200, speaks.text
    held = await book(api, event["slug"], {event["ticket_types"][0]["id"]: 1})
    declined = await pay(api, held.headers["location"], "4000000000000002")
    shown = await api.client.get(declined.headers["location"])
    assert "Ihre Karte wurde abgelehnt." in shown.text
    missing = await api.client.get("/event/no-such-event")
    assert "Diese Veranstaltung gibt es nicht." in missing.text
