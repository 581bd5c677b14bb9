"""Invoices and credit notes: numbered without gaps per organizer, frozen when issued, and
rendered as PDF. Callers commit.

A number is taken from the organizer's counter row in the invoice's own transaction: the row
stays locked until that transaction ends, so concurrent payments queue for it, and a rollback
gives the number back. Amounts and dates are shown in the buyer's locale (kept on the invoice
when it is issued, so the document reads the same every time); text the PDF's built-in fonts
cannot show is replaced in the PDF only (api/pdf.py), the stored invoice keeps it.
"""

from __future__ import annotations

import uuid
from contextlib import suppress
from typing import Any

from fpdf import FPDF
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api import outbox, pdf
from api.bookings import service as bookings_service
from api.formatting import format_day, format_money, format_rate
from api.payments.models import Invoice, InvoiceCounter, InvoiceKind, Payment, Refund
from api.users import service as users


async def _next_number(session: AsyncSession, organizer_id: uuid.UUID) -> int:
    while True:
        taken = await session.execute(
            update(InvoiceCounter)
            .where(InvoiceCounter.organizer_id == organizer_id)
            .values(last_number=InvoiceCounter.last_number + 1)
            .returning(InvoiceCounter.last_number)
        )
        number = taken.scalar_one_or_none()
        if number is not None:
            return int(number)
        # The organizer's first invoice: create the counter (or find it created concurrently)
        # and take the number from it on the next turn.
        with suppress(IntegrityError):
            async with session.begin_nested():
                session.add(InvoiceCounter(organizer_id=organizer_id, last_number=0))


def _party(user: Any) -> dict[str, Any]:
    return {"id": str(user.id), "name": user.full_name, "email": user.email}


def _buyer(user: Any) -> dict[str, Any]:
    """The buyer as the invoice names them, and the locale it is shown in."""
    return _party(user) | {"locale": user.locale}


async def _issue(
    session: AsyncSession,
    *,
    payment: Payment,
    kind: InvoiceKind,
    lines: list[dict[str, Any]],
    refund: Refund | None = None,
) -> Invoice:
    sequence = await _next_number(session, payment.organizer_id)
    prefix = "INV" if kind == InvoiceKind.invoice else "CN"
    seller = await users.get(session, user_id=payment.organizer_id)
    buyer = await users.get(session, user_id=payment.user_id)
    invoice = Invoice(
        id=uuid.uuid4(),
        organizer_id=payment.organizer_id,
        sequence=sequence,
        number=f"{prefix}-{payment.organizer_id.hex[:6].upper()}-{sequence:06d}",
        kind=kind,
        booking_id=payment.booking_id,
        payment_id=payment.id,
        refund_id=refund.id if refund else None,
        currency=payment.currency,
        net_cents=sum(int(line["net_cents"]) for line in lines),
        tax_cents=sum(int(line["tax_cents"]) for line in lines),
        gross_cents=sum(int(line["gross_cents"]) for line in lines),
        seller=_party(seller),
        buyer=_buyer(buyer),
        lines=lines,
    )
    session.add(invoice)
    await outbox.record(session, f"{kind.value}.issued", invoice)
    return invoice


async def issue_invoice(session: AsyncSession, *, payment: Payment) -> Invoice:
    """The invoice of a paid booking: its lines with net, tax and gross."""
    lines = await bookings_service.invoice_lines(session, booking_id=payment.booking_id)
    return await _issue(session, payment=payment, kind=InvoiceKind.invoice, lines=lines)


async def issue_credit_note(session: AsyncSession, *, payment: Payment, refund: Refund) -> Invoice:
    """A credit note for a refund: the amount back, its tax in the invoice's proportion
    (rounded half up)."""
    invoice = await session.scalar(
        select(Invoice).where(Invoice.payment_id == payment.id, Invoice.kind == InvoiceKind.invoice)
    )
    gross = refund.amount_cents
    tax = 0
    if invoice is not None and invoice.gross_cents:
        tax = (2 * gross * invoice.tax_cents + invoice.gross_cents) // (2 * invoice.gross_cents)
    against = f" against {invoice.number}" if invoice is not None else ""
    line = {
        "description": f"Refund{against}",
        "quantity": 1,
        "unit_price_cents": -gross,
        "net_cents": -(gross - tax),
        "tax_name": None,
        "tax_rate_bps": None,
        "tax_inclusive": True,
        "tax_cents": -tax,
        "gross_cents": -gross,
    }
    return await _issue(
        session, payment=payment, kind=InvoiceKind.credit_note, lines=[line], refund=refund
    )


async def for_booking(session: AsyncSession, *, booking_id: uuid.UUID) -> list[Invoice]:
    rows = await session.scalars(
        select(Invoice).where(Invoice.booking_id == booking_id).order_by(Invoice.issued_at)
    )
    return list(rows)


def render_pdf(documents: list[Invoice], *, locale: str | None = None) -> bytes:
    """One page per invoice or credit note: parties, lines, tax summary and totals, with amounts
    and dates in `locale` (by default the buyer's, as kept on each document)."""
    out = pdf.document("A4")
    out.set_auto_page_break(auto=True, margin=15)
    for doc in documents:
        _page(out, doc, locale or doc.buyer.get("locale"))
    return bytes(out.output())


def _page(out: FPDF, doc: Invoice, locale: str | None) -> None:
    def money(cents: int) -> str:
        return format_money(cents, doc.currency, locale)

    def line_of(text: str, height: float = 6) -> None:
        out.cell(0, height, pdf.text(text), new_x="LMARGIN", new_y="NEXT")

    out.add_page()
    title = "Invoice" if doc.kind == InvoiceKind.invoice else "Credit note"
    out.set_font("Helvetica", "B", 16)
    line_of(f"{title} {doc.number}", 10)
    out.set_font("Helvetica", "", 10)
    line_of(f"Issued {format_day(doc.issued_at, locale)}")
    line_of(f"Booking {doc.booking_id}")
    out.ln(4)
    for label, party in (("Seller", doc.seller), ("Buyer", doc.buyer)):
        line_of(f"{label}: {party['name']} <{party['email']}>")
    out.ln(4)
    out.set_font("Helvetica", "B", 10)
    for text, width in (("Item", 70), ("Qty", 12), ("Net", 34), ("Tax", 38), ("Gross", 36)):
        out.cell(width, 7, text, border="B")
    out.ln()
    out.set_font("Helvetica", "", 10)
    for line in doc.lines:
        rate = line.get("tax_rate_bps")
        tax_label = f" ({format_rate(int(rate), locale)})" if rate else ""
        out.cell(70, 7, pdf.text(str(line["description"]))[:42])
        out.cell(12, 7, str(line["quantity"]))
        out.cell(34, 7, pdf.text(money(int(line["net_cents"]))))
        out.cell(38, 7, pdf.text(money(int(line["tax_cents"])) + tax_label))
        out.cell(36, 7, pdf.text(money(int(line["gross_cents"]))))
        out.ln()
    out.ln(4)
    summary: dict[str, int] = {}
    for line in doc.lines:
        if line.get("tax_rate_bps"):
            rate = format_rate(int(line["tax_rate_bps"]), locale)
            key = f"{line.get('tax_name') or 'Tax'} {rate}"
            summary[key] = summary.get(key, 0) + int(line["tax_cents"])
    for key, cents in summary.items():
        line_of(f"{key}: {money(cents)}")
    out.set_font("Helvetica", "B", 11)
    for label, cents in (
        ("Net total", doc.net_cents),
        ("Tax total", doc.tax_cents),
        ("Total", doc.gross_cents),
    ):
        line_of(f"{label}: {money(cents)}", 7)
