"""Rate limits (memory and Redis) and phone verification."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from asgi_lifespan import LifespanManager
from sqlalchemy import update

from api.auth.models import PhoneCode
from api.main import create_app
from tests.api.conftest import make_settings
from tests.api.factories import Api

REDIS_URL = os.environ.get("TESSERA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {
        "rate_limit_login_ip": "5/minute",
        "rate_limit_login_account": "3/minute",
        "rate_limit_reset_account": "2/minute",
        "rate_limit_register_ip": "3/minute",
        "rate_limit_verify_ip": "3/minute",
    }


async def test_login_is_limited_per_account_with_retry_after(api: Api) -> None:
    user = await api.make_user()
    body = {"email": user.email, "password": "wrong-wrong-wrong"}
    codes = [(await api.client.post("/auth/login", json=body)).status_code for _ in range(3)]
    assert codes == [401, 401, 401]
    limited = await api.client.post("/auth/login", json={**body, "password": user.password})
    assert limited.status_code == 429
    assert limited.headers["content-type"] == "application/problem+json"
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60


async def test_login_is_limited_per_ip_across_accounts(api: Api) -> None:
    for i in range(5):
        body = {"email": f"nobody{i}@example.com", "password": "wrong-wrong-wrong"}
        assert (await api.client.post("/auth/login", json=body)).status_code == 401
    blocked = await api.client.post(
        "/auth/login", json={"email": "nobody9@example.com", "password": "wrong-wrong-wrong"}
    )
    assert blocked.status_code == 429


async def test_register_and_reset_are_limited(api: Api) -> None:
    for i in range(3):
        body = {
            "email": f"r{i}@example.com",
            "password": "violet-kettle-harbour-42",
            "full_name": "R",
        }
        assert (await api.client.post("/auth/register", json=body)).status_code == 202
    body = {"email": "r9@example.com", "password": "violet-kettle-harbour-42", "full_name": "R"}
    assert (await api.client.post("/auth/register", json=body)).status_code == 429

    for _ in range(2):
        ok = await api.client.post("/auth/reset-password", json={"email": "x@example.com"})
        assert ok.status_code == 202
    limited = await api.client.post("/auth/reset-password", json={"email": "X@example.com"})
    assert limited.status_code == 429


async def test_verification_links_are_limited_per_ip(api: Api) -> None:
    """Guessing email or reset tokens is throttled like guessing passwords."""
    for token in ("a" * 43, "b" * 43, "c" * 43):
        response = await api.client.post("/auth/verify-email", json={"token": token})
        assert response.status_code == 400
    limited = await api.client.post(
        "/auth/confirm-reset", json={"token": "d" * 43, "new_password": "amber-lantern-77"}
    )
    assert limited.status_code == 429
    assert "retry-after" in limited.headers


async def test_limits_are_shared_through_redis(
    database_url: str, tmp_path: Path, backend: str
) -> None:
    """Two API processes behind one Redis see each other's attempts."""
    client = aioredis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (OSError, aioredis.ConnectionError) as exc:
        await client.aclose()
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs Redis at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} is not reachable: {exc}")
    await client.flushdb()
    await client.aclose()
    settings = make_settings(
        database_url, tmp_path, redis_url=REDIS_URL, rate_limit_login_account="2/minute"
    )
    first, second = create_app(settings), create_app(settings)
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": "wrong-wrong-wrong"}
    async with LifespanManager(first), LifespanManager(second):
        codes = []
        for application in (first, second, first):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                codes.append((await http.post("/auth/login", json=body)).status_code)
    assert codes == [401, 401, 429]


async def test_phone_verification_with_code(api: Api) -> None:
    user = await api.signed_in(phone="+4915112345678")
    sent = await api.client.post("/auth/verify-phone/send", headers=user.headers)
    assert sent.status_code == 202
    code = api.sms_code("+4915112345678")
    verified = await api.client.post(
        "/auth/verify-phone", headers=user.headers, json={"code": code}
    )
    assert verified.status_code == 200
    assert verified.json()["phone_verified"] is True
    again = await api.client.post("/auth/verify-phone", headers=user.headers, json={"code": code})
    assert again.status_code == 400
    assert len(await api.outbox("user.phone_verified")) == 1


async def test_phone_code_allows_limited_attempts(api: Api) -> None:
    user = await api.signed_in()
    await api.client.post(
        "/auth/verify-phone/send", headers=user.headers, json={"phone": "+33 6 12 34 56 78"}
    )
    code = api.sms_code("+33612345678")
    wrong = "000000" if code != "000000" else "111111"
    limit = api.settings.phone_code_max_attempts
    for _ in range(limit):
        response = await api.client.post(
            "/auth/verify-phone", headers=user.headers, json={"code": wrong}
        )
        assert response.status_code == 400
        assert response.json()["code"] == "auth.invalid_phone_code"
    # The right code no longer helps once the tries are used up.
    final = await api.client.post("/auth/verify-phone", headers=user.headers, json={"code": code})
    assert final.status_code == 400
    profile = (await api.client.get("/users/profile", headers=user.headers)).json()
    assert profile["phone_verified"] is False


async def test_phone_code_needs_a_number(api: Api) -> None:
    user = await api.signed_in()
    response = await api.client.post("/auth/verify-phone/send", headers=user.headers)
    assert response.status_code == 400
    assert response.json()["field"] == "phone"


async def test_phone_code_expires(api: Api) -> None:
    user = await api.signed_in(phone="+4915112345670")
    await api.client.post("/auth/verify-phone/send", headers=user.headers)
    code = api.sms_code("+4915112345670")
    async with api.app.state.sessionmaker() as session:
        await session.execute(
            update(PhoneCode).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()
    response = await api.client.post(
        "/auth/verify-phone", headers=user.headers, json={"code": code}
    )
    assert response.status_code == 400
