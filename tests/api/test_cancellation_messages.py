"""Who hears what when a booking and then its event are cancelled before the worker runs: the
planner decides from what each outbox row recorded, not from the state it finds later."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from api.notifications import planner
from api.outbox import OutboxEvent
from api.payments import service as payments_service
from api.users.models import Role
from tests.api.factories import Api, TestUser
from tests.api.test_bookings import _book
from tests.api.test_events import published_event, ticket_body
from tests.api.test_payments import _pay

TITLE = "Harbour Jazz Night"
OWN_CANCELLATION = f"Your booking for {TITLE} is cancelled"
EVENT_CANCELLATION = f"{TITLE} is cancelled"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


async def _paid_booking(api: Api, event: dict[str, Any]) -> tuple[TestUser, dict[str, Any]]:
    buyer = await api.signed_in()
    booking = (await _book(api, buyer, event, (0, 1))).json()
    assert (await _pay(api, buyer, booking, "pm_card_visa")).json()["status"] == "succeeded"
    return buyer, booking


def _cancellation_subjects(api: Api, to: str) -> list[str]:
    return sorted(m["Subject"] for m in api.mails(to) if "cancelled" in m["Subject"])


async def _scenario(api: Api) -> tuple[TestUser, TestUser]:
    """Two paid bookings; one buyer cancels, then the organizer cancels the event, all before
    the worker runs."""
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(quantity=10)])
    early, early_booking = await _paid_booking(api, event)
    stayed, _ = await _paid_booking(api, event)
    cancelled = await api.client.post(
        f"/bookings/{early_booking['id']}/cancel", headers=early.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    event_cancelled = await api.client.post(
        f"/events/{event['id']}/cancel", headers=owner.headers, json={"reason": "Storm warning"}
    )
    assert event_cancelled.status_code == 200, event_cancelled.text
    return early, stayed


async def test_a_buyer_who_cancelled_just_before_the_event_was_cancelled_is_told(
    api: Api,
) -> None:
    early, stayed = await _scenario(api)
    await api.deliver_notifications()
    # The buyer who cancelled hears about their own cancellation only: the event's message
    # ("your booking is cancelled and refunded") is about bookings it cancelled.
    assert _cancellation_subjects(api, early.email) == [OWN_CANCELLATION]
    # The buyer whose booking the event's cancellation cancelled gets that message only.
    assert _cancellation_subjects(api, stayed.email) == [EVENT_CANCELLATION]
    await api.deliver_notifications()
    assert _cancellation_subjects(api, early.email) == [OWN_CANCELLATION]

    # Both are refunded and told so.
    state = api.app.state
    await payments_service.refund_cancelled_bookings(state.sessionmaker, state.payment_providers)
    await api.deliver_notifications()
    for buyer in (early, stayed):
        assert len([m for m in api.mails(buyer.email) if "refund" in m["Subject"].lower()]) == 1


async def test_older_rows_without_who_cancelled_fall_back_to_the_times(api: Api) -> None:
    """Rows written before `cancelled_by` was recorded: a booking cancelled before the event
    was gets its own message, one cancelled with the event does not."""
    early, stayed = await _scenario(api)
    rows = await api.outbox("booking.cancelled")
    assert sorted(r.payload["cancelled_by"] for r in rows) == ["attendee", "event"]
    async with api.app.state.sessionmaker() as session:
        planned: dict[uuid.UUID, list[str]] = {}
        for row in rows:
            older = OutboxEvent(
                id=row.id,
                event_id=row.event_id,
                event_type=row.event_type,
                entity=row.entity,
                entity_id=row.entity_id,
                version=row.version,
                payload={k: v for k, v in row.payload.items() if k != "cancelled_by"},
                occurred_at=row.occurred_at,
            )
            for notification in await planner.plan(session, api.settings, older):
                planned.setdefault(notification.user_id, []).append(notification.trigger)
        await session.rollback()
    assert set(planned) == {early.id}
    assert set(planned[early.id]) == {"booking_cancelled"}
    assert stayed.id not in planned
