"""Attendee names, the organizer's attendee list (JSON and CSV) and reminders."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from api.bookings import service
from api.bookings.models import Booking
from api.users.models import Role
from tests.api.factories import Api, TestUser
from tests.api.test_bookings import _book
from tests.api.test_events import published_event, ticket_body


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


async def _named(
    api: Api, user: TestUser, event: dict[str, Any], names: list[str] | None, quantity: int = 2
):  # type: ignore[no-untyped-def]
    line: dict[str, Any] = {"ticket_type_id": event["ticket_types"][0]["id"], "quantity": quantity}
    if names is not None:
        line["attendees"] = names
    return await api.client.post(
        "/bookings", headers=user.headers, json={"event_id": event["id"], "lines": [line]}
    )


async def test_names_are_required_when_the_organizer_asks(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(
        api, owner, tickets=[ticket_body(price_cents=0)], attendee_names_required=True
    )
    assert event["attendee_names_required"] is True
    buyer = await api.signed_in()
    missing = await _named(api, buyer, event, None)
    assert (missing.status_code, missing.json()["code"], missing.json()["field"]) == (
        422,
        "booking.attendee_names",
        "lines.0.attendees",
    )
    short = await _named(api, buyer, event, ["Ada Lovelace"])
    assert (short.status_code, short.json()["field"]) == (422, "lines.0.attendees")
    blank = await _named(api, buyer, event, ["Ada Lovelace", "  "])
    assert blank.status_code == 422
    booked = await _named(api, buyer, event, [" Ada Lovelace ", "Grace Hopper"])
    assert booked.status_code == 201, booked.text
    assert booked.json()["lines"][0]["attendee_names"] == ["Ada Lovelace", "Grace Hopper"]
    tickets = await api.client.get(
        f"/bookings/{booked.json()['id']}/tickets", headers=buyer.headers
    )
    assert sorted(t["attendee_name"] for t in tickets.json()) == ["Ada Lovelace", "Grace Hopper"]
    [created] = await api.outbox("booking.created")
    assert created.payload["lines"][0]["attendee_names"] == ["Ada Lovelace", "Grace Hopper"]


async def test_the_waitlist_asks_for_names_too(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(
        api, owner, tickets=[ticket_body(quantity=1)], attendee_names_required=True
    )
    await _named(api, await api.signed_in(), event, ["Someone"], quantity=1)
    path = f"/events/{event['id']}/waitlist"
    body = {"ticket_type_id": event["ticket_types"][0]["id"], "quantity": 1}
    fan = await api.signed_in()
    refused = await api.client.post(path, headers=fan.headers, json=body)
    assert (refused.status_code, refused.json()["field"]) == (422, "attendees")
    joined = await api.client.post(path, headers=fan.headers, json={**body, "attendees": ["Fan"]})
    assert joined.status_code == 201, joined.text


async def test_the_organizer_lists_attendees_seat_by_seat(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(
        api,
        owner,
        tickets=[
            ticket_body(name="Free", price_cents=0, quantity=10),
            ticket_body(name="Paid", quantity=10),
        ],
    )
    ada = await api.signed_in()
    free = await _book(api, ada, event, (0, 2))
    held = await _book(api, await api.signed_in(), event, (1, 1))
    path = f"/events/{event['id']}/bookings"
    listed = await api.client.get(path, headers=owner.headers)
    assert listed.status_code == 200, listed.text
    rows = listed.json()["items"]
    assert listed.json()["total"] == 2
    assert [(r["ticket_type"], r["booking_status"]) for r in rows] == [
        ("Free", "confirmed"),
        ("Free", "confirmed"),
        ("Paid", "pending"),
    ]
    assert rows[0]["buyer_email"] == ada.email
    assert rows[0]["booking_id"] == free.json()["id"]
    assert all(r["ticket_code"] for r in rows[:2])
    assert rows[2]["ticket_code"] is None  # no ticket until it is paid
    only_held = await api.client.get(path, headers=owner.headers, params={"status": "pending"})
    assert [r["booking_id"] for r in only_held.json()["items"]] == [held.json()["id"]]
    other = await api.signed_in(Role.organizer)
    assert (await api.client.get(path, headers=other.headers)).status_code == 403
    assert (await api.client.get(path, headers=ada.headers)).status_code == 403


async def test_the_attendee_csv_is_safe_to_open_in_a_spreadsheet(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(price_cents=0)])
    buyer = await api.signed_in()
    formula = '=HYPERLINK("http://evil.example","click")'
    await _named(api, buyer, event, [formula, "Grace Hopper"])
    response = await api.client.get(
        f"/events/{event['id']}/bookings", headers=owner.headers, params={"format": "csv"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert sorted(r["attendee_name"] for r in rows) == ["'" + formula, "Grace Hopper"]
    assert {r["buyer_email"] for r in rows} == {buyer.email}


async def _age(api: Api, booking_id: str, *, confirmed: datetime) -> None:
    async with api.app.state.sessionmaker() as session:
        await session.execute(
            update(Booking)
            .where(Booking.id == uuid.UUID(booking_id))
            .values(confirmed_at=confirmed)
        )
        await session.commit()


async def _announce(api: Api, now: datetime) -> int:
    async with api.app.state.sessionmaker() as session:
        count = await service.announce_reminders(session, now=now)
        await session.commit()
        return count


async def test_reminders_are_announced_once_at_24_and_1_hours(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    event = await published_event(
        api,
        owner,
        tickets=[ticket_body(price_cents=0)],
        starts_at=starts.isoformat(),
        ends_at=(starts + timedelta(hours=2)).isoformat(),
    )
    early = (await _book(api, await api.signed_in(), event, (0, 1))).json()
    late = (await _book(api, await api.signed_in(), event, (0, 1))).json()
    await _age(api, early["id"], confirmed=starts - timedelta(days=3))
    await _age(api, late["id"], confirmed=starts - timedelta(hours=2))  # booked after 24 h mark

    assert await _announce(api, starts - timedelta(hours=25)) == 0
    assert await _announce(api, starts - timedelta(hours=23)) == 1
    assert await _announce(api, starts - timedelta(hours=22)) == 0  # once only
    assert await _announce(api, starts - timedelta(minutes=30)) == 2  # both get the 1 h one
    assert await _announce(api, starts - timedelta(minutes=10)) == 0
    due = await api.outbox("booking.reminder_due")
    assert [(r.payload["booking_id"], r.payload["kind"]) for r in due] == [
        (early["id"], "24h"),
        *sorted([(early["id"], "1h"), (late["id"], "1h")], key=lambda pair: pair[0]),
    ]
