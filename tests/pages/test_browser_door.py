"""The door in a real browser (Playwright driving Debian's Chromium, 360 px wide, its camera fed
a video of a ticket's QR code): door staff scan a ticket with the camera, scan it again by its
typed code and see when, by whom and where it was first scanned, then lose the network, admit a
ticket on the phone's own list, and see the conflict once back online, because another door
had admitted it meanwhile. Every page is checked with axe-core and photographed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import segno
from playwright.async_api import Browser, Page, async_playwright, expect

from api.users.models import Role
from tests.api.factories import Api
from tests.api.test_door_staff import _grant, _tickets
from tests.api.test_tickets import _free_event
from tests.pages.browsing import CHROMIUM, looked_at, needs_chromium, phone, sign_in
from tests.pages.test_office_templates import FRIENDLY

needs_chromium()

WIDTH, HEIGHT = 640, 480


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


def qr_video(payload: str, path: Path) -> Path:
    """One frame of 640 by 480 (Y4M, the format Chromium's fake camera plays in a loop) showing
    `payload` as a QR code on white."""
    rows = [list(row) for row in segno.make(payload, error="m").matrix_iter(border=4)]
    scale = HEIGHT * 3 // 4 // len(rows)
    left, top = (WIDTH - len(rows) * scale) // 2, (HEIGHT - len(rows) * scale) // 2
    luma = bytearray(b"\xeb" * (WIDTH * HEIGHT))
    for r, row in enumerate(rows):
        for c, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    start = (top + r * scale + dy) * WIDTH + left + c * scale
                    luma[start : start + scale] = b"\x10" * scale
    chroma = b"\x80" * (WIDTH * HEIGHT // 4)
    header = f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + b"FRAME\n" + bytes(luma) + chroma + chroma)
    return path


async def camera_browser(video: Path) -> AsyncIterator[Browser]:
    assert CHROMIUM is not None
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        yield launched
        await launched.close()


async def _answer(page: Page, verdict: str) -> None:
    answer = page.locator("#door-answer")
    await expect(answer).to_be_visible()
    await expect(answer.locator(".door-verdict")).to_have_text(verdict)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_door_staff_scan_by_camera_and_code_and_meet_a_conflict_after_going_offline(
    api: Api, served: str, tmp_path: Path
) -> None:
    owner = await api.signed_in(Role.organizer, full_name="Olu Organizer")
    event = await _free_event(api, owner, title="Harbour Jazz Night")
    first, second, _third = await _tickets(api, event, 3)
    staff = await api.make_user(full_name="Sam Door")
    await _grant(api, owner, staff.email, event["id"])
    video = qr_video(first["qr_payload"], tmp_path / "ticket.y4m")

    async for browser in camera_browser(video):
        context = await phone(browser)
        await context.grant_permissions(["camera"], origin=served)
        page = await context.new_page()
        await sign_in(page, served, staff.email, staff.password, "/door")
        await expect(page.get_by_role("heading", name="The door")).to_be_visible()
        await looked_at(page, "door-01-events")
        await page.get_by_role("link", name="Harbour Jazz Night").click()
        await expect(page.locator("#door-expected")).to_have_text("3")
        key = f"tessera-door-{event['id']}"
        await page.wait_for_function(
            "key => JSON.parse(localStorage.getItem(key) || '{}').list", arg=key
        )
        await looked_at(page, "door-02-scanner")

        # The camera reads the ticket: admitted, in full screen.
        await page.get_by_role("button", name="Scan with the camera").click()
        await _answer(page, "Admitted")
        await expect(page.locator("#door-answer")).to_contain_text("Bea Buyer")
        await expect(page.locator("#door-in")).to_have_text("1")
        await looked_at(page, "door-03-admitted")
        await page.get_by_role("button", name="Stop the camera").click()
        await expect(page.locator("#door-answer")).to_be_hidden()

        # The same ticket by its typed code: refused, with the first scan's when, who, where.
        await page.get_by_label("Ticket code").fill(first["qr_payload"].split(".")[1])
        await page.keyboard.press("Enter")
        await _answer(page, "Already checked in")
        await expect(page.locator("#door-answer")).to_contain_text("by Sam Door at Door ")
        await looked_at(page, "door-04-already")
        await page.locator("#door-answer").click()

        # The network goes: the phone decides from its own list and keeps the scan...
        await context.set_offline(True)
        await page.get_by_label("Ticket code").fill(second["qr_payload"].split(".")[1])
        await page.keyboard.press("Enter")
        await _answer(page, "Admitted")
        await expect(page.locator("#door-answer")).to_contain_text("Offline")
        await expect(page.locator("#door-pending")).to_contain_text("Scans waiting to be sent: 1")
        await looked_at(page, "door-05-offline")
        await page.locator("#door-answer").click()

        # ...while another door admits the same ticket online.
        other_door = await api.client.post(
            f"/events/{event['id']}/check-ins",
            headers=owner.headers,
            json={"payload": second["qr_payload"], "device": "Door B"},
        )
        assert other_door.json()["outcome"] == "admitted"

        # Back online: the kept scan is sent, and the conflict shows.
        await context.set_offline(False)
        conflicts = page.locator("#door-conflicts")
        await expect(conflicts).to_be_visible(timeout=15_000)
        await expect(conflicts).to_contain_text("Bea Buyer")
        await expect(conflicts).to_contain_text("by Olu Organizer at Door B")
        await expect(page.locator("#door-pending")).to_have_text("")
        await expect(page.locator("#door-in")).to_have_text("2")
        await looked_at(page, "door-06-conflict")
        await context.close()

        # The admins' office.
        admin = await api.signed_in(Role.admin, full_name="Ada Admin")
        template = await api.client.post(
            "/admin/notification-templates",
            headers=admin.headers,
            json=FRIENDLY,
        )
        assert template.status_code == 201, template.text
        office = await phone(browser)
        page = await office.new_page()
        await sign_in(page, served, admin.email, admin.password, "/office/people")
        await page.get_by_label("Name or email").fill("sam")
        await page.get_by_role("button", name="Find").click()
        await page.get_by_role("link", name="Sam Door").click()
        await expect(page.get_by_role("button", name="Change the role")).to_be_visible()
        await looked_at(page, "office-08-person")
        await page.goto(f"{served}/office/categories")
        await looked_at(page, "office-09-categories")
        await page.get_by_role("link", name="Message templates").click()
        await page.get_by_role("link", name="email de").first.click()
        await expect(page.get_by_role("heading", name=re.compile("^Preview"))).to_be_visible()
        await looked_at(page, "office-10-templates")
        await page.get_by_role("link", name="booking_confirmed").click()
        await page.get_by_label("Text").fill("Dear {{ name }}, welcome.")
        await page.get_by_role("button", name="Preview").click()
        await expect(page.get_by_text("Dear Ada Lovelace, welcome.")).to_be_visible()
        await page.get_by_role("button", name="Switch it off").click()
        await expect(page.get_by_text("Not in use").first).to_be_visible()
        await looked_at(page, "office-13-template")
        await office.close()

    assert len(await api.outbox("ticket.checked_in")) == 2
