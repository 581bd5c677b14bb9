"""Profiles, other users' public view, and what admins may do."""

from __future__ import annotations

import asyncio
import uuid

from api.users.models import Role
from tests.api.factories import Api


async def test_profile_update_changes_allowed_fields_and_writes_outbox(api: Api) -> None:
    user = await api.signed_in()
    response = await api.client.put(
        "/users/profile",
        headers=user.headers,
        json={"display_name": "Jo", "timezone": "Europe/Berlin", "locale": "de-DE", "bio": "Hi"},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["display_name"], body["timezone"], body["locale"]) == (
        "Jo",
        "Europe/Berlin",
        "de-DE",
    )
    events = await api.outbox("user.profile_updated")
    assert events[-1].payload["display_name"] == "Jo"
    assert events[-1].version > 1


async def test_profile_refuses_role_status_and_email(api: Api) -> None:
    user = await api.signed_in()
    for field, value in (("role", "admin"), ("status", "active"), ("email", "x@example.com")):
        response = await api.client.put("/users/profile", headers=user.headers, json={field: value})
        assert response.status_code == 422, field
        assert response.json()["errors"][0]["field"] == f"body.{field}"
    profile = (await api.client.get("/users/profile", headers=user.headers)).json()
    assert profile["role"] == "attendee"


async def test_profile_validates_timezone_and_phone(api: Api) -> None:
    user = await api.signed_in()
    bad_tz = await api.client.put(
        "/users/profile", headers=user.headers, json={"timezone": "Mars/Base"}
    )
    assert bad_tz.status_code == 422
    assert bad_tz.json()["field"] == "body.timezone"
    bad_phone = await api.client.put("/users/profile", headers=user.headers, json={"phone": "12"})
    assert bad_phone.status_code == 422


async def test_other_users_see_only_the_public_profile(api: Api) -> None:
    alice = await api.signed_in(phone="+4915100000001")
    bob = await api.signed_in()
    response = await api.client.get(f"/users/{alice.id}", headers=bob.headers)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "display_name", "bio", "avatar_url", "role", "created_at"}
    assert alice.email not in response.text
    assert "+4915100000001" not in response.text


async def test_unknown_user_is_404(api: Api) -> None:
    viewer = await api.signed_in()
    response = await api.client.get(f"/users/{uuid.uuid4()}", headers=viewer.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "user.not_found"


async def test_non_admins_cannot_use_admin_routes(api: Api) -> None:
    target = await api.make_user()
    for role in (Role.attendee, Role.organizer, Role.finance):
        caller = await api.signed_in(role)
        calls = [
            api.client.get("/admin/users", headers=caller.headers),
            api.client.get("/admin/users/stats", headers=caller.headers),
            api.client.get("/admin/audit-log", headers=caller.headers),
            api.client.delete(f"/admin/users/{target.id}", headers=caller.headers),
            api.client.put(
                f"/admin/users/{target.id}/role", headers=caller.headers, json={"role": "admin"}
            ),
        ]
        for response in await asyncio.gather(*calls):
            assert response.status_code == 403, (role, response.request.url)
            assert response.json()["code"] == "auth.insufficient_role"


async def test_admin_lists_filters_and_searches_users(api: Api) -> None:
    admin = await api.signed_in(Role.admin)
    await api.make_user(role=Role.organizer, full_name="Olga Organizer", email="olga@example.com")
    await api.make_user(role=Role.attendee, full_name="Ann Attendee", email="ann@example.com")
    for i in range(3):
        await api.make_user(full_name=f"Filler {i}")

    page = (await api.client.get("/admin/users?page_size=2", headers=admin.headers)).json()
    assert page["total"] == 6
    assert len(page["items"]) == 2
    organizers = (await api.client.get("/admin/users?role=organizer", headers=admin.headers)).json()
    assert [u["email"] for u in organizers["items"]] == ["olga@example.com"]
    found = (await api.client.get("/admin/users?q=ANN", headers=admin.headers)).json()
    assert [u["email"] for u in found["items"]] == ["ann@example.com"]
    literal = (await api.client.get("/admin/users?q=%25", headers=admin.headers)).json()
    assert literal["total"] == 0
    bad = await api.client.get("/admin/users?role=emperor", headers=admin.headers)
    assert bad.status_code == 422
    assert bad.json()["field"] == "query.role"


async def test_admin_changes_role_with_outbox_and_audit(api: Api) -> None:
    admin = await api.signed_in(Role.admin)
    target = await api.signed_in()
    response = await api.client.put(
        f"/admin/users/{target.id}/role", headers=admin.headers, json={"role": "organizer"}
    )
    assert response.status_code == 200
    assert response.json()["role"] == "organizer"
    events = await api.outbox("user.role_changed")
    assert events[-1].payload["role"] == "organizer"
    assert events[-1].actor_id == admin.id
    entries = await api.audit("user.role_changed")
    assert entries[-1].details == {"from": "attendee", "to": "organizer"}
    # Authorization follows the database, not the role claim inside an older token.
    profile = (await api.client.get("/users/profile", headers=target.headers)).json()
    assert profile["role"] == "organizer"


async def test_admin_cannot_demote_or_delete_themselves(api: Api) -> None:
    admin = await api.signed_in(Role.admin)
    demote = await api.client.put(
        f"/admin/users/{admin.id}/role", headers=admin.headers, json={"role": "attendee"}
    )
    assert demote.status_code == 403
    assert demote.json()["code"] == "admin.own_account"
    delete = await api.client.delete(f"/admin/users/{admin.id}", headers=admin.headers)
    assert delete.status_code == 403


async def test_admin_deletion_erases_personal_data_and_sessions(api: Api) -> None:
    admin = await api.signed_in(Role.admin)
    target = await api.signed_in(phone="+4915100000002", full_name="Erin Erase")
    response = await api.client.delete(f"/admin/users/{target.id}", headers=admin.headers)
    assert response.status_code == 204

    assert (await api.client.get("/users/profile", headers=target.headers)).status_code == 401
    refresh = await api.client.post("/auth/refresh", json={"refresh_token": target.refresh_token})
    assert refresh.status_code == 401
    login = await api.client.post(
        "/auth/login", json={"email": target.email, "password": target.password}
    )
    assert login.status_code == 401

    record = (await api.client.get(f"/admin/users/{target.id}", headers=admin.headers)).json()
    assert record["status"] == "deleted"
    assert target.email not in str(record)
    assert "Erin" not in str(record)
    assert record["phone"] is None
    erased = (await api.outbox("user.erased"))[-1]
    assert target.email not in str(erased.payload)
    assert (await api.audit("user.erased"))[-1].target_id == str(target.id)
    # The email can be used for a new account; the erased one is gone for other users.
    viewer = await api.signed_in()
    assert (await api.client.get(f"/users/{target.id}", headers=viewer.headers)).status_code == 404
    again = await api.client.delete(f"/admin/users/{target.id}", headers=admin.headers)
    assert again.status_code == 409


async def test_admin_suspends_and_reactivates(api: Api) -> None:
    admin = await api.signed_in(Role.admin)
    target = await api.signed_in()
    suspended = await api.client.put(
        f"/admin/users/{target.id}/status", headers=admin.headers, json={"status": "suspended"}
    )
    assert suspended.status_code == 200
    assert (await api.client.get("/users/profile", headers=target.headers)).status_code == 401
    login = await api.client.post(
        "/auth/login", json={"email": target.email, "password": target.password}
    )
    assert login.status_code == 403
    assert login.json()["code"] == "auth.account_inactive"
    await api.client.put(
        f"/admin/users/{target.id}/status", headers=admin.headers, json={"status": "active"}
    )
    await api.login(target)


async def test_admin_stats_count_roles_statuses_and_signups(api: Api) -> None:
    admin = await api.signed_in(Role.admin)
    await api.make_user(role=Role.organizer)
    await api.make_user(verified=False)
    stats = (await api.client.get("/admin/users/stats?days=7", headers=admin.headers)).json()
    assert stats["total"] == 3
    assert stats["by_role"] == {
        "attendee": 1,
        "organizer": 1,
        "finance": 0,
        "admin": 1,
        "analyst": 0,
    }
    assert stats["by_status"]["active"] == 3
    assert stats["email_verified"] == 2
    assert len(stats["signups_per_day"]) == 7
    assert stats["signups_per_day"][-1]["count"] == 3
    assert sum(day["count"] for day in stats["signups_per_day"]) == 3


async def test_audit_log_lists_admin_actions(api: Api) -> None:
    admin = await api.signed_in(Role.admin)
    target = await api.make_user()
    await api.client.put(
        f"/admin/users/{target.id}/role", headers=admin.headers, json={"role": "finance"}
    )
    await api.client.delete(f"/admin/users/{target.id}", headers=admin.headers)
    log = (await api.client.get("/admin/audit-log", headers=admin.headers)).json()
    assert [e["action"] for e in log["items"]] == ["user.erased", "user.role_changed"]
    assert all(e["actor_id"] == str(admin.id) for e in log["items"])
    assert log["items"][0]["ip"] == "203.0.113.7"
    only = await api.client.get("/admin/audit-log?action=user.role_changed", headers=admin.headers)
    assert only.json()["total"] == 1
    naive = await api.client.get(
        "/admin/audit-log?since=2026-01-01T00:00:00", headers=admin.headers
    )
    assert naive.status_code == 422


async def test_profile_refuses_null_for_required_fields(api: Api) -> None:
    user = await api.signed_in()
    for field in ("full_name", "locale", "timezone"):
        response = await api.client.put("/users/profile", headers=user.headers, json={field: None})
        assert response.status_code == 422, field
        assert response.json()["field"] == f"body.{field}"
    cleared = await api.client.put("/users/profile", headers=user.headers, json={"bio": None})
    assert cleared.status_code == 200
