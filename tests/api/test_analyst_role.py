"""The analyst role: an admin gives it through the admin API, and it is stored and read back on
both databases without a migration (the role column is a plain string with no CHECK)."""

from __future__ import annotations

from api.users.models import Role
from tests.api.factories import Api


async def test_an_admin_makes_a_user_an_analyst(api: Api) -> None:
    admin = await api.signed_in(Role.admin)
    person = await api.make_user()

    changed = await api.client.put(
        f"/admin/users/{person.id}/role", headers=admin.headers, json={"role": "analyst"}
    )

    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "analyst"
    stored = await api.client.get(f"/admin/users/{person.id}", headers=admin.headers)
    assert stored.json()["role"] == "analyst"
    listed = await api.client.get("/admin/users?role=analyst", headers=admin.headers)
    assert [user["id"] for user in listed.json()["items"]] == [str(person.id)]
    await api.login(person)
    profile = await api.client.get("/users/profile", headers=person.headers)
    assert profile.json()["role"] == "analyst"
    [recorded] = await api.outbox("user.role_changed")
    assert recorded.payload["role"] == "analyst"
