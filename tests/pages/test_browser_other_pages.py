"""The pages the journeys pass by, in a real browser (Debian's Chromium, 360 px wide): the
forgotten-password form, the sandbox's authentication step, a bank transfer's instructions,
the unsubscribe page and an error page. Each is checked with axe-core and photographed."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from api.notifications.models import Category
from api.notifications.preferences import unsubscribe_url
from api.users.models import Role
from tests.api.factories import Api
from tests.api.test_events import published_event
from tests.pages.browsing import browser, looked_at, needs_chromium, phone

__all__ = ["browser"]

needs_chromium()


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_pages_between_the_journeys_pass_axe_at_phone_width(
    api: Api, served: str, browser: Browser
) -> None:
    owner = await api.signed_in(Role.organizer)
    await published_event(api, owner, title="Harbour Jazz Night")
    buyer = await api.make_user(full_name="Ada Lovelace", email="ada@example.com")
    context = await phone(browser)
    page = await context.new_page()

    await page.goto(f"{served}/account/forgot-password")
    await looked_at(page, "30-forgot-password")
    link = unsubscribe_url(api.settings, user_id=buyer.id, category=Category.marketing)
    await page.goto(served + link.removeprefix(api.settings.public_base_url))
    await expect(page.get_by_role("button", name="Unsubscribe")).to_be_visible()
    await looked_at(page, "31-unsubscribe")
    await page.goto(f"{served}/event/no-such-event")
    await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    await looked_at(page, "32-not-found")

    await page.goto(f"{served}/account/sign-in?next=/event/harbour-jazz-night")
    await page.get_by_label("Email").fill(buyer.email)
    await page.get_by_label("Password").fill(buyer.password)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_label("How many: General admission").select_option("1")
    await page.get_by_role("button", name="Book").click()
    await page.get_by_label("4000 0025 0000 3155", exact=False).check()
    await page.get_by_role("button", name="Pay €25.00").click()
    await expect(page.get_by_text("Your bank asks you to confirm")).to_be_visible()
    await looked_at(page, "33-authenticate")
    await page.get_by_role("button", name="Refuse").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await page.get_by_role("button", name="Pay by bank transfer").click()
    await expect(page.get_by_text("Transfer €25.00")).to_be_visible()
    await looked_at(page, "34-bank-transfer")
    await context.close()
