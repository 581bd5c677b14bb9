"""A ticket scanned at the door: its holder can no longer cancel (and so get refunded), the
organizer still can; and tickets are scanned only inside the event's check-in window."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from api.bookings import service as bookings_service
from api.bookings.models import Ticket
from api.db import clock_at, utcnow
from api.errors import AppError
from api.events.models import Event
from api.payments import service as payments
from api.payments.models import Refund
from api.users import service as users_service
from api.users.models import Role
from tests.api.factories import Api, TestUser
from tests.api.test_bookings import _book, _reserved
from tests.api.test_events import create_event, event_body, published_event, ticket_body
from tests.api.test_payments import _pay


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


async def _tonight(api: Api, owner: TestUser, *, price_cents: int = 2500) -> dict[str, Any]:
    """An event starting in two hours (check-in is open) whose attendees may cancel until the
    start."""
    starts = utcnow().replace(microsecond=0) + timedelta(hours=2)
    return await published_event(
        api,
        owner,
        tickets=[ticket_body(price_cents=price_cents, quantity=40)],
        starts_at=starts.isoformat(),
        ends_at=(starts + timedelta(hours=3)).isoformat(),
        attendee_cancellation_hours=0,
    )


async def _paid_booking(
    api: Api, event: dict[str, Any], seats: int = 2
) -> tuple[TestUser, dict[str, Any], dict[str, Any]]:
    buyer = await api.signed_in()
    booking = (await _book(api, buyer, event, (0, seats))).json()
    payment = (await _pay(api, buyer, booking, "pm_card_visa")).json()
    assert payment["status"] == "succeeded", payment
    return buyer, booking, payment


async def _tickets(api: Api, user: TestUser, booking: dict[str, Any]) -> list[dict[str, Any]]:
    response = await api.client.get(f"/bookings/{booking['id']}/tickets", headers=user.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


async def _scan(api: Api, staff: TestUser, event: dict[str, Any], payload: str):  # type: ignore[no-untyped-def]
    return await api.client.post(
        f"/events/{event['id']}/check-ins", headers=staff.headers, json={"payload": payload}
    )


async def _cancel(api: Api, user: TestUser, booking: dict[str, Any]):  # type: ignore[no-untyped-def]
    return await api.client.post(f"/bookings/{booking['id']}/cancel", headers=user.headers)


async def _status(api: Api, user: TestUser, booking: dict[str, Any]) -> str:
    shown = await api.client.get(f"/bookings/{booking['id']}", headers=user.headers)
    return str(shown.json()["status"])


async def _refund_job(api: Api) -> int:
    state = api.app.state
    return await payments.refund_cancelled_bookings(state.sessionmaker, state.payment_providers)


async def _refunds(api: Api) -> list[Refund]:
    async with api.app.state.sessionmaker() as session:
        return list(await session.scalars(select(Refund).order_by(Refund.created_at)))


# ---- cancelling a booking whose ticket was used --------------------------------------------


async def test_an_attendee_cannot_cancel_once_a_ticket_was_checked_in(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _tonight(api, owner)
    buyer, booking, _ = await _paid_booking(api, event)
    first, second = await _tickets(api, buyer, booking)
    assert (await _scan(api, owner, event, first["qr_payload"])).status_code == 200

    refused = await _cancel(api, buyer, booking)
    assert (refused.status_code, refused.json()["code"]) == (409, "booking.ticket_used")

    # Nothing changed: still confirmed, both tickets still work, no seat given back, nothing
    # for the refund job to pick up.
    assert await _status(api, buyer, booking) == "confirmed"
    after = await _tickets(api, buyer, booking)
    assert [t["status"] for t in after] == ["valid", "valid"]
    assert after[0]["checked_in_at"] is not None
    assert after[1]["checked_in_at"] is None
    assert await _reserved(api) == {"General admission": 2}
    assert await api.outbox("booking.cancelled") == []
    await _refund_job(api)
    assert await _refunds(api) == []
    assert (await _scan(api, owner, event, second["qr_payload"])).status_code == 200

    # A booking none of whose tickets was scanned is still cancelled by its holder.
    other_buyer, other, _ = await _paid_booking(api, event)
    assert (await _cancel(api, other_buyer, other)).status_code == 200
    await _refund_job(api)
    [refund] = await _refunds(api)
    assert (refund.booking_id, refund.status.value) == (uuid.UUID(other["id"]), "succeeded")


async def test_the_organizer_and_admins_still_refund_a_used_ticket_in_part_or_in_full(
    api: Api,
) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _tonight(api, owner)
    buyer, booking, payment = await _paid_booking(api, event)
    first, _ = await _tickets(api, buyer, booking)
    assert (await _scan(api, owner, event, first["qr_payload"])).status_code == 200

    part = await api.client.post(
        f"/payments/{payment['id']}/refunds",
        headers=owner.headers,
        json={"amount_cents": 1000, "reason": "Late start"},
    )
    assert (part.status_code, part.json()["status"]) == (201, "succeeded"), part.text
    assert await _status(api, buyer, booking) == "confirmed"
    assert [t["status"] for t in await _tickets(api, buyer, booking)] == ["valid", "valid"]

    admin = await api.signed_in(Role.admin)
    rest = await api.client.post(
        f"/payments/{payment['id']}/refunds", headers=admin.headers, json={}
    )
    assert (rest.status_code, rest.json()["amount_cents"]) == (201, 4000), rest.text
    assert await _status(api, buyer, booking) == "refunded"
    assert {t["status"] for t in await _tickets(api, buyer, booking)} == {"void"}


async def test_the_organizer_cancels_a_used_booking_and_the_worker_refunds_it(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _tonight(api, owner)
    buyer, booking, _ = await _paid_booking(api, event)
    first, _ = await _tickets(api, buyer, booking)
    assert (await _scan(api, owner, event, first["qr_payload"])).status_code == 200
    cancelled = await _cancel(api, owner, booking)
    assert cancelled.status_code == 200, cancelled.text
    [row] = await api.outbox("booking.cancelled")
    assert row.payload["cancelled_by"] == "staff"
    assert await _refund_job(api) == 1
    assert await _status(api, buyer, booking) == "refunded"


async def test_an_event_cancellation_refunds_used_tickets_too(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _tonight(api, owner)
    buyer, booking, _ = await _paid_booking(api, event)
    first, _ = await _tickets(api, buyer, booking)
    assert (await _scan(api, owner, event, first["qr_payload"])).status_code == 200
    cancelled = await api.client.post(
        f"/events/{event['id']}/cancel", headers=owner.headers, json={"reason": "Power cut"}
    )
    assert cancelled.status_code == 200, cancelled.text
    [row] = await api.outbox("booking.cancelled")
    assert row.payload["cancelled_by"] == "event"
    assert await _refund_job(api) == 1
    [refund] = await _refunds(api)
    assert (refund.amount_cents, refund.status.value) == (5000, "succeeded")
    assert await _status(api, buyer, booking) == "refunded"


async def test_a_confirmed_booking_never_lapses_like_a_hold(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _tonight(api, owner)
    buyer, booking, _ = await _paid_booking(api, event)
    first, _ = await _tickets(api, buyer, booking)
    assert (await _scan(api, owner, event, first["qr_payload"])).status_code == 200
    async with api.app.state.sessionmaker() as session:
        released = await bookings_service.release_expired(
            session, now=utcnow() + timedelta(days=365)
        )
        await session.commit()
    assert released == 0
    assert await _status(api, buyer, booking) == "confirmed"
    assert await api.outbox("booking.expired") == []


# ---- a check-in racing the holder's cancellation ------------------------------------------


async def _until_someone_waits_for_a_lock(api: Api, backend: str) -> None:
    """On PostgreSQL, return once another connection is blocked on a row lock. SQLite's
    second writer waits at BEGIN for the first to commit, which gives the same order."""
    if backend == "sqlite":
        await asyncio.sleep(0)
        return
    async with api.app.state.sessionmaker() as watcher:
        for _ in range(1000):
            waiting = await watcher.scalar(
                text(
                    "select count(*) from pg_stat_activity "
                    "where datname = current_database() and wait_event_type = 'Lock'"
                )
            )
            await watcher.rollback()  # pg_stat_activity is read once per transaction
            if waiting:
                return
            await asyncio.sleep(0.005)
    raise AssertionError("the second transaction never waited for the first")


async def _check_in_alone(api: Api, event_id: str, staff_id: uuid.UUID, payload: str) -> str:
    async with api.app.state.sessionmaker() as session:
        event = await session.get(Event, uuid.UUID(event_id))
        staff = await users_service.get(session, user_id=staff_id)
        assert event is not None
        assert staff is not None
        try:
            await bookings_service.check_in(
                session, api.settings, event=event, payload=payload, staff=staff
            )
        except AppError as exc:
            return exc.code
        await session.commit()
        return "admitted"


async def _cancel_alone(api: Api, booking_id: str, user_id: uuid.UUID) -> str:
    async with api.app.state.sessionmaker() as session:
        booking = await bookings_service.get(session, booking_id=uuid.UUID(booking_id))
        user = await users_service.get(session, user_id=user_id)
        assert booking is not None
        assert user is not None
        try:
            await bookings_service.cancel(session, booking=booking, actor=user, reason=None)
        except AppError as exc:
            return exc.code
        await session.commit()
        return "cancelled"


async def _ticket(api: Api, ticket_id: str) -> Ticket:
    async with api.app.state.sessionmaker() as session:
        found = await session.get(Ticket, uuid.UUID(ticket_id))
        assert found is not None
        return found


async def test_a_scan_waiting_on_an_uncommitted_cancellation_finds_the_ticket_void(
    api: Api, backend: str
) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _tonight(api, owner)
    buyer, booking, _ = await _paid_booking(api, event, seats=1)
    [ticket] = await _tickets(api, buyer, booking)
    async with api.app.state.sessionmaker() as first:
        held = await bookings_service.get(first, booking_id=uuid.UUID(booking["id"]))
        holder = await users_service.get(first, user_id=buyer.id)
        assert held is not None
        assert holder is not None
        await bookings_service.cancel(first, booking=held, actor=holder, reason=None)
        scan = asyncio.create_task(
            _check_in_alone(api, event["id"], owner.id, ticket["qr_payload"])
        )
        await _until_someone_waits_for_a_lock(api, backend)
        await first.commit()
    assert await scan == "ticket.cancelled"
    stored = await _ticket(api, ticket["id"])
    assert (stored.status.value, stored.checked_in_at) == ("void", None)
    assert await api.outbox("ticket.checked_in") == []


async def test_a_cancellation_waiting_on_an_uncommitted_scan_is_refused(
    api: Api, backend: str
) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _tonight(api, owner)
    buyer, booking, _ = await _paid_booking(api, event, seats=1)
    [ticket] = await _tickets(api, buyer, booking)
    async with api.app.state.sessionmaker() as first:
        shown = await first.get(Event, uuid.UUID(event["id"]))
        staff = await users_service.get(first, user_id=owner.id)
        assert shown is not None
        assert staff is not None
        await bookings_service.check_in(
            first, api.settings, event=shown, payload=ticket["qr_payload"], staff=staff
        )
        cancel = asyncio.create_task(_cancel_alone(api, booking["id"], buyer.id))
        await _until_someone_waits_for_a_lock(api, backend)
        await first.commit()
    assert await cancel == "booking.ticket_used"
    assert await _status(api, buyer, booking) == "confirmed"
    stored = await _ticket(api, ticket["id"])
    assert stored.status.value == "valid"
    assert stored.checked_in_at is not None
    assert await api.outbox("booking.cancelled") == []


async def test_racing_scans_and_cancellations_never_both_succeed(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _tonight(api, owner, price_cents=0)
    buyer = await api.signed_in()
    for _ in range(8):
        booking = (await _book(api, buyer, event, (0, 1))).json()
        [ticket] = await _tickets(api, buyer, booking)
        scanned, cancelled = await asyncio.gather(
            _scan(api, owner, event, ticket["qr_payload"]), _cancel(api, buyer, booking)
        )
        outcome = (scanned.status_code, cancelled.status_code)
        assert outcome in ((200, 409), (409, 200)), (scanned.text, cancelled.text)
        if outcome == (200, 409):
            assert cancelled.json()["code"] == "booking.ticket_used"
            assert await _status(api, buyer, booking) == "confirmed"
        else:
            assert scanned.json()["code"] == "ticket.cancelled"
            [after] = await _tickets(api, buyer, booking)
            assert (after["status"], after["checked_in_at"]) == ("void", None)


# ---- the check-in window --------------------------------------------------------------------


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_check_in_opens_six_hours_before_the_start_and_closes_at_the_end(
    api: Api,
) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(price_cents=0, quantity=10)])
    buyer = await api.signed_in()
    booking = (await _book(api, buyer, event, (0, 3))).json()
    first, second, third = await _tickets(api, buyer, booking)
    starts, ends = _at(event["starts_at"]), _at(event["ends_at"])

    a_month_before = await _scan(api, owner, event, first["qr_payload"])
    with clock_at(starts - timedelta(hours=6, seconds=1)):
        a_second_early = await _scan(api, owner, event, first["qr_payload"])
    for response in (a_month_before, a_second_early):
        assert (response.status_code, response.json()["code"]) == (409, "ticket.checkin_not_open")
    assert all(t["checked_in_at"] is None for t in await _tickets(api, buyer, booking))
    assert await api.outbox("ticket.checked_in") == []

    with clock_at(starts - timedelta(hours=6)):
        opened = await _scan(api, owner, event, first["qr_payload"])
    assert opened.status_code == 200, opened.text
    assert _at(opened.json()["first_checked_in_at"]) == starts - timedelta(hours=6)
    with clock_at(ends):
        last = await _scan(api, owner, event, second["qr_payload"])
    assert last.status_code == 200, last.text

    with clock_at(ends + timedelta(seconds=1)):
        late = await _scan(api, owner, event, third["qr_payload"])
        again = await _scan(api, owner, event, first["qr_payload"])
    for response in (late, again):
        assert (response.status_code, response.json()["code"]) == (409, "ticket.checkin_closed")
    shown = {t["id"]: t["checked_in_at"] for t in await _tickets(api, buyer, booking)}
    assert shown[third["id"]] is None
    assert len(await api.outbox("ticket.checked_in")) == 2


async def test_the_organizer_sets_when_check_in_opens(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    default = await create_event(api, owner)
    assert default["checkin_opens_minutes_before"] == 360
    for wrong in (-1, 10_081, "soon"):
        refused = await api.client.post(
            "/events", headers=owner.headers, json=event_body(checkin_opens_minutes_before=wrong)
        )
        assert refused.status_code == 422, refused.text
    event = await published_event(
        api,
        owner,
        tickets=[ticket_body(price_cents=0, quantity=10)],
        checkin_opens_minutes_before=0,
    )
    assert event["checkin_opens_minutes_before"] == 0
    for wrong in (None, 10_081):
        refused = await api.client.put(
            f"/events/{event['id']}",
            headers=owner.headers,
            json={"checkin_opens_minutes_before": wrong},
        )
        assert refused.status_code == 422, refused.text

    buyer = await api.signed_in()
    booking = (await _book(api, buyer, event, (0, 1))).json()
    [ticket] = await _tickets(api, buyer, booking)
    starts = _at(event["starts_at"])
    with clock_at(starts - timedelta(minutes=30)):
        early = await _scan(api, owner, event, ticket["qr_payload"])
    assert (early.status_code, early.json()["code"]) == (409, "ticket.checkin_not_open")

    changed = await api.client.put(
        f"/events/{event['id']}", headers=owner.headers, json={"checkin_opens_minutes_before": 45}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["checkin_opens_minutes_before"] == 45
    [updated] = await api.outbox("event.updated")
    assert updated.payload["checkin_opens_minutes_before"] == 45
    with clock_at(starts - timedelta(minutes=30)):
        admitted = await _scan(api, owner, event, ticket["qr_payload"])
    assert admitted.status_code == 200, admitted.text

    copy = await api.client.post(f"/events/{event['id']}/duplicate", headers=owner.headers)
    assert copy.status_code == 201, copy.text
    assert copy.json()["checkin_opens_minutes_before"] == 45
