"""Registration, sign-in, sessions and tokens, including the security cases."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import update

from api.auth.models import TokenPurpose, UserToken
from api.auth.passwords import PasswordCheck
from api.users.models import User
from tests.api.factories import DEFAULT_PASSWORD, Api

NEW_PASSWORD = "amber-lantern-meadow-77"


def _register_body(email: str, password: str = DEFAULT_PASSWORD) -> dict[str, str]:
    return {"email": email, "password": password, "full_name": "Rae Register"}


async def test_register_sends_a_single_use_verification_link(api: Api) -> None:
    response = await api.client.post("/auth/register", json=_register_body("Rae@Example.com"))
    assert response.status_code == 202
    registered = await api.outbox("user.registered")
    assert len(registered) == 1
    assert registered[0].payload["email"] == "rae@example.com"
    assert "password_hash" not in registered[0].payload

    token = api.link_token("rae@example.com", "confirm")
    assert (await api.client.post("/auth/verify-email", json={"token": token})).status_code == 200
    again = await api.client.post("/auth/verify-email", json={"token": token})
    assert again.status_code == 400
    assert again.json()["code"] == "auth.invalid_or_expired_token"

    user = await api.login(await api.registered("rae@example.com"))
    profile = (await api.client.get("/users/profile", headers=user.headers)).json()
    assert profile["email_verified"] is True
    assert len(await api.outbox("user.email_verified")) == 1


async def test_outbox_never_carries_secret_tokens_in_clear(api: Api) -> None:
    await api.client.post("/auth/register", json=_register_body("sealed@example.com"))
    token = api.link_token("sealed@example.com", "confirm")
    requested = await api.outbox("notification.requested")
    assert requested
    assert all(token not in json.dumps(r.payload) for r in requested)


async def test_register_does_not_reveal_known_emails(api: Api) -> None:
    known = await api.make_user(email="known@example.com")
    first = await api.client.post("/auth/register", json=_register_body(known.email))
    second = await api.client.post("/auth/register", json=_register_body("unknown@example.com"))
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    # The owner of the known address learns someone tried; nobody else learns anything.
    assert any("already have" in m["Subject"] for m in api.mails(known.email))


async def test_register_refuses_weak_and_common_passwords(api: Api) -> None:
    for password in ("short", "password1234", "aaaaaaaaaaaa", "weak@example.com"):
        response = await api.client.post(
            "/auth/register", json=_register_body("weak@example.com", password)
        )
        assert response.status_code == 422, password
        assert response.json()["code"] == "auth.weak_password"
        assert response.json()["field"] == "password"
    assert await api.outbox("user.registered") == []


async def test_login_fails_the_same_for_unknown_email_and_wrong_password(api: Api) -> None:
    user = await api.make_user()
    wrong = await api.client.post(
        "/auth/login", json={"email": user.email, "password": "nope-nope-nope"}
    )
    unknown = await api.client.post(
        "/auth/login", json={"email": "ghost@example.com", "password": "nope-nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    strip = lambda body: {k: v for k, v in body.items() if k != "request_id"}  # noqa: E731
    assert strip(wrong.json()) == strip(unknown.json())
    assert wrong.json()["code"] == "auth.invalid_credentials"


async def test_reset_does_not_reveal_known_emails(api: Api) -> None:
    user = await api.make_user()
    known = await api.client.post("/auth/reset-password", json={"email": user.email})
    unknown = await api.client.post("/auth/reset-password", json={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert api.mails("nobody@example.com") == []
    assert len(api.mails(user.email)) == 1


async def test_reset_token_is_single_use_and_ends_sessions(api: Api) -> None:
    user = await api.signed_in()
    await api.client.post("/auth/reset-password", json={"email": user.email})
    token = api.link_token(user.email, "reset")

    confirmed = await api.client.post(
        "/auth/confirm-reset", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert confirmed.status_code == 200
    reused = await api.client.post(
        "/auth/confirm-reset", json={"token": token, "new_password": "another-pass-phrase-9"}
    )
    assert reused.status_code == 400
    assert reused.json()["code"] == "auth.invalid_or_expired_token"

    # The old session and password are gone; the new password works.
    assert (await api.client.get("/users/profile", headers=user.headers)).status_code == 401
    old = await api.client.post("/auth/refresh", json={"refresh_token": user.refresh_token})
    assert old.status_code == 401
    user.password = NEW_PASSWORD
    await api.login(user)
    assert any("changed" in m["Subject"] for m in api.mails(user.email))
    assert await api.audit("auth.password_changed")


async def test_expired_reset_token_is_refused(api: Api) -> None:
    user = await api.make_user()
    await api.client.post("/auth/reset-password", json={"email": user.email})
    token = api.link_token(user.email, "reset")
    async with api.app.state.sessionmaker() as session:
        await session.execute(
            update(UserToken)
            .where(UserToken.purpose == TokenPurpose.reset_password)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()
    response = await api.client.post(
        "/auth/confirm-reset", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "auth.invalid_or_expired_token"


async def test_forged_and_malformed_reset_tokens_are_refused(api: Api) -> None:
    response = await api.client.post(
        "/auth/confirm-reset", json={"token": "A" * 43, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 400


async def test_refresh_rotates_and_reuse_ends_the_family(api: Api) -> None:
    user = await api.signed_in()
    first = user.refresh_token
    rotated = await api.client.post("/auth/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200
    second = rotated.json()["refresh_token"]
    second_access = rotated.json()["access_token"]
    assert second != first

    # Presenting the used token again is taken as theft: the whole session ends.
    reuse = await api.client.post("/auth/refresh", json={"refresh_token": first})
    assert reuse.status_code == 401
    assert reuse.json()["code"] == "auth.refresh_reused"
    after = await api.client.post("/auth/refresh", json={"refresh_token": second})
    assert after.status_code == 401
    headers = {"Authorization": f"Bearer {second_access}"}
    assert (await api.client.get("/users/profile", headers=headers)).status_code == 401
    assert await api.audit("auth.refresh_reused")


async def test_concurrent_sign_ins_to_one_account_all_succeed(api: Api) -> None:
    user = await api.make_user()
    body = {"email": user.email, "password": user.password}
    results = await asyncio.gather(*(api.client.post("/auth/login", json=body) for _ in range(6)))
    assert [r.status_code for r in results] == [200] * 6
    versions = [r.version for r in await api.outbox("user.logged_in")]
    assert len(set(versions)) == 6


async def test_concurrent_refreshes_with_one_token_let_exactly_one_win(api: Api) -> None:
    user = await api.signed_in()
    results = await asyncio.gather(
        *(
            api.client.post("/auth/refresh", json={"refresh_token": user.refresh_token})
            for _ in range(5)
        )
    )
    codes = sorted(r.status_code for r in results)
    assert codes.count(200) <= 1
    assert codes.count(200) + codes.count(401) == 5


async def test_logout_ends_the_session_and_its_access_token(api: Api) -> None:
    user = await api.signed_in()
    other = await api.login(user.__class__(id=user.id, email=user.email, password=user.password))
    assert (await api.client.post("/auth/logout", headers=user.headers)).status_code == 204
    assert (await api.client.get("/users/profile", headers=user.headers)).status_code == 401
    refreshed = await api.client.post("/auth/refresh", json={"refresh_token": user.refresh_token})
    assert refreshed.status_code == 401
    # Another device's session is untouched ...
    assert (await api.client.get("/users/profile", headers=other.headers)).status_code == 200
    # ... until the user signs out everywhere.
    everywhere = await api.client.post(
        "/auth/logout", headers=other.headers, json={"everywhere": True}
    )
    assert everywhere.status_code == 204
    assert (await api.client.get("/users/profile", headers=other.headers)).status_code == 401


async def test_logout_cannot_end_someone_elses_session(api: Api) -> None:
    alice = await api.signed_in()
    bob = await api.signed_in()
    response = await api.client.post(
        "/auth/logout", headers=alice.headers, json={"refresh_token": bob.refresh_token}
    )
    assert response.status_code == 401
    assert (
        await api.client.post("/auth/refresh", json={"refresh_token": bob.refresh_token})
    ).status_code == 200


async def test_change_password_revokes_other_sessions(api: Api) -> None:
    user = await api.signed_in()
    elsewhere = await api.login(
        user.__class__(id=user.id, email=user.email, password=user.password)
    )
    wrong = await api.client.post(
        "/auth/change-password",
        headers=user.headers,
        json={"current_password": "not-my-password", "new_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 401
    changed = await api.client.post(
        "/auth/change-password",
        headers=user.headers,
        json={"current_password": user.password, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 200
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert (await api.client.get("/users/profile", headers=fresh)).status_code == 200
    assert (await api.client.get("/users/profile", headers=elsewhere.headers)).status_code == 401
    stale = await api.client.post("/auth/refresh", json={"refresh_token": elsewhere.refresh_token})
    assert stale.status_code == 401
    old_login = await api.client.post(
        "/auth/login", json={"email": user.email, "password": user.password}
    )
    assert old_login.status_code == 401


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "case", ["alg_none", "wrong_key", "expired", "wrong_audience", "wrong_issuer", "garbage"]
)
async def test_bad_access_tokens_are_refused(api: Api, case: str) -> None:
    user = await api.signed_in()
    claims = jwt.decode(user.access_token, options={"verify_signature": False})
    key = api.settings.derived_key("jwt")
    if case == "alg_none":
        token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    elif case == "wrong_key":
        token = jwt.encode(claims, "someone-elses-key-of-adequate-length!", algorithm="HS256")
    elif case == "expired":
        now = int(time.time())
        token = jwt.encode({**claims, "iat": now - 3600, "exp": now - 60}, key, algorithm="HS256")
    elif case == "wrong_audience":
        token = jwt.encode({**claims, "aud": "another-api"}, key, algorithm="HS256")
    elif case == "wrong_issuer":
        token = jwt.encode({**claims, "iss": "evil"}, key, algorithm="HS256")
    else:
        token = "not.a.jwt"
    response = await api.client.get("/users/profile", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    expected = "auth.token_expired" if case == "expired" else "auth.invalid_token"
    assert response.json()["code"] == expected


async def test_access_token_carries_the_documented_claims(api: Api) -> None:
    user = await api.signed_in()
    header = jwt.get_unverified_header(user.access_token)
    claims = jwt.decode(user.access_token, options={"verify_signature": False})
    assert header["alg"] == "HS256"
    assert {"iss", "aud", "exp", "iat", "jti", "sub", "role", "name"} <= claims.keys()
    assert claims["sub"] == str(user.id)
    assert claims["exp"] - claims["iat"] == api.settings.access_token_ttl_seconds


async def test_no_token_is_401(api: Api) -> None:
    response = await api.client.get("/users/profile")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_password_hash_is_upgraded_on_login(api: Api) -> None:
    user = await api.make_user()
    async with api.app.state.sessionmaker() as session:
        before = (await session.get(User, user.id)).password_hash  # type: ignore[union-attr]
    assert "t=1" in before
    api.app.state.passwords = PasswordCheck(api.settings.model_copy(update={"argon2_time_cost": 2}))
    await api.login(user)
    async with api.app.state.sessionmaker() as session:
        after = (await session.get(User, user.id)).password_hash  # type: ignore[union-attr]
    assert "t=2" in after
    assert after != before
    await api.login(user)  # the new hash verifies
