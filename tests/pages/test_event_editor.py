"""The organizer's event editor, on both databases: a draft made and corrected from a form
(what was wrong beside its field), ticket types added, published, duplicated, a draft deleted,
and an event cancelled with a reason, after the page said what that refunds."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from api.users.models import Role
from tests.api.factories import Api
from tests.pages.test_account_and_storefront import form_token
from tests.pages.test_back_office import browser_as

EVENT = {
    "title": "Harbour Jazz Night",
    "description": "Three bands by the **Elbe**.",
    "category_id": "",
    "tags": "jazz, live",
    "venue_name": "Pier 7",
    "venue_address": "",
    "venue_city": "Hamburg",
    "venue_country": "DE",
    "online_url": "",
    "timezone": "Europe/Berlin",
    "starts_at": "2030-06-12T19:30",
    "ends_at": "2030-06-12T23:00",
    "visibility": "public",
    "capacity": "200",
    "currency": "EUR",
    "attendee_cancellation_hours": "24",
    "waitlist_offer_hours": "24",
    "checkin_opens_minutes_before": "360",
}
TICKET = {
    "ticket_name": "Standing",
    "ticket_price": "25.00",
    "ticket_quantity": "150",
    "ticket_min_per_order": "1",
    "ticket_max_per_order": "6",
    "ticket_tax_name": "VAT",
    "ticket_tax_rate": "19",
    "ticket_tax_inclusive": "on",
}


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


async def test_an_organizer_makes_a_draft_adds_tickets_publishes_and_duplicates(api: Api) -> None:
    owner = await browser_as(api, Role.organizer, "Olu Organizer")
    form = await api.client.get("/organizer/events/new")
    assert form.status_code == 200
    token = form_token(form)

    wrong = await api.client.post(
        "/organizer/events/new",
        data=EVENT | {"csrf_token": token, "title": "", "venue_country": "Germany"},
    )
    assert wrong.status_code == 422
    assert re.search(r'id="f-title-error"', wrong.text)
    assert re.search(r'id="f-venue_country-error"', wrong.text)
    assert 'value="Pier 7"' in wrong.text  # what was typed stays

    made = await api.client.post("/organizer/events/new", data=EVENT | {"csrf_token": token})
    assert made.status_code == 303, made.text
    editor_path = made.headers["location"]
    event_id = editor_path.rsplit("/", 1)[1]
    event = (await api.client.get(f"/events/{event_id}", headers=owner.headers)).json()
    assert event["status"] == "draft"
    assert event["starts_at"].startswith("2030-06-12T17:30")  # 19:30 in Berlin's summer
    assert event["venue"]["city"] == "Hamburg"

    editor = await api.client.get(editor_path)
    too_few = await api.client.post(
        f"{editor_path}/ticket-types",
        data=TICKET | {"csrf_token": token, "ticket_max_per_order": "0"},
    )
    assert too_few.status_code == 422
    assert 'id="f-ticket_max_per_order-error"' in too_few.text
    assert 'value="Standing"' in too_few.text
    added = await api.client.post(
        f"{editor_path}/ticket-types", data=TICKET | {"csrf_token": token}
    )
    assert added.status_code == 303, added.text
    [standing] = (await api.client.get(f"/events/{event_id}", headers=owner.headers)).json()[
        "ticket_types"
    ]
    assert (standing["price_cents"], standing["tax_rate_bps"]) == (2500, 1900)

    published = await api.client.post(f"{editor_path}/publish", data={"csrf_token": token})
    assert published.status_code == 303
    editor = await api.client.get(editor_path)
    assert "On sale" in editor.text
    renamed = await api.client.post(
        editor_path, data=EVENT | {"csrf_token": token, "title": "Harbour Jazz Late"}
    )
    assert renamed.status_code == 303, renamed.text
    assert "Harbour Jazz Late" in (await api.client.get(f"/events/{event_id}")).text

    copied = await api.client.post(f"{editor_path}/duplicate", data={"csrf_token": token})
    assert copied.status_code == 303
    copy_path = copied.headers["location"].split("?")[0]
    copy = await api.client.get(copy_path)
    assert "Draft" in copy.text
    assert "Standing" in copy.text
    deleted = await api.client.post(f"{copy_path}/delete", data={"csrf_token": token})
    assert (deleted.status_code, deleted.headers["location"]) == (303, "/organizer/events")
    gone = await api.client.get(copy_path)
    assert gone.status_code == 404

    # Nobody else's editor.
    await browser_as(api, Role.organizer, "Other Organizer")
    assert (await api.client.get(editor_path)).status_code == 403
    await browser_as(api, Role.attendee, "Ada Attendee")
    assert (await api.client.get("/organizer/events/new")).status_code == 403


async def test_cancelling_says_what_it_refunds_and_needs_a_reason(api: Api) -> None:
    owner = await browser_as(api, Role.organizer, "Olu Organizer")
    token = form_token(await api.client.get("/organizer/events/new"))
    made = await api.client.post("/organizer/events/new", data=EVENT | {"csrf_token": token})
    editor_path = made.headers["location"]
    await api.client.post(f"{editor_path}/ticket-types", data=TICKET | {"csrf_token": token})
    await api.client.post(f"{editor_path}/publish", data={"csrf_token": token})
    event_id = editor_path.rsplit("/", 1)[1]
    event = (await api.client.get(f"/events/{event_id}", headers=owner.headers)).json()
    buyer = await api.signed_in()
    booked = await api.client.post(
        "/bookings",
        headers=buyer.headers,
        json={
            "event_id": event_id,
            "lines": [{"ticket_type_id": event["ticket_types"][0]["id"], "quantity": 2}],
        },
    )
    paid = await api.client.post(
        f"/bookings/{booked.json()['id']}/payments",
        headers=buyer.headers,
        json={"payment_method": "pm_card_visa"},
    )
    assert paid.status_code == 201, paid.text

    editor = await api.client.get(editor_path)
    assert "2 confirmed seats and 0 on hold" in editor.text
    assert "refunded in full (€50.00)" in editor.text
    silent = await api.client.post(
        f"{editor_path}/cancel", data={"csrf_token": token, "reason": " "}
    )
    assert silent.status_code == 422
    assert 'id="f-reason-error"' in silent.text
    cancelled = await api.client.post(
        f"{editor_path}/cancel", data={"csrf_token": token, "reason": "The pier is flooded."}
    )
    assert cancelled.status_code == 303, cancelled.text
    after = (await api.client.get(f"/bookings/{booked.json()['id']}", headers=buyer.headers)).json()
    assert after["status"] == "cancelled"
    assert (
        "This event is cancelled. The pier is flooded."
        in (await api.client.get(f"/event/{event['slug']}")).text
    )


async def test_a_ticket_type_is_changed_with_its_sales_window(api: Api) -> None:
    owner = await browser_as(api, Role.organizer, "Olu Organizer")
    token = form_token(await api.client.get("/organizer/events/new"))
    made = await api.client.post("/organizer/events/new", data=EVENT | {"csrf_token": token})
    editor_path = made.headers["location"]
    windowed = TICKET | {"ticket_sales_end": "2030-06-01T12:00"}
    await api.client.post(f"{editor_path}/ticket-types", data=windowed | {"csrf_token": token})
    event_id = editor_path.rsplit("/", 1)[1]
    [standing] = (await api.client.get(f"/events/{event_id}", headers=owner.headers)).json()[
        "ticket_types"
    ]
    editor = await api.client.get(editor_path)
    assert f'id="t-{standing["id"]}-price" name="ticket_price" value="25.00"' in editor.text
    # The window shows in the event's time zone (Berlin, summer: UTC+2), as it was typed.
    end_field = f'id="t-{standing["id"]}-end" name="ticket_sales_end" type="datetime-local"'
    assert f'{end_field} value="2030-06-01T12:00"' in editor.text
    change = {
        "csrf_token": token,
        "ticket_name": "Standing",
        "ticket_price": "29.00",
        "ticket_quantity": "180",
        "ticket_min_per_order": "1",
        "ticket_max_per_order": "4",
        "ticket_tax_name": "VAT",
        "ticket_tax_rate": "19",
        "ticket_tax_inclusive": "on",
        "ticket_sales_start": "2030-05-01T09:30",
        "ticket_sales_end": "2030-05-20T18:00",
    }
    changed = await api.client.post(f"{editor_path}/ticket-types/{standing['id']}", data=change)
    assert changed.status_code == 303, changed.text
    [after] = (await api.client.get(f"/events/{event_id}", headers=owner.headers)).json()[
        "ticket_types"
    ]
    assert (after["price_cents"], after["quantity"], after["max_per_order"]) == (2900, 180, 4)
    assert standing["sales_end"].startswith("2030-06-01T10:00")
    assert after["sales_start"].startswith("2030-05-01T07:30")
    assert after["sales_end"].startswith("2030-05-20T16:00")
    reopened = await api.client.post(
        f"{editor_path}/ticket-types/{standing['id']}", data=change | {"ticket_sales_end": ""}
    )
    assert reopened.status_code == 303, reopened.text
    [cleared] = (await api.client.get(f"/events/{event_id}", headers=owner.headers)).json()[
        "ticket_types"
    ]
    assert cleared["sales_end"] is None
    assert cleared["sales_start"] == after["sales_start"]
    backwards = await api.client.post(
        f"{editor_path}/ticket-types/{standing['id']}",
        data=change | {"ticket_sales_end": "2030-04-01T09:00"},
    )
    assert backwards.status_code == 422
    assert 'class="alert" role="alert"' in backwards.text
    too_many = await api.client.post(
        f"{editor_path}/ticket-types/{standing['id']}", data=change | {"ticket_quantity": "900"}
    )
    assert too_many.status_code in (409, 422)
    assert 'class="alert" role="alert"' in too_many.text


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 80, 40)).save(out, format="PNG")
    return out.getvalue()


async def test_images_are_added_ordered_and_removed_and_the_description_previewed(
    api: Api,
) -> None:
    owner = await browser_as(api, Role.organizer, "Olu Organizer")
    token = form_token(await api.client.get("/organizer/events/new"))
    made = await api.client.post("/organizer/events/new", data=EVENT | {"csrf_token": token})
    editor_path = made.headers["location"]

    previewed = await api.client.post(
        editor_path,
        data=EVENT | {"csrf_token": token, "action": "preview", "title": "Not saved"},
    )
    assert previewed.status_code == 200
    assert "<strong>Elbe</strong>" in previewed.text
    assert 'value="Not saved"' in previewed.text
    assert "Not saved" not in (await api.client.get(editor_path)).text.split("<form")[0]

    not_an_image = await api.client.post(
        f"{editor_path}/images",
        data={"csrf_token": token},
        files={"image": ("notes.txt", b"plain text, not a picture", "text/plain")},
    )
    assert not_an_image.status_code == 415
    assert 'id="f-image-error"' in not_an_image.text
    added = await api.client.post(
        f"{editor_path}/images",
        data={"csrf_token": token, "alt_text": "The pier at dusk"},
        files={"image": ("pier.png", _photo(), "image/png")},
    )
    assert added.status_code == 303, added.text
    editor = await api.client.get(editor_path)
    assert 'alt="The pier at dusk"' in editor.text
    second = await api.client.post(
        f"{editor_path}/images",
        data={"csrf_token": token, "alt_text": "The crowd"},
        files={"image": ("crowd.png", _photo(), "image/png")},
    )
    assert second.status_code == 303, second.text
    editor = await api.client.get(editor_path)
    assert editor.text.index('alt="The pier at dusk"') < editor.text.index('alt="The crowd"')
    # The first image can only move later: the first move form is the pier's.
    later = re.findall(r'action="(/organizer/events/[^"]+/images/[^"]+/move)"', editor.text)[0]
    moved = await api.client.post(later, data={"csrf_token": token, "position": "1"})
    assert moved.status_code == 303, moved.text
    editor = await api.client.get(editor_path)
    assert editor.text.index('alt="The crowd"') < editor.text.index('alt="The pier at dusk"')
    event_id = editor_path.rsplit("/", 1)[1]
    shown = (await api.client.get(f"/events/{event_id}/media", headers=owner.headers)).json()
    assert [m["alt_text"] for m in shown] == ["The crowd", "The pier at dusk"]
    removal = re.findall(r'action="(/organizer/events/[^"]+/images/[^"]+/delete)"', editor.text)[1]
    removed = await api.client.post(removal, data={"csrf_token": token})
    assert removed.status_code == 303
    assert 'alt="The pier at dusk"' not in (await api.client.get(editor_path)).text
