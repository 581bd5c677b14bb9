"""Door staff, on both databases: an organizer grants an address the door of one event or of
all their events; staff check tickets in and read those events' attendees, and nothing else."""

from __future__ import annotations

import pytest

from api.users.models import Role
from tests.api.factories import Api, TestUser
from tests.api.test_bookings import _book
from tests.api.test_tickets import _free_event


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


async def _grant(api: Api, owner: TestUser, email: str, event_id: str | None) -> dict:  # type: ignore[type-arg]
    response = await api.client.post(
        "/staff-grants", headers=owner.headers, json={"email": email, "event_id": event_id}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _tickets(api: Api, event: dict, count: int) -> list[dict]:  # type: ignore[type-arg]
    buyer = await api.signed_in(full_name="Bea Buyer")
    booking = (await _book(api, buyer, event, (0, count))).json()
    found = await api.client.get(f"/bookings/{booking['id']}/tickets", headers=buyer.headers)
    return list(found.json())


async def test_staff_of_one_event_check_in_and_read_its_attendees_and_nothing_else(
    api: Api,
) -> None:
    owner = await api.signed_in(Role.organizer, full_name="Olu Organizer")
    event = await _free_event(api, owner)
    other = await _free_event(api, owner, title="Other night")
    staff = await api.signed_in(full_name="Sam Door", email="Sam.Door@example.com")
    door = f"/events/{event['id']}/check-ins"
    [ticket] = await _tickets(api, event, 1)
    [elsewhere] = await _tickets(api, other, 1)

    refused = await api.client.post(
        door, headers=staff.headers, json={"payload": ticket["qr_payload"]}
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "event.not_staff")

    grant = await _grant(api, owner, " sam.door@EXAMPLE.com ", event["id"])
    assert grant["email"] == "sam.door@example.com"
    admitted = await api.client.post(
        door, headers=staff.headers, json={"payload": ticket["qr_payload"]}
    )
    assert admitted.status_code == 200, admitted.text
    body = admitted.json()
    assert body["already_checked_in"] is False
    assert (body["holder_name"], body["ticket_type_name"]) == ("Bea Buyer", "General admission")
    again = await api.client.post(
        door, headers=owner.headers, json={"payload": ticket["qr_payload"]}
    )
    assert again.json()["already_checked_in"] is True
    assert again.json()["first_checked_in_by"] == "Sam Door"

    listed = await api.client.get(f"/events/{event['id']}/bookings", headers=staff.headers)
    assert listed.status_code == 200
    assert listed.json()["total"] == 1
    sheet = await api.client.get(
        f"/events/{event['id']}/bookings", headers=staff.headers, params={"format": "csv"}
    )
    assert sheet.status_code == 200
    assert "Bea Buyer" in sheet.text
    mine = await api.client.get("/users/me/door-events", headers=staff.headers)
    assert [e["id"] for e in mine.json()] == [event["id"]]

    # Nothing else: not the organizer's other event, not changing this one, not the team.
    not_here = [
        ("POST", f"/events/{other['id']}/check-ins", {"payload": elsewhere["qr_payload"]}),
        ("GET", f"/events/{other['id']}/bookings", None),
        ("PUT", f"/events/{event['id']}", {"title": "Mine now"}),
        ("POST", f"/events/{event['id']}/cancel", {"reason": "No"}),
        ("POST", "/staff-grants", {"email": "friend@example.com", "event_id": event["id"]}),
        ("GET", "/staff-grants", None),
    ]
    for method, path, json in not_here:
        answer = await api.client.request(method, path, headers=staff.headers, json=json)
        assert answer.status_code == 403, (method, path, answer.text)

    # Revoked: the next scan is refused.
    gone = await api.client.delete(f"/staff-grants/{grant['id']}", headers=owner.headers)
    assert gone.status_code == 204
    after = await api.client.post(
        door, headers=staff.headers, json={"payload": ticket["qr_payload"]}
    )
    assert (after.status_code, after.json()["code"]) == (403, "event.not_staff")
    assert [r.payload["email"] for r in await api.outbox("staff_grant.created")] == [
        "sam.door@example.com"
    ]
    assert len(await api.outbox("staff_grant.revoked")) == 1


async def test_a_grant_for_all_events_covers_later_ones_but_no_other_organizers(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    staff = await api.signed_in(full_name="Sam Door")
    await _grant(api, owner, staff.email, None)
    later = await _free_event(api, owner, title="Added after the grant")
    [ticket] = await _tickets(api, later, 1)
    admitted = await api.client.post(
        f"/events/{later['id']}/check-ins",
        headers=staff.headers,
        json={"payload": ticket["qr_payload"]},
    )
    assert admitted.status_code == 200, admitted.text

    rival = await api.signed_in(Role.organizer)
    theirs = await _free_event(api, rival, title="Someone else's night")
    [their_ticket] = await _tickets(api, theirs, 1)
    refused = await api.client.post(
        f"/events/{theirs['id']}/check-ins",
        headers=staff.headers,
        json={"payload": their_ticket["qr_payload"]},
    )
    assert refused.status_code == 403

    # An address not yet verified works no door.
    unverified = await api.login(await api.make_user(verified=False))
    await _grant(api, owner, unverified.email, None)
    [another] = await _tickets(api, later, 1)
    waiting = await api.client.post(
        f"/events/{later['id']}/check-ins",
        headers=unverified.headers,
        json={"payload": another["qr_payload"]},
    )
    assert waiting.status_code == 403


async def test_grants_are_the_organizers_own(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _free_event(api, owner)
    rival = await api.signed_in(Role.organizer)
    theirs = await api.client.post(
        "/staff-grants",
        headers=rival.headers,
        json={"email": "x@example.com", "event_id": event["id"]},
    )
    assert (theirs.status_code, theirs.json()["code"]) == (403, "event.not_owner")
    grant = await _grant(api, owner, "door@example.com", event["id"])
    twice = await api.client.post(
        "/staff-grants",
        headers=owner.headers,
        json={"email": "door@example.com", "event_id": event["id"]},
    )
    assert (twice.status_code, twice.json()["code"], twice.json()["field"]) == (
        409,
        "staff_grant.exists",
        "email",
    )
    bad = await api.client.post(
        "/staff-grants", headers=owner.headers, json={"email": "not an address"}
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    not_theirs = await api.client.delete(f"/staff-grants/{grant['id']}", headers=rival.headers)
    assert not_theirs.status_code == 404
    listed = await api.client.get("/staff-grants", headers=owner.headers)
    assert [g["id"] for g in listed.json()] == [grant["id"]]
    assert (await api.client.get("/staff-grants", headers=rival.headers)).json() == []


async def test_the_invited_address_is_told_by_email_with_or_without_an_account(api: Api) -> None:
    owner = await api.signed_in(Role.organizer, full_name="Olu Organizer")
    event = await _free_event(api, owner, title="Harbour Jazz Night")
    member = await api.make_user(full_name="Sam Door")
    await _grant(api, owner, member.email, event["id"])
    await _grant(api, owner, "new.helper@example.com", None)
    await api.deliver_notifications()
    await api.deliver_notifications()  # planned once: nobody is told twice

    [to_member] = api.mails(member.email)
    assert to_member["Subject"] == "Olu Organizer asks you to check tickets at the door"
    body = to_member.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Hello Sam Door" in body
    assert '"Harbour Jazz Night"' in body
    assert f"{api.settings.public_base_url}/door" in body
    [to_newcomer] = api.mails("new.helper@example.com")
    text = to_newcomer.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "all of their events" in text
    assert "/account/sign-up" in text
