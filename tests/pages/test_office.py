"""The admins' office, on both databases: people found, given a role, suspended (signed out at
once) and reactivated, erased once confirmed; categories added; for admins only."""

from __future__ import annotations

import pytest

from api.users.models import Role
from tests.api.factories import Api
from tests.pages.test_account_and_storefront import form_token
from tests.pages.test_back_office import browser_as


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_login_ip": "1000/minute"}


async def test_an_admin_finds_changes_suspends_and_erases_people(api: Api) -> None:
    await browser_as(api, Role.admin, "Ada Admin")
    target = await api.signed_in(full_name="Tom Target")
    found = await api.client.get("/office/people", params={"q": "target"})
    assert found.status_code == 200
    assert "Tom Target" in found.text
    assert "1 person" in found.text
    path = f"/office/people/{target.id}"
    page = await api.client.get(path)
    token = form_token(page)

    promoted = await api.client.post(
        f"{path}/role", data={"csrf_token": token, "role": "organizer"}
    )
    assert promoted.status_code == 303
    assert (await api.client.get("/users/profile", headers=target.headers)).status_code == 200
    suspended = await api.client.post(
        f"{path}/status", data={"csrf_token": token, "status": "suspended"}
    )
    assert suspended.status_code == 303
    assert (await api.client.get("/users/profile", headers=target.headers)).status_code == 401
    assert "suspended" in (await api.client.get(path)).text
    back = await api.client.post(f"{path}/status", data={"csrf_token": token, "status": "active"})
    assert back.status_code == 303

    unconfirmed = await api.client.post(f"{path}/erase", data={"csrf_token": token})
    assert unconfirmed.status_code == 422
    assert 'id="f-confirm-error"' in unconfirmed.text
    erased = await api.client.post(f"{path}/erase", data={"csrf_token": token, "confirm": "on"})
    assert erased.status_code == 303
    after = await api.client.get(path)
    assert "Tom Target" not in after.text
    assert "deleted" in after.text
    audit = await api.client.get(
        "/admin/audit-log", headers=(await api.signed_in(Role.admin)).headers
    )
    assert {"user.role_changed", "user.status_changed", "user.erased"} <= {
        e["action"] for e in audit.json()["items"]
    }


async def test_categories_are_added_from_the_office_and_the_office_is_for_admins(
    api: Api,
) -> None:
    await browser_as(api, Role.admin, "Ada Admin")
    page = await api.client.get("/office/categories")
    token = form_token(page)
    added = await api.client.post(
        "/office/categories", data={"csrf_token": token, "name": "Jazz", "description": "Live"}
    )
    assert added.status_code == 303
    assert "Jazz" in (await api.client.get("/office/categories")).text
    twice = await api.client.post("/office/categories", data={"csrf_token": token, "name": "Jazz"})
    assert twice.status_code == 409
    assert 'id="f-name-error"' in twice.text
    short = await api.client.post("/office/categories", data={"csrf_token": token, "name": "J"})
    assert short.status_code == 422

    await browser_as(api, Role.organizer, "Olu Organizer")
    for path in ("/office/people", "/office/categories"):
        assert (await api.client.get(path)).status_code == 403
