"""The waitlist: joining, first-come offers as holds, lapses passing on, leaving, accepting."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from api.bookings import waitlist
from api.bookings.models import Booking, BookingStatus, WaitlistEntry, WaitlistStatus
from api.events.models import TicketType
from api.users.models import Role
from tests.api.factories import Api, TestUser
from tests.api.test_bookings import _book, _reserved
from tests.api.test_events import published_event, ticket_body


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


async def _join(
    api: Api, user: TestUser, event: dict[str, Any], quantity: int = 1, index: int = 0, **extra: Any
):  # type: ignore[no-untyped-def]
    body = {"ticket_type_id": event["ticket_types"][index]["id"], "quantity": quantity, **extra}
    return await api.client.post(f"/events/{event['id']}/waitlist", headers=user.headers, json=body)


async def _cancel(api: Api, user: TestUser, booking_id: str) -> None:
    response = await api.client.post(f"/bookings/{booking_id}/cancel", headers=user.headers)
    assert response.status_code == 200, response.text


async def _entries(api: Api, user: TestUser, event: dict[str, Any]) -> list[dict[str, Any]]:
    response = await api.client.get(f"/events/{event['id']}/waitlist", headers=user.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def _lapse(api: Api, booking_id: str) -> None:
    """Let a hold run out, and let the periodic clean-up notice."""
    async with api.app.state.sessionmaker() as session:
        await session.execute(
            update(Booking)
            .where(Booking.id == uuid.UUID(booking_id))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await waitlist.release_expired(session, now=datetime.now(UTC))
        await session.commit()


async def _sold_out(api: Api, seats: int = 2, price_cents: int = 2500, **event: Any):  # type: ignore[no-untyped-def]
    owner = await api.signed_in(Role.organizer)
    sold = await published_event(
        api, owner, tickets=[ticket_body(quantity=seats, price_cents=price_cents)], **event
    )
    buyer = await api.signed_in()
    booking = await _book(api, buyer, sold, (0, seats))
    assert booking.status_code == 201, booking.text
    return owner, sold, buyer, booking.json()


async def test_join_only_when_sold_out_and_once(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(quantity=2)])
    fan = await api.signed_in()
    early = await _join(api, fan, event)
    assert (early.status_code, early.json()["code"]) == (409, "waitlist.seats_available")
    await _book(api, await api.signed_in(), event, (0, 2))
    joined = await _join(api, fan, event, quantity=2)
    assert joined.status_code == 201, joined.text
    assert (joined.json()["status"], joined.json()["position"]) == ("waiting", 1)
    second = await _join(api, await api.signed_in(), event)
    assert second.json()["position"] == 2
    again = await _join(api, fan, event)
    assert (again.status_code, again.json()["code"]) == (409, "waitlist.already_joined")
    too_many = await _join(api, await api.signed_in(), event, quantity=11)
    assert (too_many.status_code, too_many.json()["field"]) == (422, "quantity")
    assert len(await api.outbox("waitlist.joined")) == 2


async def test_freed_seats_are_offered_first_come_as_a_hold(api: Api) -> None:
    owner, event, buyer, booking = await _sold_out(api, seats=2)
    first, second = await api.signed_in(), await api.signed_in()
    assert (await _join(api, first, event)).status_code == 201
    assert (await _join(api, second, event)).status_code == 201
    await _cancel(api, buyer, booking["id"])
    [mine] = await _entries(api, first, event)
    assert mine["status"] == "offered"
    offered = datetime.fromisoformat(mine["offer_expires_at"]) - datetime.fromisoformat(
        mine["offered_at"]
    )
    assert offered == timedelta(hours=24)
    hold = (await api.client.get(f"/bookings/{mine['booking_id']}", headers=first.headers)).json()
    assert (hold["status"], hold["seats"], hold["user_id"]) == ("pending", 1, str(first.id))
    # The second seat went to the second person; nothing is left for the public.
    assert [e["status"] for e in await _entries(api, owner, event)] == ["offered", "offered"]
    late = await _book(api, await api.signed_in(), event, (0, 1))
    assert (late.status_code, late.json()["code"]) == (409, "booking.sold_out")
    [offer, _] = await api.outbox("waitlist.offered")
    assert offer.payload["user_id"] == str(first.id)
    assert await _reserved(api) == {"General admission": 2}


async def test_a_lapsed_offer_passes_to_the_next_person(api: Api) -> None:
    _, event, buyer, booking = await _sold_out(api, seats=1)
    first, second = await api.signed_in(), await api.signed_in()
    await _join(api, first, event)
    await _join(api, second, event)
    await _cancel(api, buyer, booking["id"])
    [offer] = await _entries(api, first, event)
    await _lapse(api, offer["booking_id"])
    assert (await _entries(api, first, event))[0]["status"] == "lapsed"
    [theirs] = await _entries(api, second, event)
    assert theirs["status"] == "offered"
    assert len(await api.outbox("waitlist.lapsed")) == 1
    assert await _reserved(api) == {"General admission": 1}


async def test_a_group_that_does_not_fit_keeps_its_place(api: Api) -> None:
    owner, event, buyer, booking = await _sold_out(api, seats=2)
    group, single = await api.signed_in(), await api.signed_in()
    await _join(api, group, event, quantity=3)
    await _join(api, single, event, quantity=1)
    await _cancel(api, buyer, booking["id"])  # two seats free: too few for the group of three
    statuses = {
        e["user_id"]: (e["status"], e["position"]) for e in await _entries(api, owner, event)
    }
    assert statuses == {str(group.id): ("waiting", 1), str(single.id): ("offered", None)}
    # More seats from the organizer: the group gets them once they fit.
    grown = await api.client.put(
        f"/events/{event['id']}/ticket-types/{event['ticket_types'][0]['id']}",
        headers=owner.headers,
        json={"quantity": 4},
    )
    assert grown.status_code == 200, grown.text
    [entry] = await _entries(api, group, event)
    assert entry["status"] == "offered"
    assert await _reserved(api) == {"General admission": 4}


async def test_leaving_releases_an_offer_to_the_next(api: Api) -> None:
    _, event, buyer, booking = await _sold_out(api, seats=1)
    first, second = await api.signed_in(), await api.signed_in()
    await _join(api, first, event)
    await _join(api, second, event)
    path = f"/events/{event['id']}/waitlist"
    nobody = await api.client.delete(path, headers=(await api.signed_in()).headers)
    assert (nobody.status_code, nobody.json()["code"]) == (404, "waitlist.not_found")
    await _cancel(api, buyer, booking["id"])
    assert (await api.client.delete(path, headers=first.headers)).status_code == 204
    [left] = await _entries(api, first, event)
    assert left["status"] == "left"
    hold = await api.client.get(f"/bookings/{left['booking_id']}", headers=first.headers)
    assert hold.json()["status"] == "cancelled"
    assert (await _entries(api, second, event))[0]["status"] == "offered"


async def test_a_free_offer_is_accepted_and_a_paid_one_needs_payment(api: Api) -> None:
    _, event, buyer, booking = await _sold_out(api, seats=1, price_cents=0)
    fan = await api.signed_in()
    await _join(api, fan, event)
    await _cancel(api, buyer, booking["id"])
    [offer] = await _entries(api, fan, event)
    path = f"/bookings/{offer['booking_id']}/confirm"
    assert (await api.client.post(path, headers=buyer.headers)).status_code == 404
    accepted = await api.client.post(path, headers=fan.headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "confirmed"
    tickets = await api.client.get(f"/bookings/{offer['booking_id']}/tickets", headers=fan.headers)
    assert len(tickets.json()) == 1
    assert (await _entries(api, fan, event))[0]["status"] == "converted"
    again = await api.client.post(path, headers=fan.headers)
    assert (again.status_code, again.json()["code"]) == (409, "booking.not_confirmable")

    _, paid_event, paid_buyer, paid_booking = await _sold_out(api, seats=1)
    await _join(api, fan, paid_event)
    await _cancel(api, paid_buyer, paid_booking["id"])
    [paid_offer] = await _entries(api, fan, paid_event)
    refused = await api.client.post(
        f"/bookings/{paid_offer['booking_id']}/confirm", headers=fan.headers
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "booking.payment_required")


async def test_the_organizer_sees_everyone_and_attendees_see_themselves(api: Api) -> None:
    owner, event, _, _ = await _sold_out(api, seats=1)
    fans = [await api.signed_in() for _ in range(3)]
    for fan in fans:
        await _join(api, fan, event)
    everyone = await _entries(api, owner, event)
    assert [e["user_id"] for e in everyone] == [str(f.id) for f in fans]
    assert [e["position"] for e in everyone] == [1, 2, 3]
    [own] = await _entries(api, fans[2], event)
    assert (own["user_id"], own["position"]) == (str(fans[2].id), 3)
    anonymous = await api.client.get(f"/events/{event['id']}/waitlist")
    assert anonymous.status_code == 401


async def test_a_cancelled_event_closes_its_waitlist(api: Api) -> None:
    owner, event, _, _ = await _sold_out(api, seats=1)
    fan = await api.signed_in()
    await _join(api, fan, event)
    cancelled = await api.client.post(
        f"/events/{event['id']}/cancel", headers=owner.headers, json={"reason": "Storm warning"}
    )
    assert cancelled.status_code == 200, cancelled.text
    [entry] = await _entries(api, fan, event)
    assert entry["status"] == "closed"
    assert await _reserved(api) == {"General admission": 0}
    refused = await _join(api, await api.signed_in(), event)
    assert (refused.status_code, refused.json()["code"]) == (409, "waitlist.closed")


async def test_concurrent_buyers_cancellations_and_waitlist_account_for_every_seat(
    api: Api,
) -> None:
    """Buyers, cancellations, people joining and leaving the waitlist, all at once on one
    ticket type: it never oversells, every held seat belongs to a live booking, and no seat
    stays free while someone it fits is waiting."""
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(quantity=8)])
    holders = [await api.signed_in() for _ in range(8)]
    bookings = [(await _book(api, h, event, (0, 1))).json() for h in holders]
    waiters = [await api.signed_in() for _ in range(6)]
    for index, waiter in enumerate(waiters):
        assert (await _join(api, waiter, event, quantity=1 + index % 2)).status_code == 201
    buyers = [await api.signed_in() for _ in range(8)]
    joiners = [await api.signed_in() for _ in range(4)]
    path = f"/events/{event['id']}/waitlist"
    requests = [
        *(
            api.client.post(f"/bookings/{b['id']}/cancel", headers=h.headers)
            for h, b in zip(holders[:5], bookings[:5], strict=True)
        ),
        *(_book(api, b, event, (0, 1)) for b in buyers),
        *(_join(api, j, event) for j in joiners),
        *(api.client.delete(path, headers=w.headers) for w in waiters[:2]),
    ]
    responses = await asyncio.gather(*requests)
    unexpected = [r.text for r in responses if r.status_code not in (200, 201, 204, 409)]
    assert not unexpected, unexpected
    codes = {r.json()["code"] for r in responses if r.status_code == 409}
    assert codes <= {"booking.sold_out", "waitlist.seats_available"}, codes

    async with api.app.state.sessionmaker() as session:
        ticket_type = await session.get(TicketType, uuid.UUID(event["ticket_types"][0]["id"]))
        assert ticket_type is not None
        live = await session.scalar(
            select(func.coalesce(func.sum(Booking.seats), 0)).where(
                Booking.event_id == uuid.UUID(event["id"]),
                Booking.status.in_((BookingStatus.pending, BookingStatus.confirmed)),
            )
        )
        entries = list(await session.scalars(select(WaitlistEntry)))
        offered_bookings = {
            b.id: b
            for b in await session.scalars(
                select(Booking).where(
                    Booking.id.in_([e.booking_id for e in entries if e.booking_id])
                )
            )
        }
    assert ticket_type.reserved <= ticket_type.quantity == 8
    assert ticket_type.reserved == live  # every claimed seat belongs to a live booking
    free = ticket_type.quantity - ticket_type.reserved
    waiting = [e for e in entries if e.status == WaitlistStatus.waiting]
    assert all(e.quantity > free for e in waiting), (free, [e.quantity for e in waiting])
    for entry in entries:
        if entry.status == WaitlistStatus.offered:
            assert offered_bookings[entry.booking_id].status == BookingStatus.pending
    assert len({e.booking_id for e in entries if e.booking_id}) == len(
        [e for e in entries if e.booking_id]
    )  # no hold was offered twice
