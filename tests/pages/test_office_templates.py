"""The admins' message templates from pages, on both databases: the bundled wording previewed,
a draft previewed then saved, a broken one refused beside its field, a saved one changed (a new
version), switched off and on; for admins only."""

from __future__ import annotations

import re

import pytest

from api.users.models import Role
from tests.api.factories import Api
from tests.pages.test_account_and_storefront import form_token
from tests.pages.test_back_office import browser_as

FRIENDLY = {
    "trigger": "booking_confirmed",
    "channel": "email",
    "locale": "en",
    "variant": "friendly",
    "subject": "Your seats for {{ event_title }}",
    "text_body": "Hello {{ name }}, see you there.",
}


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


async def test_an_admin_previews_and_adds_a_template(api: Api) -> None:
    admin = await browser_as(api, Role.admin, "Ada Admin")
    bundled = await api.client.get(
        "/office/templates",
        params={"trigger": "staff_invited", "channel": "email", "locale": "de"},
    )
    assert bundled.status_code == 200
    assert "Olu Organizer bittet Sie, am Einlass Tickets zu prüfen" in bundled.text
    draft = {"csrf_token": form_token(bundled)} | FRIENDLY
    previewed = await api.client.post("/office/templates", data=draft | {"action": "preview"})
    assert previewed.status_code == 200
    assert "Your seats for Night of the Analytical Engine" in previewed.text
    assert "Hello Ada Lovelace, see you there." in previewed.text
    broken = await api.client.post(
        "/office/templates", data=draft | {"action": "save", "text_body": "Hello {{ name"}
    )
    assert broken.status_code == 422
    assert 'id="f-text_body-error"' in broken.text
    saved = await api.client.post("/office/templates", data=draft | {"action": "save"})
    assert saved.status_code == 303, saved.text
    listed = await api.client.get("/office/templates")
    assert "friendly" in listed.text
    assert "In use" in listed.text
    found = re.search(r'href="(/office/templates/[0-9a-f-]{36})"', listed.text)
    assert found is not None
    page = found.group(1)

    shown = await api.client.get(page)
    assert shown.status_code == 200
    assert "Hello {{ name }}, see you there." in shown.text
    change = {
        "csrf_token": form_token(shown),
        "subject": "Tickets: {{ event_title }}",
        "text_body": "Dear {{ name }}, welcome.",
        "html_body": "",
        "weight": "3",
    }
    previewed = await api.client.post(page, data=change | {"action": "preview"})
    assert "Dear Ada Lovelace, welcome." in previewed.text
    unchanged = await api.client.get("/admin/notification-templates", headers=admin.headers)
    [kept] = unchanged.json()["templates"]
    assert kept["version"] == 1
    wrong = await api.client.post(page, data=change | {"action": "save", "weight": "many"})
    assert wrong.status_code == 422
    assert 'id="f-weight-error"' in wrong.text
    broken = await api.client.post(page, data=change | {"action": "save", "text_body": "{% if"})
    assert broken.status_code == 422
    assert 'id="f-text_body-error"' in broken.text
    saved = await api.client.post(page, data=change | {"action": "save"})
    assert saved.status_code == 303, saved.text
    token = change["csrf_token"]
    off = await api.client.post(page, data={"csrf_token": token, "action": "switch_off"})
    assert off.status_code == 303
    [after] = (await api.client.get("/admin/notification-templates", headers=admin.headers)).json()[
        "templates"
    ]
    assert (after["subject"], after["weight"], after["active"]) == (
        "Tickets: {{ event_title }}",
        3,
        False,
    )
    versions = await api.client.get(f"{page}")
    assert "Not in use" in versions.text
    assert versions.text.count('<th scope="row">') == 3  # versions 1, 2 (wording) and 3 (off)
    on = await api.client.post(page, data={"csrf_token": token, "action": "switch_on"})
    assert on.status_code == 303

    await browser_as(api, Role.organizer, "Olu Organizer")
    assert (await api.client.get("/office/templates")).status_code == 403
    assert (await api.client.get(page)).status_code == 403
