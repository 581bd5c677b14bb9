"""The storefront and the account pages over HTTP, on both databases: what a browser without
JavaScript gets, the session cookie, the form tokens, and the links our emails carry."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import api.pages as api_pages
from api.users.models import Role
from tests.api.factories import DEFAULT_PASSWORD, Api
from tests.api.test_events import create_event, published_event, ticket_body

PASSWORD = "lantern-orchard-velvet-93"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute", "rate_limit_register_ip": "1000/minute"}


def form_token(page: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


async def post_form(api: Api, path: str, fields: dict[str, str], **headers: str) -> httpx.Response:
    """Post a form as a browser does: load a page first for its form token."""
    token = form_token(await api.client.get("/account/forgot-password"))
    return await api.client.post(path, data={"csrf_token": token, **fields}, headers=headers)


def link_in_mail(api: Api, to: str, subject_part: str) -> str:
    """The path of the link in the newest mail to `to` about `subject_part`."""
    token = api.link_token(to, subject_part)
    mail = [m for m in api.mails(to) if subject_part.lower() in m["Subject"].lower()][-1]
    body = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    match = re.search(r"https?://[^/\s]+(/\S+token=" + re.escape(token) + ")", body)
    assert match, body
    return match.group(1)


async def test_the_home_page_lists_what_is_on_sale_and_search_forgives_typos(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    await published_event(api, owner, title="Harbour Jazz Night")
    await published_event(
        api,
        owner,
        title="Techno Marathon",
        description="Twelve hours of techno.",
        tickets=[ticket_body(price_cents=1500)],
    )
    await create_event(api, owner, title="Secret Draft Party")
    await api.sync_search_index()

    home = await api.client.get("/")
    assert home.status_code == 200
    assert home.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in home.headers["content-security-policy"]
    assert "Harbour Jazz Night" in home.text
    assert "Techno Marathon" in home.text
    assert "Secret Draft Party" not in home.text
    assert 'href="/event/harbour-jazz-night"' in home.text

    found = await api.client.get("/", params={"q": "harbor jaz"})
    assert found.status_code == 200
    assert "Harbour Jazz Night" in found.text
    assert "Techno Marathon" not in found.text

    cheap = await api.client.get("/", params={"max_price": "20"})
    assert "Techno Marathon" in cheap.text
    assert "Harbour Jazz Night" not in cheap.text  # 25.00


async def test_an_event_page_shows_time_place_and_what_is_left(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    await published_event(
        api,
        owner,
        title="Harbour Jazz Night",
        tickets=[
            ticket_body(name="Standing", quantity=100),
            ticket_body(name="Front row", quantity=4, price_cents=9900),
        ],
    )
    page = await api.client.get("/event/harbour-jazz-night")
    assert page.status_code == 200
    assert "<strong>jazz</strong>" in page.text  # the Markdown description, rendered
    assert "Pier 7" in page.text
    assert "openstreetmap.org" in page.text
    assert "Europe/Berlin" in page.text
    assert "€25.00" in page.text
    assert "4 left" in page.text  # a few seats: said plainly

    german = await api.client.get(
        "/event/harbour-jazz-night", headers={"Accept-Language": "de-DE,de;q=0.9"}
    )
    assert '<html lang="de">' in german.text
    assert "Anzahl" in german.text
    assert "25,00\xa0€" in german.text

    missing = await api.client.get("/event/no-such-event")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")


async def test_a_visitor_signs_up_confirms_by_the_emailed_link_and_signs_in_and_out(
    api: Api,
) -> None:
    email = "ada@example.com"
    signed_up = await post_form(
        api, "/account/sign-up", {"full_name": "Ada Lovelace", "email": email, "password": PASSWORD}
    )
    assert signed_up.status_code == 200, signed_up.text
    assert "Check your email" in signed_up.text
    await api.deliver_notifications()

    link = link_in_mail(api, email, "confirm")
    assert link.startswith("/verify-email?token=")
    confirmed = await api.client.get(link)
    assert confirmed.status_code == 200
    assert "Your address is confirmed" in confirmed.text
    again = await api.client.get(link)
    assert again.status_code == 400
    assert "already been used" in again.text

    signed_in = await post_form(
        api, "/account/sign-in", {"email": email, "password": PASSWORD, "next": "/"}
    )
    assert signed_in.status_code == 303
    cookie = SimpleCookie(signed_in.headers["set-cookie"])["tessera_session"]
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() == "lax"
    token = cookie.value
    home = await api.client.get("/")
    assert "Ada Lovelace" in home.text
    # The cookie is the pages' alone: the JSON API does not take it as a bearer token.
    assert (
        await api.client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 401

    signed_out = await post_form(api, "/account/sign-out", {})
    assert signed_out.status_code == 303
    # The server-side session ended: the old cookie no longer signs anyone in.
    api.client.cookies.set("tessera_session", token)
    assert "Ada Lovelace" not in (await api.client.get("/")).text


async def test_forms_say_what_is_wrong_beside_the_field_and_write_nothing(api: Api) -> None:
    bad = await post_form(
        api, "/account/sign-up", {"full_name": "Ada", "email": "not-an-address", "password": "x"}
    )
    assert bad.status_code == 422
    assert 'id="f-email-error"' in bad.text
    assert 'aria-invalid="true"' in bad.text
    assert 'value="not-an-address"' in bad.text  # kept for correcting
    assert api.mails() == []

    wrong = await post_form(
        api, "/account/sign-in", {"email": "nobody@example.com", "password": PASSWORD}
    )
    assert wrong.status_code == 422
    assert "The email or password is not correct." in wrong.text


async def test_a_form_without_its_token_or_from_another_site_is_refused(api: Api) -> None:
    fields = {"full_name": "Eve", "email": "eve@example.com", "password": PASSWORD}
    await api.client.get("/account/sign-up")
    missing = await api.client.post("/account/sign-up", data=fields)
    assert missing.status_code == 403
    assert missing.headers["content-type"].startswith("text/html")

    elsewhere = await post_form(api, "/account/sign-up", fields, Origin="https://evil.example")
    assert elsewhere.status_code == 403
    await api.deliver_notifications()
    assert api.mails() == []


async def test_a_forgotten_password_is_reset_by_the_emailed_link(api: Api) -> None:
    user = await api.make_user(email="grace@example.com")
    await post_form(api, "/account/forgot-password", {"email": user.email})
    await post_form(api, "/account/forgot-password", {"email": "unknown@example.com"})
    await api.deliver_notifications()
    assert api.mails("unknown@example.com") == []

    link = link_in_mail(api, user.email, "password")
    assert link.startswith("/reset-password?token=")
    form = await api.client.get(link)
    assert form.status_code == 200
    token = re.search(r'name="token" value="([^"]+)"', form.text)
    assert token
    weak = await post_form(
        api, "/reset-password", {"token": token.group(1), "new_password": "short"}
    )
    assert weak.status_code == 422
    assert 'id="f-new_password-error"' in weak.text
    # The refusal kept the link: it still works.
    done = await post_form(
        api, "/reset-password", {"token": token.group(1), "new_password": PASSWORD}
    )
    assert done.status_code == 200, done.text
    assert "Your password is changed" in done.text

    old = await post_form(
        api, "/account/sign-in", {"email": user.email, "password": DEFAULT_PASSWORD}
    )
    assert old.status_code == 422
    new = await post_form(api, "/account/sign-in", {"email": user.email, "password": PASSWORD})
    assert new.status_code == 303


def test_every_text_of_the_pages_is_in_german_too() -> None:
    """A new English text without its German twin fails here (api/pages/locales/de.po)."""
    templates = Path(api_pages.__file__).parent / "templates"
    options = {"**.html": {"extensions": "jinja2.ext.i18n"}}
    texts = {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(
            str(templates), [("**.html", "jinja2")], options_map=options
        )
    }
    with (templates.parent / "locales" / "de.po").open("rb") as po:
        german = read_po(po)
    assert len(texts) > 50
    untranslated = sorted(t for t in texts if t not in german or not german[t].string)
    assert untranslated == []
