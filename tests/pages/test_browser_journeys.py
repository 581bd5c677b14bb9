"""The storefront in a real browser (Playwright driving Debian's Chromium, 360 px wide like a
phone): a visitor searches with a typo, opens an event, signs up, confirms by the emailed link,
signs in by keyboard, signs out, and resets a forgotten password by the emailed link. Every page
is checked with axe-core and photographed into var/screenshots/storefront/ for people to see."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from api.users.models import Role
from tests.api.factories import Api
from tests.api.test_events import published_event, ticket_body
from tests.pages.browsing import browser, looked_at, needs_chromium, phone
from tests.pages.test_account_and_storefront import PASSWORD, link_in_mail

__all__ = ["browser"]

needs_chromium()


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    # Mail goes out when the test runs the worker, not after the response the browser saw.
    return {
        "rate_limit_login_ip": "1000/minute",
        "rate_limit_register_ip": "1000/minute",
        "deliver_notifications_inline": False,
    }


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_visitor_finds_an_event_signs_up_confirms_and_resets_a_password(
    api: Api, served: str, browser: Browser
) -> None:
    owner = await api.signed_in(Role.organizer)
    await published_event(
        api,
        owner,
        title="Harbour Jazz Night",
        tickets=[
            ticket_body(name="Standing", quantity=120),
            ticket_body(name="Front row", quantity=3, price_cents=9900),
        ],
    )
    await published_event(
        api, owner, title="Techno Marathon", description="Twelve hours of techno."
    )
    await api.sync_search_index()
    context = await phone(browser)
    page = await context.new_page()

    await page.goto(f"{served}/")
    await expect(page.get_by_role("heading", name="Upcoming events")).to_be_visible()
    await expect(page.get_by_role("link", name="Techno Marathon")).to_be_visible()
    await looked_at(page, "01-home")

    await page.get_by_role("combobox", name="Search events").fill("harbor jaz")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("link", name="Harbour Jazz Night")).to_be_visible()
    await expect(page.get_by_role("link", name="Techno Marathon")).to_have_count(0)
    await looked_at(page, "02-search-with-a-typo")

    await page.get_by_role("link", name="Harbour Jazz Night").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Harbour Jazz Night")
    await expect(page.get_by_text("3 left")).to_be_visible()
    await expect(page.get_by_text("€99.00")).to_be_visible()
    await looked_at(page, "03-event")

    await page.get_by_role("link", name="Sign up").click()
    await page.get_by_label("Your name").fill("Ada Lovelace")
    await page.get_by_label("Email").fill("ada@example.com")
    await page.get_by_label("Password").fill("short")
    await page.get_by_role("button", name="Sign up").click()
    await expect(page.locator("#f-password-error")).to_be_visible()
    await looked_at(page, "04-sign-up-refused")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign up").click()
    await expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    await looked_at(page, "05-check-your-email")

    await api.deliver_notifications()
    await page.goto(served + link_in_mail(api, "ada@example.com", "confirm"))
    await expect(page.get_by_role("heading", name="Your address is confirmed")).to_be_visible()
    await looked_at(page, "06-address-confirmed")

    # Signing in by keyboard alone.
    await page.goto(f"{served}/account/sign-in")
    await page.get_by_label("Email").focus()
    await page.keyboard.type("ada@example.com")
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page.get_by_text("Ada Lovelace")).to_be_visible()
    await looked_at(page, "07-signed-in")

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("link", name="Sign in")).to_be_visible()

    await page.get_by_role("link", name="Sign in").click()
    await page.get_by_role("link", name="Forgot your password?").click()
    await page.get_by_label("Email").fill("ada@example.com")
    await page.get_by_role("button", name="Send the link").click()
    await expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    await api.deliver_notifications()
    await page.goto(served + link_in_mail(api, "ada@example.com", "password"))
    await looked_at(page, "08-choose-a-new-password")
    await page.get_by_label("New password").fill("quiet-meadow-copper-71")
    await page.get_by_role("button", name="Save the new password").click()
    await expect(page.get_by_role("heading", name="Your password is changed")).to_be_visible()

    await page.get_by_role("link", name="Sign in").last.click()
    await page.get_by_label("Email").fill("ada@example.com")
    await page.get_by_label("Password").fill("quiet-meadow-copper-71")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_text("Ada Lovelace")).to_be_visible()
    await context.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_buyer_books_paid_and_free_seats_with_names_is_declined_pays_and_cancels(
    api: Api, served: str, browser: Browser
) -> None:
    owner = await api.signed_in(Role.organizer)
    await published_event(
        api,
        owner,
        title="Harbour Jazz Night",
        attendee_names_required=True,
        attendee_cancellation_hours=24,
        tickets=[
            ticket_body(name="Standing", quantity=50),
            ticket_body(name="Guest list", quantity=5, price_cents=0),
        ],
    )
    buyer = await api.make_user(full_name="Ada Lovelace", email="ada@example.com")
    context = await phone(browser)
    page = await context.new_page()

    await page.goto(f"{served}/event/harbour-jazz-night")
    await page.get_by_role("link", name="Sign in to book").click()
    await page.get_by_label("Email").fill(buyer.email)
    await page.get_by_label("Password").fill(buyer.password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Harbour Jazz Night")

    await page.get_by_label("How many: Standing").select_option("2")
    await page.get_by_label("Names of the attendees (Standing), one per line").fill(
        "Ada Lovelace\nCharles Babbage"
    )
    await page.get_by_label("How many: Guest list").select_option("1")
    await page.get_by_label("Names of the attendees (Guest list), one per line").fill(
        "Mary Somerville"
    )
    await looked_at(page, "10-event-chosen")
    await page.get_by_role("button", name="Book").click()

    await expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    await expect(page.get_by_text("Your seats are held until")).to_be_visible()
    await expect(page.get_by_text("€50.00").first).to_be_visible()
    await looked_at(page, "11-checkout")

    await page.get_by_label("4000 0000 0000 0002 · Your card was declined.").check()
    await page.get_by_role("button", name="Pay €50.00").click()
    await expect(page.get_by_role("alert")).to_contain_text("Your card was declined.")
    await looked_at(page, "12-declined")

    await page.get_by_label("4242 4242 4242 4242 · Payment succeeded.").check()
    await page.get_by_role("button", name="Pay €50.00").click()
    await expect(page.get_by_text("Your booking is confirmed.")).to_be_visible()
    await expect(page.get_by_role("img", name=re.compile("QR code of ticket"))).to_have_count(3)
    await expect(page.get_by_text("Mary Somerville")).to_be_visible()
    await looked_at(page, "13-tickets")

    await page.get_by_role("button", name="Cancel the booking").click()
    await expect(page.get_by_text("Cancelled").first).to_be_visible()
    await expect(page.get_by_role("button", name="Cancel the booking")).to_have_count(0)
    await looked_at(page, "14-cancelled")

    await page.get_by_role("link", name="My bookings").first.click()
    await expect(page.get_by_role("link", name="Harbour Jazz Night")).to_be_visible()
    await looked_at(page, "15-my-bookings")
    await context.close()
