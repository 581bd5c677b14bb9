"""The attendee list of an event, one row per seat, as the API, the back office and the door
show it, and as the CSV file they download."""

from __future__ import annotations

import csv
import io

from fastapi.responses import Response

from api.bookings.queries import AttendeeLine, effective_status
from api.bookings.schemas import AttendeeOut
from api.events import Event


def rows(lines: list[AttendeeLine]) -> list[AttendeeOut]:
    """One row per seat: its ticket once issued, else the name given for it."""
    result = []
    for item in lines:
        names = item.line.attendee_names or []
        for seat in range(item.line.quantity):
            ticket = item.tickets[seat] if seat < len(item.tickets) else None
            name = names[seat] if seat < len(names) else None
            result.append(
                AttendeeOut(
                    booking_id=item.booking.id,
                    booking_status=effective_status(item.booking),
                    booked_at=item.booking.created_at,
                    buyer_id=item.buyer.id,
                    buyer_name=item.buyer.full_name,
                    buyer_email=item.buyer.email,
                    ticket_type_id=item.ticket_type.id,
                    ticket_type=item.ticket_type.name,
                    unit_price_cents=item.line.unit_price_cents,
                    currency=item.booking.currency,
                    ticket_id=ticket.id if ticket else None,
                    ticket_code=ticket.code if ticket else None,
                    attendee_name=ticket.attendee_name if ticket else name,
                    checked_in_at=ticket.checked_in_at if ticket else None,
                )
            )
    return result


CSV_COLUMNS = list(AttendeeOut.model_fields)


def _csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: formulas are neutralised (CSV injection)."""
    text = "" if value is None else str(value.value if hasattr(value, "value") else value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_file(rows: list[AttendeeOut], event: Event) -> Response:
    """Every row as a spreadsheet-safe CSV download."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_csv_cell(getattr(row, column)) for column in CSV_COLUMNS])
    return Response(
        content=out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="attendees-{event.slug}.csv"'},
    )
