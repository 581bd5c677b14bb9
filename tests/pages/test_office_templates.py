"""The admins' message templates from pages, on both databases: the bundled wording previewed,
a draft previewed then saved, a broken one refused beside its field; for admins only."""

from __future__ import annotations

import pytest

from api.users.models import Role
from tests.api.factories import Api
from tests.pages.test_account_and_storefront import form_token
from tests.pages.test_back_office import browser_as


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


async def test_an_admin_previews_and_adds_a_template(api: Api) -> None:
    await browser_as(api, Role.admin, "Ada Admin")
    bundled = await api.client.get(
        "/office/templates",
        params={"trigger": "staff_invited", "channel": "email", "locale": "de"},
    )
    assert bundled.status_code == 200
    assert "Olu Organizer bittet Sie, am Einlass Tickets zu prüfen" in bundled.text
    draft = {
        "csrf_token": form_token(bundled),
        "trigger": "booking_confirmed",
        "channel": "email",
        "locale": "en",
        "variant": "friendly",
        "subject": "Your seats for {{ event_title }}",
        "text_body": "Hello {{ name }}, see you there.",
    }
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

    await browser_as(api, Role.organizer, "Olu Organizer")
    assert (await api.client.get("/office/templates")).status_code == 403
