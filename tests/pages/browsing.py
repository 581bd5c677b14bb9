"""What the browser tests share: Debian's Chromium driven by Playwright, a phone-sized window,
and `looked_at`, which checks a page with axe-core and photographs it into
var/screenshots/storefront/ for people to see."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "storefront"
PHONE = {"width": 360, "height": 780}


def needs_chromium() -> None:
    """Call at a browser test module's top: without Chromium it skips, except in CI."""
    if CHROMIUM is None and os.environ.get("CI") != "true":
        pytest.skip("Debian's chromium is not installed (CI installs it)", allow_module_level=True)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    assert CHROMIUM is not None, "CI needs Debian's chromium for the browser tests"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        await launched.close()


async def phone(browser: Browser, locale: str = "en-GB") -> BrowserContext:
    context = await browser.new_context(viewport=PHONE, locale=locale)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    return context


async def looked_at(page: Page, name: str) -> None:
    """No serious or critical accessibility violation, nothing wider than the phone, and a
    screenshot for people to look at."""
    results = await Axe().run(page)
    violations = [
        f"{v['id']}: {v['help']} ({len(v['nodes'])}x)"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert violations == [], f"{name}: {violations}"
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} is {width} px wide"
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


async def sign_in(page: Page, served: str, email: str, password: str, then: str) -> None:
    """Sign in on the sign-in page, to land on `then`."""
    await page.goto(f"{served}/account/sign-in?next={then}")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
