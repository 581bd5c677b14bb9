"""The organizer's back office, on both databases: their events with live sales and links to
their figures and door, and their team of door staff invited and removed from a page."""

from __future__ import annotations

import pytest

from api.users.models import Role
from tests.api.factories import Api, TestUser
from tests.api.test_events import create_event, published_event, ticket_body
from tests.pages.test_account_and_storefront import form_token, post_form


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute", "page_cache_seconds": 60}


async def browser_as(api: Api, role: Role, name: str) -> TestUser:
    api.client.cookies.clear()
    user = await api.signed_in(role, full_name=name)
    signed = await post_form(
        api, "/account/sign-in", {"email": user.email, "password": user.password}
    )
    assert signed.status_code == 303, signed.text
    return user


async def test_my_events_show_live_sales_and_link_to_figures_and_door(api: Api) -> None:
    owner = await browser_as(api, Role.organizer, "Olu Organizer")
    on_sale = await published_event(
        api, owner, title="Harbour Jazz Night", tickets=[ticket_body(quantity=50, price_cents=2500)]
    )
    draft = await create_event(api, owner, title="Winter Draft")
    buyer = await api.signed_in()
    booked = await api.client.post(
        "/bookings",
        headers=buyer.headers,
        json={
            "event_id": on_sale["id"],
            "lines": [{"ticket_type_id": on_sale["ticket_types"][0]["id"], "quantity": 2}],
        },
    )
    paid = await api.client.post(
        f"/bookings/{booked.json()['id']}/payments",
        headers=buyer.headers,
        json={"payment_method": "pm_card_visa"},
    )
    assert paid.status_code == 201, paid.text

    page = await api.client.get("/organizer/events")
    assert page.status_code == 200, page.text
    card = page.text[page.text.index("Harbour Jazz Night") :]
    assert f"<dd>2 / {on_sale['capacity']}</dd>" in card
    assert "2 seats · €50.00" in card
    assert f'href="http://127.0.0.1:8501/events?event={on_sale["id"]}"' in card
    assert f'href="/door/{on_sale["id"]}"' in card
    assert "Winter Draft" in page.text
    assert f'href="/door/{draft["id"]}"' not in page.text

    # The layout links organizers to the back office, even from a page signed-in attendees share.
    await browser_as(api, Role.attendee, "Ada Attendee")
    assert "/organizer/events" not in (await api.client.get("/")).text
    refused = await api.client.get("/organizer/events")
    assert refused.status_code == 403
    await browser_as(api, Role.organizer, "Other Organizer")
    assert 'href="/organizer/events"' in (await api.client.get("/")).text
    assert "Harbour Jazz Night" not in (await api.client.get("/organizer/events")).text


async def test_the_team_page_invites_and_removes_door_staff(api: Api) -> None:
    owner = await browser_as(api, Role.organizer, "Olu Organizer")
    event = await published_event(api, owner, title="Harbour Jazz Night")
    page = await api.client.get("/organizer/team")
    assert page.status_code == 200
    fields = {"csrf_token": form_token(page), "email": "sam@example.com", "scope": event["id"]}
    invited = await api.client.post("/organizer/team", data=fields)
    assert (invited.status_code, invited.headers["location"]) == (303, "/organizer/team")
    listed = await api.client.get("/organizer/team")
    assert "sam@example.com" in listed.text
    assert "Harbour Jazz Night" in listed.text

    twice = await api.client.post("/organizer/team", data=fields)
    assert twice.status_code == 409
    assert 'aria-invalid="true"' in twice.text
    assert "already works this door" in twice.text
    bad = await api.client.post("/organizer/team", data=fields | {"email": "not an address"})
    assert bad.status_code == 422
    assert "Give the email address" in bad.text

    [grant] = (await api.client.get("/staff-grants", headers=owner.headers)).json()
    gone = await api.client.post(
        f"/organizer/team/{grant['id']}/revoke", data={"csrf_token": form_token(listed)}
    )
    assert gone.status_code == 303
    assert "sam@example.com" not in (await api.client.get("/organizer/team")).text
