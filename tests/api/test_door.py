"""The door's API, on both databases: scans decided once under their device's id, offline
batches with conflicts between doors, the list a device keeps offline, and the counters."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy

from api.db import utcnow
from api.users.models import Role
from tests.api.factories import Api, TestUser
from tests.api.test_door_staff import _tickets
from tests.api.test_tickets import _free_event


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


def _scan(ticket: dict[str, Any], device: str, **extra: Any) -> dict[str, Any]:
    return {
        "scan_id": str(uuid.uuid4()),
        "payload": ticket["qr_payload"],
        "scanned_at": utcnow().isoformat(),
        "device": device,
        **extra,
    }


async def _offline(api: Api, who: TestUser, event: dict[str, Any], scans: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    response = await api.client.post(
        f"/events/{event['id']}/check-ins/offline", headers=who.headers, json={"scans": scans}
    )
    assert response.status_code == 200, response.text
    return response.json()["results"]


async def test_a_retried_scan_gets_its_first_answer_and_a_second_scan_says_where(api: Api) -> None:
    owner = await api.signed_in(Role.organizer, full_name="Olu Organizer")
    event = await _free_event(api, owner)
    first, second = await _tickets(api, event, 2)
    door = f"/events/{event['id']}/check-ins"
    scan = {"payload": first["qr_payload"], "scan_id": str(uuid.uuid4()), "device": "Door 1"}

    admitted = await api.client.post(door, headers=owner.headers, json=scan)
    retried = await api.client.post(door, headers=owner.headers, json=scan)  # the answer got lost
    assert admitted.json()["outcome"] == retried.json()["outcome"] == "admitted"
    assert retried.json()["already_checked_in"] is False
    again = await api.client.post(
        door, headers=owner.headers, json={"payload": first["qr_payload"], "device": "Door 2"}
    )
    assert again.json()["outcome"] == "already"
    assert again.json()["first_checked_in_by"] == "Olu Organizer"
    assert again.json()["first_checked_in_device"] == "Door 1"
    assert len(await api.outbox("ticket.checked_in")) == 1

    # The code printed under the QR code, typed, works as the scan does.
    code = first["qr_payload"].split(".")[1]
    assert len(code) == 22
    typed = await api.client.post(
        door, headers=owner.headers, json={"payload": second["qr_payload"].split(".")[1]}
    )
    assert typed.json()["outcome"] == "admitted", typed.text
    counters = await api.client.get(
        f"/events/{event['id']}/check-ins/counters", headers=owner.headers
    )
    assert counters.json() == {"expected": 2, "checked_in": 2, "conflicts": 0}


async def test_offline_batches_are_decided_once_and_two_doors_admitting_one_ticket_conflict(
    api: Api,
) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _free_event(api, owner)
    shared, own, later = await _tickets(api, event, 3)
    door_a = [_scan(shared, "Door A"), _scan(own, "Door A")]
    forged = _scan(later, "Door A", payload=later["qr_payload"][:-2] + "xx")
    door_a.append(forged)
    door_b = [_scan(shared, "Door B")]

    results_a = await _offline(api, owner, event, door_a)
    assert [r["outcome"] for r in results_a] == ["admitted", "admitted", "refused"]
    assert results_a[2]["code"] == "ticket.invalid_signature"
    results_b = await _offline(api, owner, event, door_b)
    assert results_b[0]["outcome"] == "conflict"
    assert results_b[0]["scan"]["first_checked_in_device"] == "Door A"
    # Door A's batch again (its answer got lost): the same answers, nothing admitted twice.
    assert await _offline(api, owner, event, door_a) == results_a
    assert len(await api.outbox("ticket.checked_in")) == 2
    counters = await api.client.get(
        f"/events/{event['id']}/check-ins/counters", headers=owner.headers
    )
    assert counters.json() == {"expected": 3, "checked_in": 2, "conflicts": 1}

    # A scan made before the doors opened is refused as the online scan would be.
    early = _scan(later, "Door A", scanned_at=(utcnow() - timedelta(days=2)).isoformat())
    [refused] = await _offline(api, owner, event, [early])
    assert (refused["outcome"], refused["code"]) == ("refused", "ticket.checkin_not_open")


async def test_the_same_ticket_from_two_doors_at_once_is_admitted_once(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _free_event(api, owner)
    tickets = await _tickets(api, event, 4)
    batches = [[_scan(t, "Door A") for t in tickets], [_scan(t, "Door B") for t in tickets]]
    batches[1].reverse()  # the other door met them in the other order
    batches.append(batches[0])  # and Door A's batch twice, at once
    answers = await asyncio.gather(*(_offline(api, owner, event, b) for b in batches))
    for index in range(len(tickets)):
        at_a, at_b = answers[0][index], answers[1][len(tickets) - 1 - index]
        assert sorted([at_a["outcome"], at_b["outcome"]]) == ["admitted", "conflict"]
    assert answers[2] == answers[0]
    assert len(await api.outbox("ticket.checked_in")) == len(tickets)


async def test_the_offline_list_holds_hashes_for_staff_only(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _free_event(api, owner)
    [ticket] = await _tickets(api, event, 1)
    listed = await api.client.get(f"/events/{event['id']}/check-ins/list", headers=owner.headers)
    assert listed.status_code == 200
    code = ticket["qr_payload"].split(".")[1]
    [entry] = listed.json()["tickets"]
    assert entry["code_hash"] == hashlib.sha256(code.encode()).hexdigest()
    assert (entry["holder_name"], entry["checked_in_at"]) == ("Bea Buyer", None)
    assert code not in listed.text
    assert listed.json()["counters"] == {"expected": 1, "checked_in": 0, "conflicts": 0}

    stranger = await api.signed_in()
    for path in ("list", "counters"):
        refused = await api.client.get(
            f"/events/{event['id']}/check-ins/{path}", headers=stranger.headers
        )
        assert refused.status_code == 403
    batch = await api.client.post(
        f"/events/{event['id']}/check-ins/offline",
        headers=stranger.headers,
        json={"scans": [_scan(ticket, "Door X")]},
    )
    assert batch.status_code == 403


async def test_a_scan_keeps_to_its_statement_budget(api: Api, backend: str) -> None:
    """The door's hot path, counted (the benchmark measures its speed; this catches a statement
    added by accident). The readable route (SQLite): a first scan by door staff is the session
    check, the event, the grant, the scan's claim, the ticket read with its booking's lock and
    buyer, its admission, the scan's outcome and the outbox row; a repeat scan needs no
    admission, no outbox row, but who scanned it first and on which device. PostgreSQL's
    express path (api/bookings/express.py): one statement (the ticket read with the caller's
    right to this door, then admitted, with the scan and the outbox row); a repeat scan is that
    statement admitting nothing, then the route's."""
    statements: list[str] = []
    express = getattr(api.app.state, "express", None)
    if express is not None:  # its connections are its own, opened on first use
        express.query_loggers.append(lambda logged: statements.append(logged.query))
    owner = await api.signed_in(Role.organizer)
    event = await _free_event(api, owner)
    ticket, _other = await _tickets(api, event, 2)
    staff = await api.signed_in(full_name="Sam Door")
    granted = await api.client.post(
        "/staff-grants", headers=owner.headers, json={"email": staff.email, "event_id": event["id"]}
    )
    assert granted.status_code == 201, granted.text

    def count(*args: Any) -> None:
        if not str(args[2]).startswith("BEGIN"):  # SQLite's own BEGIN IMMEDIATE
            statements.append(str(args[2]))

    statements.clear()
    engine = api.app.state.engine.sync_engine
    door = f"/events/{event['id']}/check-ins"
    sqlalchemy.event.listen(engine, "before_cursor_execute", count)
    try:
        first = await api.client.post(
            door, headers=staff.headers, json={"payload": ticket["qr_payload"]}
        )
        first_count = len(statements)
        statements.clear()
        again = await api.client.post(
            door, headers=staff.headers, json={"payload": ticket["qr_payload"]}
        )
    finally:
        sqlalchemy.event.remove(engine, "before_cursor_execute", count)
    assert first.json()["outcome"] == "admitted"
    assert again.json()["outcome"] == "already"
    if backend == "postgresql":
        assert first_count == 1, statements  # the event was read when its tickets were booked
        assert len(statements) <= 11, statements
    else:
        assert first_count <= 8, statements
        assert len(statements) <= 10, statements
