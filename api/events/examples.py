"""The events domain's examples in the API document: one Harbour Jazz Night throughout."""

from __future__ import annotations

from pydantic.config import JsonDict

EVENT_ID = "3f1c6d2e-8a4b-4c1e-9f7a-2b5d0c9e1a77"
TICKET_TYPE_ID = "9b4e7a10-2c5d-4e8f-b3a6-1d0c9e8f7a65"
CATEGORY_ID = "2d6f8a3c-1b4e-4c7d-8e9f-0a1b2c3d4e5f"
VENUE_EXAMPLE: JsonDict = {
    "name": "Fischauktionshalle",
    "address": "Große Elbstraße 9, 22767 Hamburg",
    "city": "Hamburg",
    "country": "DE",
}
TICKET_TYPE_EXAMPLE: JsonDict = {
    "id": TICKET_TYPE_ID,
    "event_id": EVENT_ID,
    "name": "Standing",
    "description": "Standing room in front of the stage",
    "price_cents": 2500,
    "quantity": 250,
    "sales_start": "2027-03-01T10:00:00+01:00",
    "sales_end": "2027-06-12T18:00:00+02:00",
    "min_per_order": 1,
    "max_per_order": 6,
    "sort_order": 0,
    "tax_name": "VAT",
    "tax_rate_bps": 700,
    "tax_inclusive": True,
    "tax_country": "DE",
}
EVENT_EXAMPLE: JsonDict = {
    "id": EVENT_ID,
    "slug": "harbour-jazz-night",
    "title": "Harbour Jazz Night",
    "description": "Three bands, one stage by the **Elbe**.",
    "description_html": "<p>Three bands, one stage by the <strong>Elbe</strong>.</p>",
    "category_id": CATEGORY_ID,
    "tags": ["jazz", "live music"],
    "organizer_id": "7a2e9c41-5b3d-4f8e-a1c6-0d9b8e7f6a52",
    "venue": VENUE_EXAMPLE,
    "online_url": None,
    "starts_at": "2027-06-12T19:30:00+02:00",
    "ends_at": "2027-06-12T23:00:00+02:00",
    "timezone": "Europe/Berlin",
    "visibility": "public",
    "capacity": 300,
    "currency": "EUR",
    "status": "published",
    "cancellation_reason": None,
    "attendee_cancellation_hours": 24,
    "attendee_names_required": False,
    "waitlist_offer_hours": 24,
    "checkin_opens_minutes_before": 60,
    "published_at": "2027-02-20T09:00:00+01:00",
    "cancelled_at": None,
    "created_at": "2027-02-18T16:45:00+01:00",
    "updated_at": "2027-02-20T09:00:00+01:00",
    "price_min_cents": 2500,
    "price_max_cents": 2500,
    "ticket_types": [TICKET_TYPE_EXAMPLE],
}
