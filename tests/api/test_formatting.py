"""Amounts and times as people read them: each currency with its own minor digits, in the
reader's locale, in emails, tickets, invoices and credit notes (PDF text read back with pypdf)."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from email.message import EmailMessage
from typing import Any

import pytest
from pypdf import PdfReader

from api import pdf
from api.formatting import format_day, format_moment, format_money, format_rate, major_units
from api.payments import service as payments_service
from api.users.models import Role
from tests.api.factories import Api, TestUser
from tests.api.test_bookings import _book
from tests.api.test_events import published_event, ticket_body
from tests.api.test_payments import _pay

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("minor", "currency", "locale", "shown"),
    [
        (1500, "JPY", "en", "¥1,500"),  # no minor unit
        (1250, "BHD", "en", f"BHD{NBSP}1.250"),  # three
        (1250, "BHD", "de", f"1,250{NBSP}BHD"),
        (123456, "EUR", "de", f"1.234,56{NBSP}€"),
        (123456, "EUR", "de-DE", f"1.234,56{NBSP}€"),
        (123456, "EUR", "de-AT", f"€{NBSP}1.234,56"),
        (123456, "EUR", "en", "€1,234.56"),
        (-2500, "EUR", "en", "-€25.00"),
        (123456, "CHF", "en-GB", f"CHF{NBSP}1,234.56"),
        (123456, "EUR", "xx-YY", "€1,234.56"),  # a locale nobody knows reads as English
        (5000, "", "en", "50.00"),
    ],
)
def test_money_has_the_currencys_own_minor_digits_in_the_readers_format(
    minor: int, currency: str, locale: str, shown: str
) -> None:
    assert format_money(minor, currency, locale) == shown


def test_amounts_are_exact_however_large() -> None:
    assert major_units(1250, "BHD") == Decimal("1.250")
    assert major_units(1500, "JPY") == Decimal(1500)
    assert format_money(10**20 + 1, "EUR", "en") == "€1,000,000,000,000,000,000.01"


def test_rates_days_and_moments_in_the_readers_format() -> None:
    assert format_rate(1900, "en") == "19%"
    assert format_rate(750, "de") == f"7,5{NBSP}%"
    assert format_day(datetime(2027, 3, 14, tzinfo=UTC), "de") == "14.03.2027"
    assert format_day(datetime(2027, 3, 14, tzinfo=UTC), "en") == "Mar 14, 2027"
    moment = "2027-03-14T19:30:00+00:00"
    assert format_moment(moment, locale="de", timezone="Europe/Berlin") == (
        "So., 14. März 2027, 20:30 CET"
    )
    assert format_moment(moment, locale="en-GB", timezone="Europe/London") == (
        "Sun, 14 Mar 2027, 19:30 GMT"
    )
    assert format_moment(moment, locale="en", timezone="Asia/Tokyo") == (
        "Mon, Mar 15, 2027, 4:30\u202fAM JST"
    )
    assert format_moment(moment, locale="en", timezone="Not/AZone").endswith("7:30\u202fPM UTC")


def test_pdf_text_keeps_what_the_built_in_fonts_can_show() -> None:
    assert pdf.text(f"1\u202f234,56{NBSP}€") == f"1{NBSP}234,56{NBSP}€"
    assert pdf.text("\u2212\u20ac5 \uffe51,500 Zoë") == "-€5 ¥1,500 Zoë"
    assert pdf.text("東京") == "??"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _mail(api: Api, to: str, subject_part: str) -> EmailMessage:
    [found] = [m for m in api.mails(to) if subject_part in m["Subject"]]
    return found


def _plain(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _attachment(mail: EmailMessage, name_start: str) -> str:
    [found] = [p for p in mail.iter_attachments() if p.get_filename().startswith(name_start)]
    return _pdf_text(found.get_content())


async def _paid(
    api: Api, buyer: TestUser, *, currency: str, price: int, seats: int = 1
) -> tuple[TestUser, dict[str, Any]]:
    owner = await api.signed_in(Role.organizer)
    event = await published_event(
        api, owner, currency=currency, tickets=[ticket_body(price_cents=price, quantity=10)]
    )
    booking = (await _book(api, buyer, event, (0, seats))).json()
    paid = await _pay(api, buyer, booking, "pm_card_visa")
    assert paid.json()["status"] == "succeeded", paid.text
    return owner, booking


async def test_a_german_reader_gets_german_amounts_in_mail_tickets_invoice_and_credit_note(
    api: Api,
) -> None:
    buyer = await api.signed_in()
    german = await api.client.put(
        "/users/profile",
        headers=buyer.headers,
        json={"locale": "de-DE", "timezone": "Europe/Berlin"},
    )
    assert german.status_code == 200, german.text
    owner, booking = await _paid(api, buyer, currency="EUR", price=123456)
    await api.deliver_notifications()
    amount = f"1.234,56{NBSP}€"
    confirmation = _mail(api, buyer.email, "Deine Tickets")
    assert f"1 Ticket(s), {amount}." in _plain(confirmation)
    assert f"Booking {uuid.UUID(booking['id']).hex[:8].upper()}: 1 ticket(s), {amount}" in (
        _attachment(confirmation, "tickets-")
    )
    invoice = _attachment(confirmation, "INV-")
    assert f"Total: {amount}" in invoice
    assert f"Issued {datetime.now(UTC):%d.%m.%Y}" in invoice

    cancelled = await api.client.post(f"/bookings/{booking['id']}/cancel", headers=owner.headers)
    assert cancelled.status_code == 200, cancelled.text
    state = api.app.state
    await payments_service.refund_cancelled_bookings(state.sessionmaker, state.payment_providers)
    await api.deliver_notifications()
    # The refund has English wording only; the amount is still in the reader's format.
    refund = _mail(api, buyer.email, "refund")
    assert f"we refunded {amount} for booking" in _plain(refund)
    assert f"Total: -{amount}" in _attachment(refund, "INV-")  # the invoice, then its credit note


@pytest.mark.parametrize(
    ("currency", "price", "total"),
    [("JPY", 1500, "¥3,000"), ("BHD", 1250, f"BHD{NBSP}2.500")],
)
async def test_yen_and_dinar_are_shown_with_their_own_minor_digits_end_to_end(
    api: Api, currency: str, price: int, total: str
) -> None:
    buyer = await api.signed_in()
    _, booking = await _paid(api, buyer, currency=currency, price=price, seats=2)
    assert (booking["currency"], booking["total_cents"]) == (currency, 2 * price)
    await api.deliver_notifications()
    confirmation = _mail(api, buyer.email, "Your tickets")
    assert f"2 ticket(s), {total}." in _plain(confirmation)
    html = confirmation.get_body(preferencelist=("html",))
    assert html is not None
    assert f"<td>{total}</td>" in str(html.get_content())
    assert f"2 ticket(s), {total}" in _attachment(confirmation, "tickets-")
    assert f"Total: {total}" in _attachment(confirmation, "INV-")
    response = await api.client.get(f"/bookings/{booking['id']}/invoice", headers=buyer.headers)
    assert f"Total: {total}" in _pdf_text(response.content)
