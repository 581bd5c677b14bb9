"""The account area over HTTP, on both databases: the profile, the notification choices, the
in-app inbox and the unsubscribe page a marketing email links to."""

from __future__ import annotations

import pytest

from api.notifications.models import Category
from api.notifications.preferences import unsubscribe_url
from api.users.models import Role
from tests.api.factories import Api
from tests.api.test_events import published_event, ticket_body
from tests.pages.test_account_and_storefront import form_token
from tests.pages.test_checkout import book, signed_in_browser


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


async def test_the_profile_is_changed_with_the_apis_rules_and_the_language_follows(
    api: Api,
) -> None:
    user = await api.login(await signed_in_browser(api))
    page = await api.client.get("/account/profile")
    assert page.status_code == 200
    assert user.email in page.text
    assert 'value="Ada Lovelace"' in page.text

    fields = {
        "csrf_token": form_token(page),
        "full_name": "Ada King",
        "display_name": "Ada",
        "phone": "not a number",
        "locale": "de",
        "timezone": "Europe/Berlin",
        "bio": "",
    }
    refused = await api.client.post("/account/profile", data=fields)
    assert refused.status_code == 422
    assert 'id="f-phone-error"' in refused.text
    assert 'value="not a number"' in refused.text  # what was typed stays
    unchanged = (await api.client.get("/users/profile", headers=user.headers)).json()
    assert unchanged["full_name"] == "Ada Lovelace"

    saved = await api.client.post("/account/profile", data=fields | {"phone": "+4915112345678"})
    assert saved.status_code == 303, saved.text
    profile = (await api.client.get("/users/profile", headers=user.headers)).json()
    assert (profile["full_name"], profile["display_name"], profile["locale"]) == (
        "Ada King",
        "Ada",
        "de",
    )
    assert profile["bio"] is None
    german = await api.client.get(saved.headers["location"])
    assert "Ihr Profil ist gespeichert." in german.text
    assert '<html lang="de">' in german.text

    cleared = await api.client.post(
        "/account/profile", data=fields | {"phone": "", "display_name": "", "csrf_token": "x"}
    )
    assert cleared.status_code == 403  # the form token is checked here as everywhere
    api.client.cookies.clear()
    anonymous = await api.client.get("/account/profile")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/account/sign-in?next=%2Faccount%2Fprofile"


async def test_notification_choices_keep_the_mandatory_ones(api: Api) -> None:
    user = await api.login(await signed_in_browser(api))
    page = await api.client.get("/account/notifications")
    assert page.status_code == 200
    # Transactional email cannot be switched off: its box is ticked and disabled.
    assert 'name="orders.email" id="p-orders-email"' in page.text
    orders_email = page.text.split('name="orders.email"', 1)[1].split(">", 1)[0]
    assert "checked" in orders_email
    assert "disabled" in orders_email

    saved = await api.client.post(
        "/account/notifications",
        data={"csrf_token": form_token(page), "marketing.email": "on", "orders.sms": "on"},
    )
    assert saved.status_code == 303
    chosen = (
        await api.client.get("/users/me/notification-preferences", headers=user.headers)
    ).json()
    enabled = {(p["category"], p["channel"]): p["enabled"] for p in chosen["preferences"]}
    assert enabled[("marketing", "email")] is True
    assert enabled[("orders", "sms")] is True
    assert enabled[("orders", "email")] is True  # mandatory, although not sent
    assert enabled[("reminders", "email")] is False  # unticked: off
    assert "saved" in (await api.client.get(saved.headers["location"])).text


async def test_the_inbox_shows_the_booking_message_and_marks_it_read(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(price_cents=0, quantity=5)])
    await signed_in_browser(api)
    booked = await book(api, event["slug"], {event["ticket_types"][0]["id"]: 1})
    assert booked.status_code == 303
    await api.deliver_notifications()

    inbox = await api.client.get("/account/inbox")
    assert "1 unread message" in inbox.text
    assert f'href="{booked.headers["location"]}"' in inbox.text  # to the booking's page
    read = await api.client.post("/account/inbox/read-all", data={"csrf_token": form_token(inbox)})
    assert read.status_code == 303
    assert "0 unread messages" in (await api.client.get("/account/inbox")).text


async def test_the_unsubscribe_link_asks_first_and_needs_no_sign_in(api: Api) -> None:
    user = await api.signed_in()
    await api.client.put(
        "/users/me/notification-preferences",
        headers=user.headers,
        json={"preferences": [{"category": "marketing", "channel": "email", "enabled": True}]},
    )
    link = unsubscribe_url(api.settings, user_id=user.id, category=Category.marketing)
    opened = await api.client.get(link.removeprefix(api.settings.public_base_url))
    page = await api.client.get(opened.headers["location"])
    assert page.status_code == 200
    assert "Stop news about new events" in page.text
    done = await api.client.post(
        "/account/unsubscribe",
        data={"csrf_token": form_token(page), "token": link.split("token=", 1)[1]},
    )
    assert done.status_code == 200
    assert "no more news about new events" in done.text
    chosen = (
        await api.client.get("/users/me/notification-preferences", headers=user.headers)
    ).json()
    enabled = {(p["category"], p["channel"]): p["enabled"] for p in chosen["preferences"]}
    assert enabled[("marketing", "email")] is False

    broken = await api.client.get("/account/unsubscribe", params={"token": "not-a-token-at-all"})
    assert broken.status_code == 400
    assert "not valid" in broken.text
