"""An event's attendees from a page, on both databases: found by name, email or booking
reference, downloaded as CSV, with the waitlist; for its organizer and its door staff only."""

from __future__ import annotations

import pytest

from api.users.models import Role
from tests.api.factories import Api
from tests.api.test_bookings import _book
from tests.api.test_door_staff import _grant
from tests.api.test_events import published_event, ticket_body
from tests.api.test_tickets import _free_event
from tests.pages.test_back_office import browser_as


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


async def test_attendees_are_found_downloaded_and_shown_to_staff_only(api: Api) -> None:
    owner = await browser_as(api, Role.organizer, "Olu Organizer")
    event = await _free_event(api, owner)
    bea = await api.signed_in(full_name="Bea Buyer")
    carl = await api.signed_in(full_name="Carl Client")
    first = (await _book(api, bea, event, (0, 2))).json()
    (await _book(api, carl, event, (0, 1))).json()
    path = f"/organizer/events/{event['id']}/attendees"

    everyone = await api.client.get(path)
    assert everyone.status_code == 200
    assert "2 bookings" in everyone.text
    assert "Bea Buyer" in everyone.text
    assert "Carl Client" in everyone.text
    found = await api.client.get(path, params={"q": "carl"})
    assert "Carl Client" in found.text
    assert "Bea Buyer" not in found.text
    reference = first["id"].replace("-", "")[:8].upper()
    by_reference = await api.client.get(path, params={"q": reference})
    assert "Bea Buyer" in by_reference.text
    assert "Carl Client" not in by_reference.text
    sheet = await api.client.get(f"{path}.csv", params={"q": "bea"})
    assert sheet.headers["content-type"].startswith("text/csv")
    assert sheet.text.count("Bea Buyer") == 2  # a row per seat
    assert "Carl Client" not in sheet.text
    api_found = await api.client.get(
        f"/events/{event['id']}/bookings", headers=owner.headers, params={"q": "CLIENT"}
    )
    assert api_found.json()["total"] == 1

    staff = await browser_as(api, Role.attendee, "Sam Door")
    assert (await api.client.get(path)).status_code == 403
    await _grant(api, owner, staff.email, event["id"])
    seen = await api.client.get(path)
    assert seen.status_code == 200
    assert "Carl Client" in seen.text
    await browser_as(api, Role.attendee, "Nosy Neighbour")
    assert (await api.client.get(path)).status_code == 403
    assert (await api.client.get(f"{path}.csv")).status_code == 403


async def test_the_organizer_sees_who_waits(api: Api) -> None:
    owner = await browser_as(api, Role.organizer, "Olu Organizer")
    event = await published_event(api, owner, tickets=[ticket_body(quantity=1)])
    [ticket_type] = event["ticket_types"]
    taken = await _book(api, await api.signed_in(full_name="Bea Buyer"), event, (0, 1))
    assert taken.status_code == 201, taken.text
    hopeful = await api.signed_in(full_name="Hope Waiting")
    joined = await api.client.post(
        f"/events/{event['id']}/waitlist",
        headers=hopeful.headers,
        json={"ticket_type_id": ticket_type["id"], "quantity": 1},
    )
    assert joined.status_code == 201, joined.text
    page = await api.client.get(f"/organizer/events/{event['id']}/attendees")
    waitlist = page.text[page.text.index('id="waiting-heading"') :]
    assert "Hope Waiting" in waitlist
    assert "Waiting" in waitlist
