"""An organizer runs an event from the pages alone, in a real browser (Playwright driving Debian's
Chromium, 360 px wide): creates a draft with two ticket types and an image, publishes it; a buyer
books and pays through the storefront; the organizer finds the booking, refunds one seat and
invites a member of the door staff, who checks the buyer in by the ticket's typed code and, on a
second scan, sees when and by whom it was first admitted. Every page is checked with axe-core and
photographed."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from playwright.async_api import Browser, FilePayload, Page, expect

from api.users.models import Role
from tests.api.factories import Api
from tests.pages.browsing import browser, looked_at, needs_chromium, phone, sign_in

__all__ = ["browser"]

needs_chromium()


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


def _poster() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 180), (30, 60, 120)).save(out, format="PNG")
    return out.getvalue()


async def _add_ticket_type(page: Page, name: str, price: str, quantity: str) -> None:
    await page.locator("#f-ticket_name").fill(name)
    await page.locator("#f-ticket_price").fill(price)
    await page.locator("#f-ticket_quantity").fill(quantity)
    await page.get_by_role("button", name="Add the ticket type").click()
    await expect(page.get_by_role("row", name=re.compile(name))).to_be_visible()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_organizer_runs_an_event_from_the_pages_to_the_door(
    api: Api, served: str, browser: Browser
) -> None:
    owner = await api.signed_in(Role.organizer, full_name="Olu Organizer")
    buyer = await api.signed_in(full_name="Bea Buyer")
    staff = await api.make_user(full_name="Sam Door")
    berlin = ZoneInfo("Europe/Berlin")
    starts = datetime.now(berlin).replace(second=0, microsecond=0) + timedelta(hours=3)

    # The organizer makes the event: a draft, two ticket types, an image, then publishes.
    organizer = await phone(browser)
    page = await organizer.new_page()
    await sign_in(page, served, owner.email, owner.password, "/organizer/events/new")
    await page.get_by_role("button", name="Create the draft").click()
    await expect(page.locator("#f-title-error")).to_be_visible()
    await looked_at(page, "office-04-new-event-refused")
    await page.get_by_label("Title", exact=True).fill("Harbour Lights Festival")
    await page.get_by_label("Description", exact=True).fill("Lanterns on the **Elbe**, music.")
    await page.get_by_label("Venue", exact=True).fill("Elbphilharmonie Plaza")
    await page.get_by_label("City", exact=True).fill("Hamburg")
    await page.get_by_label("Country", exact=True).fill("DE")
    ends = starts + timedelta(hours=4)
    await page.get_by_label("Starts", exact=True).fill(starts.strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_label("Ends", exact=True).fill(ends.strftime("%Y-%m-%dT%H:%M"))
    await looked_at(page, "office-11-new-event")
    await page.get_by_role("button", name="Create the draft").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Harbour Lights Festival")
    event_id = page.url.rsplit("/", 1)[1]
    await _add_ticket_type(page, "Standing", "25.00", "50")
    await _add_ticket_type(page, "Balcony", "40.00", "20")
    await page.locator("#f-image").set_input_files(
        files=FilePayload(name="lanterns.png", mimeType="image/png", buffer=_poster())
    )
    await page.get_by_label("What it shows (for screen readers)").fill("Lanterns on the river")
    await page.get_by_role("button", name="Add the image").click()
    poster = page.get_by_role("img", name="Lanterns on the river")
    await expect(poster).to_be_visible()
    assert await poster.evaluate("i => i.decode().then(() => i.naturalWidth)") == 320  # served
    await looked_at(page, "office-12-draft-with-tickets-and-image")
    await page.get_by_role("button", name="Publish").click()
    await expect(page.locator(".status-published")).to_be_visible()

    # A buyer books two standing places through the storefront and pays.
    shop = await phone(browser)
    bought = await shop.new_page()
    await sign_in(bought, served, buyer.email, buyer.password, "/")
    await bought.goto(f"{served}/event/harbour-lights-festival")
    await expect(bought.get_by_role("img", name="Lanterns on the river")).to_be_visible()
    await bought.get_by_label("How many: Standing").select_option("2")
    await bought.get_by_role("button", name="Book").click()
    await bought.get_by_label("4242 4242 4242 4242 · Payment succeeded.").check()
    await bought.get_by_role("button", name="Pay €50.00").click()
    await expect(bought.get_by_text("Your booking is confirmed.")).to_be_visible()
    await shop.close()

    # The organizer sees the sale, finds the booking and refunds one seat.
    await page.goto(f"{served}/organizer/events")
    await expect(page.get_by_text("2 / ")).to_be_visible()
    await looked_at(page, "office-01-my-events")
    await page.get_by_role("link", name="Harbour Lights Festival").click()
    await looked_at(page, "office-03-event-editor")
    await page.get_by_role("link", name="Attendees").click()
    await page.get_by_label("Name, email or booking reference").fill(buyer.email)
    await page.keyboard.press("Enter")
    await expect(page.get_by_text("1 booking", exact=False)).to_be_visible()
    await looked_at(page, "office-05-attendees")
    await page.get_by_role("link", name=re.compile(r"^[0-9A-F]{8}$")).first.click()
    await expect(page.get_by_role("heading", name="History")).to_be_visible()
    await page.get_by_label("Amount (EUR)").fill("25.00")
    await page.get_by_label("Reason").fill("One seat returned")
    await page.get_by_role("button", name="Refund").click()
    await expect(page.get_by_text("The refund is on its way.")).to_be_visible()
    await expect(page.get_by_text("€25.00 refunded")).to_be_visible()
    await looked_at(page, "office-06-booking")
    await page.goto(f"{served}/organizer/money")
    await expect(page.get_by_role("heading", name="Invoices and credit notes")).to_be_visible()
    await looked_at(page, "office-07-money")

    # The organizer invites door staff for this event.
    await page.goto(f"{served}/organizer/team")
    await page.get_by_label("Email").fill(staff.email)
    await page.get_by_label("Where").select_option(label="Harbour Lights Festival")
    await page.get_by_role("button", name="Invite").click()
    await expect(page.get_by_role("button", name=f"Remove {staff.email}")).to_be_visible()
    await looked_at(page, "office-02-team")
    await organizer.close()

    # The door staff member checks the buyer in by the typed code, then scans it again.
    [booking] = (await api.client.get("/users/me/bookings", headers=buyer.headers)).json()["items"]
    tickets = await api.client.get(f"/bookings/{booking['id']}/tickets", headers=buyer.headers)
    code = tickets.json()[0]["qr_payload"].split(".")[1]
    door = await phone(browser)
    page = await door.new_page()
    await sign_in(page, served, staff.email, staff.password, "/my/bookings")
    await page.get_by_role("link", name="Check tickets for Harbour Lights Festival").click()
    await expect(page.locator("#door-expected")).to_have_text("2")
    await page.get_by_label("Ticket code").fill(code)
    await page.keyboard.press("Enter")
    answer = page.locator("#door-answer")
    await expect(answer.locator(".door-verdict")).to_have_text("Admitted")
    await expect(answer).to_contain_text("Bea Buyer")
    await expect(answer).to_contain_text("Standing")
    await looked_at(page, "door-07-admitted-after-the-journey")
    await answer.click()
    await page.get_by_label("Ticket code").fill(code)
    await page.keyboard.press("Enter")
    await expect(answer.locator(".door-verdict")).to_have_text("Already checked in")
    await expect(answer).to_contain_text("by Sam Door")
    await expect(page.locator("#door-in")).to_have_text("1")
    await door.close()

    after = await api.client.get(f"/bookings/{booking['id']}/tickets", headers=buyer.headers)
    assert sorted(t["checked_in_at"] is not None for t in after.json()) == [False, True]
    assert {t["ticket_type_id"] for t in after.json()} == {booking["lines"][0]["ticket_type_id"]}
    payments = await api.client.get(f"/bookings/{booking['id']}", headers=buyer.headers)
    assert payments.json()["status"] == "confirmed"
    sales = await api.client.get(f"/events/{event_id}", headers=owner.headers)
    assert [t["name"] for t in sales.json()["ticket_types"]] == ["Standing", "Balcony"]
