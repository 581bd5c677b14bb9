"""Bookings: holds, all-or-nothing, limits, expiry, visibility and no overselling."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from api.bookings.models import Booking, BookingStatus
from api.events.models import TicketType
from api.users.models import Role
from tests.api.factories import Api, TestUser
from tests.api.test_events import create_event, published_event, ticket_body


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}  # dozens of buyers sign in from one test client


async def _book(
    api: Api, user: TestUser, event: dict[str, Any], *lines: tuple[int, int], **kw: Any
):  # type: ignore[no-untyped-def]
    body = {
        "event_id": event["id"],
        "lines": [
            {"ticket_type_id": event["ticket_types"][index]["id"], "quantity": quantity}
            for index, quantity in lines
        ],
    }
    return await api.client.post("/bookings", headers={**user.headers, **kw}, json=body)


async def _reserved(api: Api) -> dict[str, int]:
    async with api.app.state.sessionmaker() as session:
        rows = await session.execute(select(TicketType.name, TicketType.reserved))
        return {row[0]: row[1] for row in rows.all()}


async def _free_and_paid(api: Api, owner: TestUser, *, quantity: int) -> dict[str, Any]:
    """An on-sale event with a free and a paid ticket type of `quantity` seats each."""
    return await published_event(
        api,
        owner,
        tickets=[
            ticket_body(name="Free", price_cents=0, quantity=quantity),
            ticket_body(name="Paid", quantity=quantity),
        ],
    )


async def test_free_booking_confirms_and_paid_booking_is_held(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _free_and_paid(api, owner, quantity=10)
    buyer = await api.signed_in()
    free = await _book(api, buyer, event, (0, 2))
    assert free.status_code == 201, free.text
    assert (free.json()["status"], free.json()["total_cents"], free.json()["expires_at"]) == (
        "confirmed",
        0,
        None,
    )
    paid = await _book(api, buyer, event, (1, 3))
    body = paid.json()
    assert (body["status"], body["total_cents"], body["seats"]) == ("pending", 7500, 3)
    held_for = datetime.fromisoformat(body["expires_at"]) - datetime.fromisoformat(
        body["created_at"]
    )
    assert held_for == timedelta(minutes=15)
    assert await _reserved(api) == {"Free": 2, "Paid": 3}
    assert [r.payload["status"] for r in await api.outbox("booking.created")] == [
        "confirmed",
        "pending",
    ]
    assert len(await api.outbox("booking.confirmed")) == 1


async def test_all_or_nothing(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(
        api, owner, tickets=[ticket_body(name="A", quantity=5), ticket_body(name="B", quantity=2)]
    )
    buyer = await api.signed_in()
    refused = await _book(api, buyer, event, (0, 4), (1, 3))
    assert refused.status_code in (409, 422)
    assert refused.json()["code"] in ("booking.sold_out", "booking.order_limit")
    refused = await _book(api, buyer, event, (0, 4), (1, 2))
    assert refused.status_code == 201
    too_many = await _book(api, buyer, event, (0, 1), (1, 1))
    assert too_many.status_code == 409
    assert too_many.json()["code"] == "booking.sold_out"
    assert too_many.json()["field"] == "lines.1.quantity"
    assert await _reserved(api) == {"A": 4, "B": 2}  # the refused line 0 seat was given back


async def test_limits_windows_and_state_are_checked(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    event = await published_event(
        api,
        owner,
        tickets=[
            ticket_body(name="Std", min_per_order=2, max_per_order=4),
            ticket_body(name="Late", quantity=10, sales_start=later),
        ],
    )
    buyer = await api.signed_in()
    for lines, status, code in (
        (((0, 1),), 422, "booking.order_limit"),
        (((0, 5),), 422, "booking.order_limit"),
        (((1, 1),), 409, "booking.not_on_sale"),
    ):
        response = await _book(api, buyer, event, *lines)
        assert (response.status_code, response.json()["code"]) == (status, code)
    unknown = await api.client.post(
        "/bookings",
        headers=buyer.headers,
        json={
            "event_id": event["id"],
            "lines": [{"ticket_type_id": "00000000-0000-0000-0000-000000000000", "quantity": 1}],
        },
    )
    assert unknown.json()["code"] == "booking.unknown_ticket_type"
    draft = await create_event(api, owner, title="Not yet")
    hidden = await api.client.post(
        "/bookings",
        headers=buyer.headers,
        json={
            "event_id": draft["id"],
            "lines": [{"ticket_type_id": event["ticket_types"][0]["id"], "quantity": 2}],
        },
    )
    assert hidden.status_code == 404
    assert await _reserved(api) == {"Std": 0, "Late": 0}


async def test_expired_holds_free_their_seats_without_a_sweeper(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(quantity=2)])
    first, second = await api.signed_in(), await api.signed_in()
    held = (await _book(api, first, event, (0, 2))).json()
    assert (await _book(api, second, event, (0, 1))).status_code == 409
    async with api.app.state.sessionmaker() as session:
        await session.execute(
            update(Booking).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()
    # The lapsed hold already reads as expired, before anything has cleaned it up ...
    shown = await api.client.get(f"/bookings/{held['id']}", headers=first.headers)
    assert shown.json()["status"] == "expired"
    # ... and its seats go to the next buyer.
    assert (await _book(api, second, event, (0, 2))).status_code == 201
    assert len(await api.outbox("booking.expired")) == 1
    assert await _reserved(api) == {"General admission": 2}


async def test_who_sees_a_booking(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner)
    buyer, stranger = await api.signed_in(), await api.signed_in()
    other_organizer = await api.signed_in(Role.organizer)
    admin = await api.signed_in(Role.admin)
    booking = (await _book(api, buyer, event, (0, 1))).json()
    path = f"/bookings/{booking['id']}"
    for user, status in (
        (buyer, 200),
        (owner, 200),
        (admin, 200),
        (stranger, 404),
        (other_organizer, 404),
    ):
        assert (await api.client.get(path, headers=user.headers)).status_code == status
    mine = (await api.client.get("/users/me/bookings", headers=buyer.headers)).json()
    assert [b["id"] for b in mine["items"]] == [booking["id"]]
    assert (await api.client.get("/users/me/bookings", headers=stranger.headers)).json()[
        "total"
    ] == 0


async def test_a_retried_booking_is_made_once(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner)
    buyer = await api.signed_in()
    first = await _book(api, buyer, event, (0, 2), **{"Idempotency-Key": "book-once-0001"})
    again = await _book(api, buyer, event, (0, 2), **{"Idempotency-Key": "book-once-0001"})
    assert first.json() == again.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert await _reserved(api) == {"General admission": 2}


async def test_quantity_cannot_drop_below_what_is_held(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(quantity=10)])
    await _book(api, await api.signed_in(), event, (0, 4))
    path = f"/events/{event['id']}/ticket-types/{event['ticket_types'][0]['id']}"
    low = await api.client.put(path, headers=owner.headers, json={"quantity": 3})
    assert low.status_code == 409
    assert low.json()["code"] == "ticket_type.below_reserved"
    assert (
        await api.client.put(path, headers=owner.headers, json={"quantity": 4})
    ).status_code == 200
    assert (await api.client.delete(path, headers=owner.headers)).status_code == 409


async def test_many_concurrent_buyers_never_oversell(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(
        api, owner, tickets=[ticket_body(name="A", quantity=15), ticket_body(name="B", quantity=10)]
    )
    buyers = [await api.signed_in() for _ in range(30)]
    wants = [((i % 2, 1 + i % 3),) if i % 5 else ((0, 1), (1, 1)) for i in range(30)]
    responses = await asyncio.gather(
        *(_book(api, b, event, *w) for b, w in zip(buyers, wants, strict=True))
    )
    codes = [r.status_code for r in responses]
    assert set(codes) <= {201, 409}, [r.text for r in responses if r.status_code not in (201, 409)]
    refused = [r.json()["code"] for r in responses if r.status_code == 409]
    assert set(refused) <= {"booking.sold_out"}
    reserved = await _reserved(api)
    assert reserved["A"] <= 15
    assert reserved["B"] <= 10
    async with api.app.state.sessionmaker() as session:
        held = await session.scalar(
            select(func.sum(Booking.seats)).where(Booking.status == BookingStatus.pending)
        )
    assert held == reserved["A"] + reserved["B"]  # every seat is accounted for
    assert sum(r.json()["seats"] for r in responses if r.status_code == 201) == held
    assert 409 in codes  # demand exceeded supply


async def test_attendee_cancels_within_policy_and_seats_return(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(quantity=3)])
    buyer = await api.signed_in()
    booking = (await _book(api, buyer, event, (0, 3))).json()
    path = f"/bookings/{booking['id']}/cancel"
    stranger = await api.signed_in()
    assert (await api.client.post(path, headers=stranger.headers)).status_code == 404
    cancelled = await api.client.post(path, headers=buyer.headers, json={"reason": "cannot come"})
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    again = await api.client.post(path, headers=buyer.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "booking.not_cancellable"
    assert await _reserved(api) == {"General admission": 0}
    [row] = await api.outbox("booking.cancelled")
    assert row.actor_id == buyer.id
    assert (await _book(api, stranger, event, (0, 3))).status_code == 201


async def test_cancellation_policy_binds_attendees_not_organizers(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, attendee_cancellation_hours=None)
    buyer = await api.signed_in()
    booking = (await _book(api, buyer, event, (0, 1))).json()
    path = f"/bookings/{booking['id']}/cancel"
    closed = await api.client.post(path, headers=buyer.headers)
    assert closed.status_code == 409
    assert closed.json()["code"] == "booking.cancellation_closed"
    assert (await api.client.post(path, headers=owner.headers)).status_code == 200

    late = await published_event(api, owner, title="Soon", attendee_cancellation_hours=24 * 60)
    booking = (await _book(api, buyer, late, (0, 1))).json()
    refused = await api.client.post(f"/bookings/{booking['id']}/cancel", headers=buyer.headers)
    assert refused.json()["code"] == "booking.cancellation_closed"


async def test_cancelling_an_event_cancels_its_bookings(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _free_and_paid(api, owner, quantity=5)
    bookings = [
        (await _book(api, await api.signed_in(), event, (0, 1))).json(),
        (await _book(api, await api.signed_in(), event, (1, 2))).json(),
    ]
    response = await api.client.post(
        f"/events/{event['id']}/cancel", headers=owner.headers, json={"reason": "Flooded venue"}
    )
    assert response.status_code == 200
    assert len(await api.outbox("booking.cancelled")) == 2
    async with api.app.state.sessionmaker() as session:
        statuses = set(await session.scalars(select(Booking.status)))
    assert statuses == {BookingStatus.cancelled}
    assert await _reserved(api) == {"Free": 0, "Paid": 0}
    assert [b["status"] for b in bookings] == ["confirmed", "pending"]


async def test_organizer_listing_shows_sales(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _free_and_paid(api, owner, quantity=5)
    await _book(api, await api.signed_in(), event, (0, 2))
    await _book(api, await api.signed_in(), event, (1, 3))
    mine = (await api.client.get("/events/organizer", headers=owner.headers)).json()
    assert mine["items"][0]["sales"] == {
        "confirmed_seats": 2,
        "held_seats": 3,
        "confirmed_cents": 0,
    }
    public = (await api.client.get("/events")).json()
    assert public["items"][0]["sales"] is None


@pytest.mark.parametrize("settings_overrides", [{"database_lock_timeout_ms": 300}])
async def test_a_lock_held_too_long_answers_503_and_holds_nothing(
    api: Api, backend: str, settings_overrides: dict[str, object]
) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(quantity=5)])
    buyer = await api.signed_in()
    ticket_type_id = uuid.UUID(event["ticket_types"][0]["id"])
    async with api.app.state.sessionmaker() as blocker:
        # Another transaction holds the ticket type's row (PostgreSQL) or, on SQLite, the
        # database's write lock, longer than a request will wait.
        await blocker.execute(
            update(TicketType)
            .where(TicketType.id == ticket_type_id)
            .values(sort_order=TicketType.sort_order)
        )
        refused = await _book(api, buyer, event, (0, 1))
        await blocker.rollback()
    assert refused.status_code == 503, refused.text
    assert (refused.json()["code"], refused.headers["retry-after"]) == ("database.busy", "1")
    assert await _reserved(api) == {"General admission": 0}
    async with api.app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Booking)) == 0
    assert (await _book(api, buyer, event, (0, 1))).status_code == 201  # and then it works
