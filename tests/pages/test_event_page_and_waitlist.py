"""The event's page beyond the booking form, on both databases: the waitlist when tickets are
gone (join, see the place, take the offer at the checkout, leave), the calendar entry and the
events like it."""

from __future__ import annotations

import pytest

from api.users.models import Role
from tests.api.factories import Api
from tests.api.test_events import published_event, ticket_body
from tests.pages.test_account_and_storefront import form_token
from tests.pages.test_checkout import pay, signed_in_browser


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


async def join_waitlist(api: Api, slug: str, **fields: str) -> object:
    page = await api.client.get(f"/event/{slug}")
    return await api.client.post(
        f"/event/{slug}/waitlist", data={"csrf_token": form_token(page), **fields}
    )


async def test_a_sold_out_event_takes_a_waitlist_and_the_offer_is_paid_at_the_checkout(
    api: Api,
) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(quantity=2)])
    [ticket_type] = event["ticket_types"]
    early = await api.signed_in()
    taken = await api.client.post(
        "/bookings",
        headers=early.headers,
        json={
            "event_id": event["id"],
            "lines": [{"ticket_type_id": ticket_type["id"], "quantity": 2}],
        },
    )
    assert taken.status_code == 201, taken.text

    anonymous = await api.client.get(f"/event/{event['slug']}")
    assert "Sold out" in anonymous.text
    assert "Sign in to join the waitlist" in anonymous.text

    await signed_in_browser(api)
    joined = await join_waitlist(api, event["slug"], ticket_type_id=ticket_type["id"], quantity="1")
    assert joined.status_code == 303, getattr(joined, "text", "")
    page = await api.client.get(f"/event/{event['slug']}")
    assert "You are on the waitlist for General admission." in page.text
    assert "Join the waitlist" not in page.text  # one place per ticket type
    mine = await api.client.get("/my/bookings")
    assert "Number 1 in the queue." in mine.text

    # The early buyer lets the seats go: the first in the queue gets a hold in their name.
    released = await api.client.post(
        f"/bookings/{taken.json()['id']}/cancel", headers=early.headers, json={}
    )
    assert released.status_code == 200, released.text
    mine = await api.client.get("/my/bookings")
    assert "Seats came free and are held for you" in mine.text
    checkout_path = mine.text.split('<a class="button" href="', 1)[1].split('"', 1)[0]
    assert checkout_path.startswith("/checkout/")
    paid = await pay(api, checkout_path, "4242424242424242")
    assert paid.status_code == 303
    confirmed = await api.client.get(paid.headers["location"])
    assert "Your booking is confirmed." in confirmed.text
    [entry] = await api.outbox("waitlist.converted")
    assert entry.payload["status"] == "converted"
    assert "Waitlist" not in (await api.client.get("/my/bookings")).text


async def test_the_waitlist_refuses_what_the_api_refuses_and_can_be_left(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(
        api,
        owner,
        attendee_names_required=True,
        tickets=[ticket_body(quantity=1, price_cents=0), ticket_body(name="Balcony")],
    )
    free, balcony = event["ticket_types"]
    await signed_in_browser(api)
    taken = await api.client.get(f"/event/{event['slug']}")
    held = await api.client.post(
        f"/event/{event['slug']}/book",
        data={
            "csrf_token": form_token(taken),
            f"qty-{free['id']}": "1",
            f"names-{free['id']}": "Ada",
        },
    )
    assert held.status_code == 303, held.text

    available = await join_waitlist(
        api, event["slug"], ticket_type_id=balcony["id"], quantity="1", names="Ada"
    )
    assert available.status_code == 422
    assert "book them instead" in available.text
    nameless = await join_waitlist(api, event["slug"], ticket_type_id=free["id"], quantity="2")
    assert nameless.status_code == 422
    assert "name of every attendee" in nameless.text
    nonsense = await join_waitlist(api, event["slug"], ticket_type_id="nope", quantity="x")
    assert nonsense.status_code == 422
    assert (await api.outbox("waitlist.joined")) == []

    joined = await join_waitlist(
        api, event["slug"], ticket_type_id=free["id"], quantity="2", names="Ada\nGrace"
    )
    assert joined.status_code == 303
    mine = await api.client.get("/my/bookings")
    left = await api.client.post(
        f"/event/{event['slug']}/waitlist/leave",
        data={"csrf_token": form_token(mine), "ticket_type_id": free["id"], "back": "mine"},
    )
    assert (left.status_code, left.headers["location"]) == (303, "/my/bookings")
    assert [row.payload["status"] for row in await api.outbox("waitlist.left")] == ["left"]
    again = await api.client.post(
        f"/event/{event['slug']}/waitlist/leave",
        data={"csrf_token": form_token(mine), "ticket_type_id": free["id"]},
    )
    assert again.status_code == 404  # no longer waiting: as the API says


async def test_the_event_page_offers_a_calendar_entry_and_events_like_it(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    category = await api.client.post(
        "/categories", headers=(await api.signed_in(Role.admin)).headers, json={"name": "Jazz"}
    )
    assert category.status_code == 201, category.text
    jazz = category.json()["id"]
    event = await published_event(api, owner, category_id=jazz)
    like = await published_event(api, owner, category_id=jazz, title="Late Jazz Session")
    await api.sync_search_index()

    page = await api.client.get(f"/event/{event['slug']}")
    assert "Similar events" in page.text
    assert f'href="/event/{like["slug"]}"' in page.text
    calendar = await api.client.get(f"/event/{event['slug']}/calendar.ics")
    assert calendar.status_code == 200
    assert calendar.headers["content-type"].startswith("text/calendar")
    assert "SUMMARY:Harbour Jazz Night" in calendar.text
    url = f"URL:{api.settings.public_base_url}/event/{event['slug']}"
    assert url in calendar.text.replace("\r\n ", "")
