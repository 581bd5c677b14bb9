"""The express path on PostgreSQL (api/bookings/express.py): a booking in one statement and a
door scan in one write what the readable routes write, and never say yes where those would say
no; whatever the express path leaves, the route decides, in its own words.

SQLite has no such path (every booking there is the readable service's, tested throughout);
these tests run on PostgreSQL only, where the path is switched on by default.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text, update

from api.bookings.models import Booking, BookingLine, BookingTransition, CheckInScan, Ticket
from api.db import utcnow
from api.events.models import TicketType
from api.idempotency import IdempotencyRecord
from api.outbox import OutboxEvent
from api.users.models import Role, User, UserStatus
from tests.api.factories import Api, TestUser
from tests.api.test_door_staff import _tickets
from tests.api.test_events import published_event, ticket_body
from tests.api.test_tickets import _free_event

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


def _count(api: Api, outcome: str) -> float:
    registry = api.app.state.metrics.registry
    labels = {"route": "/bookings", "outcome": outcome}
    return registry.get_sample_value("tessera_express_requests_total", labels) or 0


async def _book(
    api: Api,
    buyer: TestUser,
    event: dict[str, Any],
    *,
    index: int = 0,
    quantity: int = 1,
    readable: bool = False,
    key: str | None = None,
    **line: Any,
) -> httpx.Response:
    """Book; `readable` sends the request the express path never takes (one with a query
    string), so the FastAPI route books it."""
    body = {
        "event_id": event["id"],
        "lines": [
            {"ticket_type_id": event["ticket_types"][index]["id"], "quantity": quantity, **line}
        ],
    }
    headers = buyer.headers | ({"Idempotency-Key": key} if key else {})
    path = "/bookings?via=route" if readable else "/bookings"
    return await api.client.post(path, headers=headers, json=body)


async def _written(api: Api, booking_id: str) -> dict[str, Any]:
    """Every row a booking wrote, less what differs between any two bookings (ids, times)."""
    booking_uuid = uuid.UUID(booking_id)
    times = {"id", "created_at", "confirmed_at", "expires_at", "at", "booking_id", "user_id"}

    def plain(row: Any, skip: set[str]) -> dict[str, Any]:
        return {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key not in skip}

    async with api.app.state.sessionmaker() as session:
        booking = await session.get(Booking, booking_uuid)
        lines = await session.scalars(
            select(BookingLine).where(BookingLine.booking_id == booking_uuid)
        )
        moves = await session.scalars(
            select(BookingTransition).where(BookingTransition.booking_id == booking_uuid)
        )
        issued = await session.scalars(select(Ticket).where(Ticket.booking_id == booking_uuid))
        rows = await session.scalars(
            select(OutboxEvent).where(OutboxEvent.entity_id == booking_id).order_by(OutboxEvent.id)
        )
        raw_json = await session.scalar(
            text("SELECT attendee_names::text FROM booking_lines WHERE booking_id = :b"),
            {"b": booking_uuid},
        )
        outbox = [
            {
                "event_type": r.event_type,
                "entity": r.entity,
                "version": r.version,
                "actor_id": r.actor_id,
                "request_id": r.request_id is not None,
                "txid": r.txid is not None,
                "payload": {k: v for k, v in r.payload.items() if k not in times},
                "payload_keys": sorted(r.payload),
            }
            for r in rows
        ]
        assert booking is not None
        return {
            "booking": plain(booking, times),
            "lines": [plain(line, times) for line in lines],
            "attendee_names_json": raw_json,
            "transitions": [plain(m, times | {"actor_id"}) | {"by": m.actor_id} for m in moves],
            "tickets": sorted(
                (t.ticket_type_id, t.status, t.attendee_name, len(t.code)) for t in issued
            ),
            "outbox": outbox,
        }


def _same_shape(a: dict[str, Any], b: dict[str, Any]) -> None:
    """Two booking answers alike but for ids and times, which are formatted alike."""
    assert a.keys() == b.keys()
    uuid.UUID(a["id"])
    for key in ("created_at", "confirmed_at", "expires_at"):
        assert (a[key] is None) == (b[key] is None), key
        if a[key] is not None:
            assert a[key][19:].lstrip(".0123456789") == b[key][19:].lstrip(".0123456789")
            assert abs(datetime.fromisoformat(a[key]) - datetime.fromisoformat(b[key])).seconds < 5
    rest = {k for k in a if k not in ("id", "created_at", "confirmed_at", "expires_at")}
    assert {k: a[k] for k in rest} == {k: b[k] for k in rest}


async def test_it_writes_what_the_service_writes(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(
        api,
        owner,
        tickets=[
            ticket_body(name="Free", price_cents=0, quantity=20),
            ticket_body(
                name="Paid",
                price_cents=2999,
                tax_rate_bps=1900,
                tax_inclusive=False,
                tax_name="VAT",
                quantity=20,
            ),
        ],
        attendee_names_required=True,
    )
    buyer = await api.signed_in()
    for index, names in ((0, ["Ada", "Grace"]), (1, ["Linus", "Ken"])):
        express = await _book(
            api, buyer, event, index=index, quantity=2, attendees=names, key=uuid.uuid4().hex
        )
        assert express.status_code == 201, express.text
        assert _count(api, "done") == index + 1  # the express path booked it
        readable = await _book(
            api,
            buyer,
            event,
            index=index,
            quantity=2,
            attendees=names,
            key=uuid.uuid4().hex,
            readable=True,
        )
        assert readable.status_code == 201, readable.text
        assert _count(api, "done") == index + 1  # ... and the route this one
        _same_shape(express.json(), readable.json())
        assert express.headers["content-type"] == readable.headers["content-type"]
        ours = await _written(api, express.json()["id"])
        assert ours == await _written(api, readable.json()["id"])
    async with api.app.state.sessionmaker() as session:
        stored = await session.scalars(select(IdempotencyRecord).order_by(IdempotencyRecord.id))
        answers = [(r.status_code, r.response_body["lines"]) for r in stored]
    assert answers[0] == answers[1]
    assert answers[2] == answers[3]
    assert await _reserved(api) == {"Free": 4, "Paid": 4}


async def _reserved(api: Api) -> dict[str, int]:
    async with api.app.state.sessionmaker() as session:
        rows = await session.execute(select(TicketType.name, TicketType.reserved))
        return {row[0]: row[1] for row in rows.all()}


async def test_a_replay_and_a_reused_key_are_answered_by_the_route(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(quantity=5)])
    buyer = await api.signed_in()
    first = await _book(api, buyer, event, key="order-0001")
    again = await _book(api, buyer, event, key="order-0001")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    reused = await _book(api, buyer, event, key="order-0001", quantity=2)
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency.key_reused")
    assert (_count(api, "done"), _count(api, "handed_on")) == (1, 2)
    assert await _reserved(api) == {"General admission": 1}


async def test_concurrent_requests_with_one_key_book_once(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(quantity=50)])
    buyer = await api.signed_in()
    answers = await asyncio.gather(*(_book(api, buyer, event, key="same-key-1") for _ in range(8)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert await _reserved(api) == {"General admission": 1}


async def test_many_buyers_at_once_never_oversell(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(price_cents=0, quantity=12)])
    buyers = [await api.signed_in() for _ in range(30)]
    answers = await asyncio.gather(
        *(
            _book(api, b, event, key=uuid.uuid4().hex, quantity=1 + i % 2)
            for i, b in enumerate(buyers)
        )
    )
    assert {a.status_code for a in answers} == {201, 409}
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"booking.sold_out"}
    sold = sum(a.json()["seats"] for a in answers if a.status_code == 201)
    async with api.app.state.sessionmaker() as session:
        seats = await session.scalar(select(func.sum(Booking.seats)))
        issued = await session.scalar(select(func.count()).select_from(Ticket))
    assert sold == seats == issued == (await _reserved(api))["General admission"]
    assert sold >= 11  # only a two-seat request can be refused with one seat left
    assert _count(api, "done") >= 6


async def test_it_books_nothing_for_an_ended_session_or_account(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(quantity=5)])
    signed_out, suspended, stale = [await api.signed_in() for _ in range(3)]
    assert (await api.client.post("/auth/logout", headers=signed_out.headers)).status_code == 204
    async with api.app.state.sessionmaker() as session:
        await session.execute(
            update(User).where(User.id == suspended.id).values(status=UserStatus.suspended)
        )
        await session.execute(
            update(User)
            .where(User.id == stale.id)
            .values(tokens_valid_after=utcnow() + timedelta(minutes=1))
        )
        await session.commit()
    for person in (signed_out, suspended, stale):
        refused = await _book(api, person, event, key=uuid.uuid4().hex)
        assert refused.status_code == 401, refused.text
    assert _count(api, "done") == 0
    assert await _reserved(api) == {"General admission": 0}
    async with api.app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Booking)) == 0
        assert await session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0


async def test_an_edited_event_is_booked_as_it_is_now(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(price_cents=1000, quantity=5)])
    buyer = await api.signed_in()
    assert (await _book(api, buyer, event)).json()["total_cents"] == 1000  # planned, cached
    path = f"/events/{event['id']}/ticket-types/{event['ticket_types'][0]['id']}"
    changed = await api.client.put(path, headers=owner.headers, json={"price_cents": 1500})
    assert changed.status_code == 200, changed.text
    assert (await _book(api, buyer, event)).json()["total_cents"] == 1500
    assert (await _book(api, buyer, event)).json()["total_cents"] == 1500
    assert _count(api, "done") == 2  # the second was the route's; the third planned anew
    cancelled = await api.client.post(
        f"/events/{event['id']}/cancel", headers=owner.headers, json={"reason": "Storm"}
    )
    assert cancelled.status_code == 200, cancelled.text
    refused = await _book(api, buyer, event)
    assert (refused.status_code, refused.json()["code"]) == (409, "booking.not_on_sale")


async def test_expired_holds_give_their_seats_to_the_next_buyer(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(quantity=1)])
    first, second = await api.signed_in(), await api.signed_in()
    held = await _book(api, first, event)
    assert held.status_code == 201
    async with api.app.state.sessionmaker() as session:
        await session.execute(update(Booking).values(expires_at=utcnow() - timedelta(seconds=1)))
        await session.commit()
    taken = await _book(api, second, event)
    assert taken.status_code == 201, taken.text  # the route gave the lapsed seat back first
    assert await _reserved(api) == {"General admission": 1}


def _door_count(api: Api, outcome: str) -> float:
    registry = api.app.state.metrics.registry
    labels = {"route": "/events/{eventId}/check-ins", "outcome": outcome}
    return registry.get_sample_value("tessera_express_requests_total", labels) or 0


async def _scanned(api: Api, ticket_id: str) -> dict[str, Any]:
    """What admitting a ticket wrote, less ids and times."""
    ticket_uuid = uuid.UUID(ticket_id)
    async with api.app.state.sessionmaker() as session:
        scan = await session.scalar(select(CheckInScan).where(CheckInScan.ticket_id == ticket_uuid))
        ticket = await session.get(Ticket, ticket_uuid)
        [row] = await session.scalars(
            select(OutboxEvent).where(
                OutboxEvent.entity_id == ticket_id, OutboxEvent.event_type == "ticket.checked_in"
            )
        )
    assert scan is not None
    assert ticket is not None
    skip = {"id", "code", "booking_id", "created_at", "ticket_id", "decided_at", "scanned_at"}
    return {
        "scan": {c.key: getattr(scan, c.key) for c in CheckInScan.__table__.columns}
        | {"id": None, "ticket_id": None, "decided_at": None, "scanned_at": None},
        "in_at_scan_time": ticket.checked_in_at == scan.scanned_at,
        "by": ticket.checked_in_by,
        "outbox": (row.entity, row.version, row.actor_id, row.request_id is not None),
        "payload": {k: v for k, v in row.payload.items() if k not in skip | {"checked_in_at"}},
        "payload_in_at": datetime.fromisoformat(row.payload["checked_in_at"])
        == ticket.checked_in_at,
        "payload_keys": sorted(row.payload),
        "times_as_python_writes_them": (row.payload["created_at"], row.payload["checked_in_at"])
        == (ticket.created_at.isoformat(), ticket.checked_in_at.isoformat()),
    }


async def test_the_door_admits_as_the_route_does(api: Api) -> None:
    owner = await api.signed_in(Role.organizer, full_name="Olu Organizer")
    event = await _free_event(api, owner)
    first, second, third = await _tickets(api, event, 3)
    door = f"/events/{event['id']}/check-ins"
    staff = await api.signed_in(full_name="Sam Door")
    stranger = await api.signed_in()
    granted = await api.client.post(
        "/staff-grants", headers=owner.headers, json={"email": staff.email, "event_id": event["id"]}
    )
    assert granted.status_code == 201, granted.text
    scan = {"payload": first["qr_payload"], "device": "Door 1"}
    refused = await api.client.post(door, headers=stranger.headers, json=scan)
    assert (refused.status_code, refused.json()["code"]) == (403, "event.not_staff")
    assert _door_count(api, "done") == 0

    express = await api.client.post(door, headers=staff.headers, json=scan)
    assert express.status_code == 200, express.text
    assert _door_count(api, "done") == 1
    readable = await api.client.post(
        door + "?via=route", headers=staff.headers, json={**scan, "payload": second["qr_payload"]}
    )
    assert readable.status_code == 200, readable.text
    assert _door_count(api, "done") == 1
    ours, theirs = express.json(), readable.json()
    for answer in (ours, theirs):
        datetime.fromisoformat(answer.pop("first_checked_in_at"))
        answer.pop("ticket_id")
    assert ours == theirs
    assert ours["holder_name"] == "Bea Buyer"
    assert await _scanned(api, first["id"]) == await _scanned(api, second["id"])

    again = await api.client.post(door, headers=staff.headers, json=scan)
    assert again.json()["outcome"] == "already"
    assert (again.json()["first_checked_in_by"], again.json()["first_checked_in_device"]) == (
        "Sam Door",
        "Door 1",
    )
    async with api.app.state.sessionmaker() as session:
        await session.execute(
            update(Ticket).where(Ticket.id == uuid.UUID(third["id"])).values(status="void")
        )
        await session.commit()
    void = await api.client.post(door, headers=staff.headers, json={"payload": third["qr_payload"]})
    assert (void.status_code, void.json()["code"]) == (409, "ticket.cancelled")
    assert _door_count(api, "done") == 1
    assert len(await api.outbox("ticket.checked_in")) == 2


async def test_one_ticket_at_many_doors_at_once_is_admitted_once(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _free_event(api, owner)
    [ticket] = await _tickets(api, event, 1)
    door = f"/events/{event['id']}/check-ins"
    answers = await asyncio.gather(
        *(
            api.client.post(
                door,
                headers=owner.headers,
                json={"payload": ticket["qr_payload"], "device": f"D{i}"},
            )
            for i in range(8)
        )
    )
    outcomes = sorted(a.json()["outcome"] for a in answers)
    assert outcomes == ["admitted"] + ["already"] * 7
    assert len(await api.outbox("ticket.checked_in")) == 1
    async with api.app.state.sessionmaker() as session:
        scans = await session.scalar(select(func.count()).select_from(CheckInScan))
    assert scans == 8


async def test_an_event_edited_between_scans_is_read_again(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _free_event(api, owner)
    first, second, third = await _tickets(api, event, 3)
    async with api.app.state.sessionmaker() as session:  # a time on the second, as may happen
        on_the_second = func.date_trunc("second", Ticket.created_at)
        await session.execute(update(Ticket).values(created_at=on_the_second))
        await session.commit()
    door = f"/events/{event['id']}/check-ins"
    scanned = await api.client.post(
        door, headers=owner.headers, json={"payload": first["qr_payload"]}
    )
    assert (scanned.json()["outcome"], _door_count(api, "done")) == ("admitted", 1)
    edited = await api.client.put(
        f"/events/{event['id']}", headers=owner.headers, json={"title": "Harbour Jazz, moved"}
    )
    assert edited.status_code == 200, edited.text
    # Planned from the event as it was: the write admits nothing, the route admits it.
    scanned = await api.client.post(
        door, headers=owner.headers, json={"payload": second["qr_payload"]}
    )
    assert (scanned.json()["outcome"], _door_count(api, "done")) == ("admitted", 1)
    scanned = await api.client.post(
        door, headers=owner.headers, json={"payload": third["qr_payload"]}
    )
    assert (scanned.json()["outcome"], _door_count(api, "done")) == ("admitted", 2)
    for ticket in (first, second, third):
        assert (await _scanned(api, ticket["id"]))["times_as_python_writes_them"]


async def test_a_sold_out_buyer_is_told_so_as_the_route_would(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(price_cents=0, quantity=2)])
    first, late = await api.signed_in(), await api.signed_in()
    kept = await _book(api, first, event, quantity=2, key="first-order")
    assert kept.status_code == 201
    told = await _book(api, late, event, key=uuid.uuid4().hex)
    assert _count(api, "sold_out") == 1  # answered by the express path ...
    by_route = await _book(api, late, event, key=uuid.uuid4().hex, readable=True)
    assert _count(api, "sold_out") == 1  # ... and this one by the route
    ours, theirs = told.json(), by_route.json()
    assert (told.status_code, ours["code"]) == (409, "booking.sold_out")
    assert told.headers["content-type"] == by_route.headers["content-type"]
    assert {k: v for k, v in ours.items() if k != "request_id"} == {
        k: v for k, v in theirs.items() if k != "request_id"
    }
    # A key used before is replayed, sold out or not; an expired hold goes back to the sale.
    again = await _book(api, first, event, quantity=2, key="first-order")
    assert (again.status_code, again.content) == (201, kept.content)
    assert _count(api, "sold_out") == 1
    async with api.app.state.sessionmaker() as session:
        await session.execute(
            update(Booking).values(status="pending", expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    taken = await _book(api, late, event, key=uuid.uuid4().hex)
    assert taken.status_code == 201, taken.text
    assert _count(api, "sold_out") == 1


async def test_what_the_framework_reads_its_own_way_goes_to_the_route(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(price_cents=0, quantity=5)])
    buyer = await api.signed_in()
    body = {
        "event_id": event["id"],
        "lines": [{"ticket_type_id": event["ticket_types"][0]["id"], "quantity": 1}],
    }
    # Two keys: the route takes the first, so the retry with it is a replay, not a second sale.
    headers = [
        *buyer.headers.items(),
        ("Idempotency-Key", "key-one-1"),
        ("Idempotency-Key", "key-two-2"),
    ]
    first = await api.client.post("/bookings", headers=headers, json=body)
    again = await api.client.post(
        "/bookings", headers=buyer.headers | {"Idempotency-Key": "key-one-1"}, json=body
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert _count(api, "done") == 0
    # A body nested past what a parser takes is the route's 4xx, never a 500.
    deep = b"[" * 100_000 + b"]" * 100_000
    refused = await api.client.post(
        "/bookings", headers=buyer.headers | {"Content-Type": "application/json"}, content=deep
    )
    assert 400 <= refused.status_code < 500, refused.text
    assert await _reserved(api) == {"General admission": 1}


async def test_the_door_names_the_ticket_type_as_it_is_now(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _free_event(api, owner)
    first, second = await _tickets(api, event, 2)
    door = f"/events/{event['id']}/check-ins"
    scanned = await api.client.post(
        door, headers=owner.headers, json={"payload": first["qr_payload"]}
    )
    assert scanned.json()["ticket_type_name"] == "General admission"
    path = f"/events/{event['id']}/ticket-types/{event['ticket_types'][0]['id']}"
    renamed = await api.client.put(path, headers=owner.headers, json={"name": "Standing"})
    assert renamed.status_code == 200, renamed.text
    scanned = await api.client.post(
        door, headers=owner.headers, json={"payload": second["qr_payload"]}
    )
    assert (scanned.json()["ticket_type_name"], _door_count(api, "done")) == ("Standing", 2)
    shouty = f"/events/{event['id'].upper()}/check-ins"
    again = await api.client.post(
        shouty, headers=owner.headers, json={"payload": first["qr_payload"]}
    )
    assert again.json()["outcome"] == "already"  # the route's, as it takes that spelling
    assert _door_count(api, "done") == 2
