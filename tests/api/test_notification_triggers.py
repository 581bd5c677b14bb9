"""What triggers which message (with the embedded mailer: .eml files): waitlist offers,
cancellations, refunds with their credit note, reminders, locales and escaping."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from pypdf import PdfReader

from api.bookings import service as bookings_service
from api.db import utcnow
from api.payments import service as payments_service
from api.users.models import Role
from tests.api.factories import Api, TestUser
from tests.api.test_bookings import _book
from tests.api.test_events import published_event, ticket_body
from tests.api.test_payments import _pay
from tests.api.test_waitlist import _join


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


def _text(api: Api, to: str, subject_part: str) -> str:
    mails = [m for m in api.mails(to) if subject_part in m["Subject"]]
    assert len(mails) == 1, [m["Subject"] for m in api.mails(to)]
    part = mails[0].get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


async def test_a_freed_seat_is_offered_to_the_waitlist_by_email(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(quantity=1, price_cents=0)])
    holder = await api.signed_in()
    booking = (await _book(api, holder, event, (0, 1))).json()
    fan = await api.signed_in()
    assert (await _join(api, fan, event)).status_code == 201
    cancelled = await api.client.post(f"/bookings/{booking['id']}/cancel", headers=owner.headers)
    assert cancelled.status_code == 200, cancelled.text
    await api.deliver_notifications()
    body = _text(api, fan.email, "is yours")
    assert "held for you until" in body
    assert "/bookings/" in body
    # The holder hears the booking was cancelled (it was confirmed), once.
    assert "is cancelled" in _text(api, holder.email, "is cancelled")
    await api.deliver_notifications()
    assert len(api.mails(fan.email)) == 1


async def test_a_refund_mails_the_credit_note(api: Api) -> None:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(price_cents=4000, quantity=10)])
    buyer = await api.signed_in()
    booking = (await _book(api, buyer, event, (0, 1))).json()
    assert (await _pay(api, buyer, booking, "pm_card_visa")).json()["status"] == "succeeded"
    await api.deliver_notifications()
    cancelled = await api.client.post(f"/bookings/{booking['id']}/cancel", headers=owner.headers)
    assert cancelled.status_code == 200, cancelled.text
    state = api.app.state
    await payments_service.refund_cancelled_bookings(state.sessionmaker, state.payment_providers)
    await api.deliver_notifications()
    [refund] = [m for m in api.mails(buyer.email) if "refund" in m["Subject"].lower()]
    [pdf] = [p for p in refund.iter_attachments() if p.get_content_type() == "application/pdf"]
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.get_content())).pages)
    assert "Credit note" in text


async def _starting_soon(api: Api, buyer: TestUser) -> dict[str, Any]:
    owner = await api.signed_in(Role.organizer)
    starts = utcnow() + timedelta(days=2)
    event = await published_event(
        api,
        owner,
        tickets=[ticket_body(price_cents=0, quantity=5)],
        starts_at=starts.isoformat(),
        ends_at=(starts + timedelta(hours=2)).isoformat(),
    )
    await _book(api, buyer, event, (0, 2))
    return event


async def test_reminders_a_day_and_an_hour_before_in_the_persons_language(api: Api) -> None:
    buyer = await api.signed_in()
    german = await api.client.put(
        "/users/profile",
        headers=buyer.headers,
        json={"locale": "de-AT", "timezone": "Europe/Vienna"},
    )
    assert german.status_code == 200, german.text
    event = await _starting_soon(api, buyer)
    await api.deliver_notifications()
    confirmation = _text(api, buyer.email, "Deine Tickets")
    assert "Hallo" in confirmation
    starts = event["starts_at"]
    start = datetime.fromisoformat(starts.replace("Z", "+00:00"))
    async with api.app.state.sessionmaker() as session:
        await bookings_service.announce_reminders(session, now=start - timedelta(hours=23))
        await session.commit()
    await api.deliver_notifications()
    day_before = [m for m in api.mails(buyer.email) if m["Subject"].startswith("Morgen")]
    assert len(day_before) == 1
    assert any(p.get_filename().startswith("tickets-") for p in day_before[0].iter_attachments())
    # Times are shown in the person's time zone.
    assert "CET" in _text(api, buyer.email, "Morgen") or "CEST" in _text(api, buyer.email, "Morgen")
    async with api.app.state.sessionmaker() as session:
        await bookings_service.announce_reminders(session, now=start - timedelta(minutes=50))
        await session.commit()
    await api.deliver_notifications()
    # No German wording for the last reminder: English, the fallback.
    assert "Have your tickets ready" in _text(api, buyer.email, "Starting soon")
    inbox = (await api.client.get("/notifications", headers=buyer.headers)).json()
    assert [i["trigger"] for i in inbox["items"]] == [
        "reminder_1h",
        "reminder_24h",
        "booking_confirmed",
    ]


async def test_names_are_escaped_in_html_and_left_alone_in_text(api: Api) -> None:
    buyer = await api.signed_in(full_name="<b>Eve</b> & Co")
    owner = await api.signed_in(Role.organizer)
    event = await published_event(api, owner, tickets=[ticket_body(price_cents=0, quantity=5)])
    await _book(api, buyer, event, (0, 1))
    await api.deliver_notifications()
    [mail] = api.mails(buyer.email)
    html = mail.get_body(preferencelist=("html",))
    text = mail.get_body(preferencelist=("plain",))
    assert html is not None
    assert text is not None
    assert "&lt;b&gt;Eve&lt;/b&gt; &amp; Co" in html.get_content()
    assert "<b>Eve</b>" not in html.get_content()
    assert "Hello <b>Eve</b> & Co" in text.get_content()
