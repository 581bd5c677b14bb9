"""The door's pages, on both databases: the events a person works the door of, the scanner's
typed code without the script, and the JSON its script calls (form token required)."""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy

from api.db import utcnow
from api.users.models import Role
from tests.api.factories import Api, TestUser
from tests.api.test_door_staff import _grant, _tickets
from tests.api.test_tickets import _free_event
from tests.pages.test_account_and_storefront import form_token, post_form

VENDOR = Path(__file__).resolve().parents[2] / "api" / "pages" / "static" / "vendor"
JSQR_SHA256 = "bc40c8a15196236b2314db0856f72ca0b49980cd5413b8c852a7349f5fee0859"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


async def staff_browser(api: Api, name: str = "Sam Door") -> TestUser:
    """A door staff member's account, signed in by cookie (the client's browser)."""
    api.client.cookies.clear()
    staff = await api.make_user(full_name=name)
    signed = await post_form(
        api, "/account/sign-in", {"email": staff.email, "password": staff.password}
    )
    assert signed.status_code == 303, signed.text
    return staff


def test_the_pinned_qr_reader_is_the_one_published() -> None:
    digest = hashlib.sha256((VENDOR / "jsQR-1.4.0.js").read_bytes()).hexdigest()
    assert digest == JSQR_SHA256
    assert JSQR_SHA256 in (VENDOR / "README.md").read_text()


async def test_staff_see_their_doors_and_check_in_by_typed_code(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _free_event(api, owner, title="Harbour Jazz Night")
    first, second = await _tickets(api, event, 2)
    staff = await staff_browser(api)
    nothing = await api.client.get("/door")
    assert "You check tickets at no event yet" in nothing.text
    assert 'id="doors"' not in (await api.client.get("/my/bookings")).text
    refused = await api.client.get(f"/door/{event['id']}")
    assert refused.status_code == 403

    await _grant(api, owner, staff.email, event["id"])
    doors = await api.client.get("/door")
    assert f'href="/door/{event["id"]}"' in doors.text
    # Staff who are attendees find their doors where they find their own bookings.
    mine = await api.client.get("/my/bookings")
    assert f'href="/door/{event["id"]}">Check tickets for Harbour Jazz Night' in mine.text
    page = await api.client.get(f"/door/{event['id']}")
    assert page.status_code == 200
    assert re.search(r'id="door-in">0</strong>.*id="door-expected">2</strong>', page.text, re.S)

    code = first["qr_payload"].split(".")[1]
    fields = {"csrf_token": form_token(page), "code": code, "device": "Door 1"}
    admitted = await api.client.post(f"/door/{event['id']}/scan", data=fields)
    assert admitted.status_code == 200
    assert "door-answer ok" in admitted.text
    assert "Admitted" in admitted.text
    assert "Bea Buyer" in admitted.text
    again = await api.client.post(f"/door/{event['id']}/scan", data=fields)
    assert "door-answer bad" in again.text
    assert "Already checked in" in again.text
    assert re.search(r"First scanned .* by Sam Door at Door 1", again.text)
    forged = await api.client.post(
        f"/door/{event['id']}/scan",
        data=fields | {"code": second["qr_payload"][:-2] + "zz"},
    )
    assert forged.status_code == 422
    assert "Not valid" in forged.text
    assert "This ticket&#39;s signature is not valid." in forged.text
    assert len(await api.outbox("ticket.checked_in")) == 1


async def test_the_scanner_script_needs_the_pages_token_and_gets_json(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await _free_event(api, owner)
    ticket, other = await _tickets(api, event, 2)
    staff = await staff_browser(api)
    await _grant(api, owner, staff.email, None)
    page = await api.client.get(f"/door/{event['id']}")
    token = re.search(r'data-token="([^"]+)"', page.text)
    assert token is not None
    scan: dict[str, Any] = {
        "scan_id": str(uuid.uuid4()),
        "payload": ticket["qr_payload"],
        "device": "Door 1",
    }

    no_token = await api.client.post(f"/door/{event['id']}/scan.json", json=scan)
    assert no_token.status_code == 403
    assert no_token.json()["code"] == "page.form_expired"
    headers = {"X-CSRF-Token": token.group(1)}
    statements: list[str] = []

    def count(*args: Any) -> None:
        if not str(args[2]).startswith("BEGIN"):  # SQLite's own BEGIN IMMEDIATE
            statements.append(str(args[2]))

    engine = api.app.state.engine.sync_engine
    sqlalchemy.event.listen(engine, "before_cursor_execute", count)
    try:
        answer = await api.client.post(f"/door/{event['id']}/scan.json", json=scan, headers=headers)
    finally:
        sqlalchemy.event.remove(engine, "before_cursor_execute", count)
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "admitted"
    # The phone's scan: the API's eight statements and the counters, nothing read twice.
    assert len(statements) <= 9, statements
    assert answer.json()["counters"] == {"expected": 2, "checked_in": 1, "conflicts": 0}

    listed = await api.client.get(f"/door/{event['id']}/list.json")
    code = other["qr_payload"].split(".")[1]
    entry = listed.json()["tickets"][hashlib.sha256(code.encode()).hexdigest()]
    assert entry == {"name": "Bea Buyer", "type": "General admission", "in": False}

    offline = [
        {
            **scan,
            "scan_id": str(uuid.uuid4()),
            "scanned_at": utcnow().isoformat(),
            "device": "Door 2",
        },
        {"scan_id": str(uuid.uuid4()), "payload": code, "scanned_at": utcnow().isoformat()},
    ]
    sent = await api.client.post(
        f"/door/{event['id']}/offline.json", json={"scans": offline}, headers=headers
    )
    results = sent.json()["results"]
    assert [r["outcome"] for r in results] == ["conflict", "admitted"]
    assert results[0]["first"].endswith("by Sam Door at Door 1")
    assert sent.json()["counters"] == {"expected": 2, "checked_in": 2, "conflicts": 1}

    api.client.cookies.clear()
    signed_out = await api.client.get(f"/door/{event['id']}/list.json")
    assert signed_out.status_code == 401
