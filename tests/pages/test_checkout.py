"""Buying through the pages, on both databases: hold seats from the event's page, pay at the
checkout with the sandbox's test cards (a decline, the authentication step, a success), and find
the tickets with their QR codes under My bookings."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from api.users.models import Role
from tests.api.factories import DEFAULT_PASSWORD, Api, TestUser
from tests.api.test_events import published_event, ticket_body
from tests.pages.test_account_and_storefront import form_token, post_form


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


async def signed_in_browser(api: Api) -> TestUser:
    user = await api.make_user(full_name="Ada Lovelace")
    response = await post_form(
        api, "/account/sign-in", {"email": user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 303, response.text
    return user


async def book(api: Api, slug: str, quantities: dict[str, int], **names: str) -> httpx.Response:
    page = await api.client.get(f"/event/{slug}")
    fields = {"csrf_token": form_token(page)}
    fields |= {f"qty-{type_id}": str(n) for type_id, n in quantities.items()}
    fields |= {f"names-{type_id}": text for type_id, text in names.items()}
    return await api.client.post(f"/event/{slug}/book", data=fields)


async def pay(api: Api, booking_path: str, card: str) -> httpx.Response:
    checkout = await api.client.get(booking_path)
    assert checkout.status_code == 200, checkout.text
    return await api.client.post(
        f"{booking_path}/pay", data={"csrf_token": form_token(checkout), "card": card}
    )


async def test_a_buyer_holds_seats_is_declined_then_pays_and_gets_the_tickets(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(quantity=10)])
    [standing] = event["ticket_types"]

    # Not signed in: the event's page asks to sign in first.
    anonymous = await api.client.get(f"/event/{event['slug']}")
    assert "Sign in to book" in anonymous.text

    await signed_in_browser(api)
    held = await book(api, event["slug"], {standing["id"]: 2})
    assert held.status_code == 303, held.text
    checkout_path = held.headers["location"]
    assert checkout_path.startswith("/checkout/")
    checkout = await api.client.get(checkout_path)
    assert "Your seats are held until" in checkout.text
    assert "data-countdown" in checkout.text
    assert "4242 4242 4242 4242" in checkout.text  # the sandbox lists its test cards
    assert "never type a real card number" in checkout.text.lower()

    declined = await pay(api, checkout_path, "4000000000000002")
    assert declined.status_code == 303
    shown = await api.client.get(declined.headers["location"])
    assert "Your card was declined." in shown.text

    paid = await pay(api, checkout_path, "4242424242424242")
    assert paid.status_code == 303
    booking_path = paid.headers["location"]
    assert booking_path.startswith("/my/bookings/")
    mine = await api.client.get(booking_path)
    assert "Your booking is confirmed." in mine.text
    assert mine.text.count("<svg") == 2  # two tickets, each with its QR code
    assert "€50.00" in mine.text

    listing = await api.client.get("/my/bookings")
    assert event["title"] in listing.text

    # Two of ten seats are gone (the declined try held none twice): at most 8 can be chosen.
    left = await api.client.get(f"/event/{event['slug']}")
    assert '<option value="8">8</option>' in left.text
    assert '<option value="9">9</option>' not in left.text


async def test_the_card_that_needs_authentication_shows_the_step(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner)
    [ticket_type] = event["ticket_types"]
    await signed_in_browser(api)
    held = await book(api, event["slug"], {ticket_type["id"]: 1})
    paid = await pay(api, held.headers["location"], "4000002500003155")
    step = paid.headers["location"]
    assert "/authenticate/" in step
    page = await api.client.get(step)
    assert "Your bank asks you to confirm" in page.text
    confirmed = await api.client.post(
        step, data={"csrf_token": form_token(page), "outcome": "pass"}
    )
    assert confirmed.headers["location"].startswith("/my/bookings/")
    assert (
        "Your booking is confirmed." in (await api.client.get(confirmed.headers["location"])).text
    )


async def test_free_seats_with_names_are_confirmed_at_once_and_bad_asks_are_explained(
    api: Api,
) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(
        api,
        owner,
        attendee_names_required=True,
        tickets=[ticket_body(price_cents=0, quantity=5, max_per_order=4)],
    )
    [free] = event["ticket_types"]
    await signed_in_browser(api)

    nameless = await book(api, event["slug"], {free["id"]: 2})
    assert nameless.status_code == 422
    assert 'role="alert"' in nameless.text
    too_many = await book(api, event["slug"], {free["id"]: 9})
    assert too_many.status_code == 422
    nothing = await book(api, event["slug"], {})
    assert nothing.status_code == 422

    done = await book(api, event["slug"], {free["id"]: 2}, **{free["id"]: "Ada\nCharles"})
    assert done.status_code == 303, done.text
    mine = await api.client.get(done.headers["location"])
    assert "Your booking is confirmed." in mine.text
    assert "Charles" in mine.text


async def test_someone_elses_booking_is_not_found(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner)
    [ticket_type] = event["ticket_types"]
    await signed_in_browser(api)
    held = await book(api, event["slug"], {ticket_type["id"]: 1})
    api.client.cookies.clear()
    await signed_in_browser(api)
    assert (await api.client.get(held.headers["location"])).status_code == 404
    path = held.headers["location"].replace("/checkout/", "/my/bookings/")
    assert (await api.client.get(path)).status_code == 404
    api.client.cookies.clear()
    away = await api.client.get(path)
    assert away.status_code == 303
    assert away.headers["location"].startswith("/account/sign-in?next=")


async def test_bank_transfer_shows_the_reference_to_pay_with(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner)
    [ticket_type] = event["ticket_types"]
    await signed_in_browser(api)
    held = await book(api, event["slug"], {ticket_type["id"]: 1})
    checkout = await api.client.get(held.headers["location"])
    assert "Pay by bank transfer" in checkout.text
    chose = await api.client.post(
        f"{held.headers['location']}/pay",
        data={"csrf_token": form_token(checkout), "method": "bank_transfer"},
    )
    mine = await api.client.get(chose.headers["location"])
    assert "Transfer €25.00" in mine.text
    assert re.search(r"<code>TSR-[0-9A-Z]{8}</code>", mine.text)
    assert "Pay now" not in mine.text
    # The checkout does not offer a second payment while the transfer is awaited.
    again = await api.client.get(held.headers["location"])
    assert again.status_code == 303


async def test_the_buyer_cancels_within_the_policy_and_takes_the_documents(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, attendee_cancellation_hours=24)
    strict = await published_event(
        api, owner, title="No Refunds Gala", attendee_cancellation_hours=None
    )
    await signed_in_browser(api)
    held = await book(api, event["slug"], {event["ticket_types"][0]["id"]: 2})
    paid = await pay(api, held.headers["location"], "4242424242424242")
    booking_path = paid.headers["location"]

    mine = await api.client.get(booking_path)
    assert "You can cancel until" in mine.text
    tickets = await api.client.get(f"{booking_path}/tickets.pdf")
    assert tickets.headers["content-type"] == "application/pdf"
    assert tickets.content.startswith(b"%PDF")
    invoice = await api.client.get(f"{booking_path}/invoice.pdf")
    assert invoice.content.startswith(b"%PDF")
    entry = await api.client.get(f"{booking_path}/event.ics")
    assert entry.headers["content-type"].startswith("text/calendar")
    assert "SUMMARY:Harbour Jazz Night" in entry.text

    cancelled = await api.client.post(
        f"{booking_path}/cancel", data={"csrf_token": form_token(mine), "reason": "Ill"}
    )
    assert cancelled.status_code == 303
    after = await api.client.get(booking_path)
    assert "Cancelled" in after.text
    assert after.text.count("<svg") == 0  # no QR code of a void ticket
    assert after.text.count("Void: this ticket admits nobody.") == 2
    assert "Cancel the booking" not in after.text
    [row] = await api.outbox("booking.cancelled")
    assert row.payload["cancelled_by"] == "attendee"

    other = await book(api, strict["slug"], {strict["ticket_types"][0]["id"]: 1})
    paid_strict = await pay(api, other.headers["location"], "4242424242424242")
    strict_page = await api.client.get(paid_strict.headers["location"])
    assert "does not accept cancellations by attendees" in strict_page.text
    refused = await api.client.post(
        f"{paid_strict.headers['location']}/cancel",
        data={"csrf_token": form_token(strict_page)},
    )
    assert refused.status_code == 409
    assert "does not accept cancellations by attendees" in refused.text


async def test_the_booking_form_sent_twice_holds_the_seats_once(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(quantity=10)])
    [ticket_type] = event["ticket_types"]
    await signed_in_browser(api)
    page = await api.client.get(f"/event/{event['slug']}")
    [form_key] = re.findall(r'name="form_key" value="([0-9a-f]{32})"', page.text)
    fields = {"csrf_token": form_token(page), "form_key": form_key, f"qty-{ticket_type['id']}": "2"}

    # A double click: both requests at once; then a retry after a timeout.
    first, second = await asyncio.gather(
        api.client.post(f"/event/{event['slug']}/book", data=fields),
        api.client.post(f"/event/{event['slug']}/book", data=fields),
    )
    retry = await api.client.post(f"/event/{event['slug']}/book", data=fields)
    locations = {r.headers["location"] for r in (first, second, retry)}
    assert len(locations) == 1, locations
    assert len(await api.outbox("booking.created")) == 1

    # The same form changed (another quantity) is another request: a second hold.
    changed = await api.client.post(
        f"/event/{event['slug']}/book", data=fields | {f"qty-{ticket_type['id']}": "1"}
    )
    assert changed.headers["location"] not in locations
    assert len(await api.outbox("booking.created")) == 2
