"""Security headers on every answer, /metrics behind its token, and the client address through
trusted proxies only (the test client connects from 203.0.113.7)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, Response
from pydantic import ValidationError

from api.config import Settings
from api.main import create_app
from api.users.models import Role
from tests.api.conftest import make_settings
from tests.api.factories import Api

PROBLEM = "application/problem+json"
TOKEN = "metrics-token-0123456789"
PEER = ("203.0.113.7", 4321)
PROXY_HERE = {"trusted_proxies": "203.0.113.0/24", "rate_limit_login_ip": "2/minute"}
NO_PROXY = {"rate_limit_login_ip": "2/minute"}


@pytest.fixture
def settings_overrides(tmp_path: Path) -> dict[str, object]:
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "poster.txt").write_text("a poster")
    return {"media_dir": tmp_path / "media"}


@pytest.fixture
async def https(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=PEER)
    async with httpx.AsyncClient(transport=transport, base_url="https://tessera.test") as http:
        yield http


def assert_hardened(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "strict-transport-security" not in response.headers  # plain http


async def test_public_answer_is_hardened_but_cacheable(api: Api) -> None:
    response = await api.client.get("/health")
    assert response.status_code == 200
    assert_hardened(response)
    assert (
        response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    )
    assert "cache-control" not in response.headers


@pytest.mark.parametrize(
    ("path", "status"),
    [("/no/such/path", 404), ("/events?limit=lots", 422), ("/media/absent.png", 404)],
)
async def test_error_answers_are_hardened(api: Api, path: str, status: int) -> None:
    response = await api.client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    assert_hardened(response)


async def test_an_unhandled_error_is_hardened(app: FastAPI) -> None:
    async def boom() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/boom", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    assert_hardened(response)


async def test_media_and_the_api_docs_are_hardened_without_a_script_policy(api: Api) -> None:
    media = await api.client.get("/media/poster.txt")
    assert media.status_code == 200
    assert media.text == "a poster"
    assert_hardened(media)
    for page in ("/docs", "/redoc"):
        docs = await api.client.get(page)
        assert docs.status_code == 200
        assert_hardened(docs)
        # Swagger UI and ReDoc load their scripts from a CDN: only framing is refused.
        assert docs.headers["content-security-policy"] == "frame-ancestors 'none'"


async def test_signed_in_answers_are_not_stored(api: Api) -> None:
    user = await api.signed_in()
    profile = await api.client.get("/users/profile", headers=user.headers)
    assert profile.status_code == 200
    assert profile.headers["cache-control"] == "no-store"
    assert_hardened(profile)
    refused = await api.client.get("/users/profile", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401
    assert refused.headers["cache-control"] == "no-store"
    # Tokens are answered under /auth to callers who have none yet.
    login = await api.client.post("/auth/login", json={"email": user.email, "password": "x"})
    assert login.headers["cache-control"] == "no-store"
    # The anonymous visitor cookie does not make an answer private; other cookies do.
    visitor = await api.client.get("/health", headers={"Cookie": "tessera_vid=abc"})
    assert "cache-control" not in visitor.headers
    session = await api.client.get("/health", headers={"Cookie": "tessera_vid=abc; sid=1"})
    assert session.headers["cache-control"] == "no-store"


async def test_a_routes_public_cache_control_is_kept_and_a_private_one_replaced(
    app: FastAPI, api: Api
) -> None:
    async def shared() -> Response:
        return Response("same for all", headers={"Cache-Control": "public, max-age=60"})

    async def mine() -> Response:
        return Response("only mine", headers={"Cache-Control": "private, max-age=60"})

    app.add_api_route("/shared", shared)
    app.add_api_route("/mine", mine)
    signed_in = {"Authorization": "Bearer anything"}
    assert (await api.client.get("/shared", headers=signed_in)).headers[
        "cache-control"
    ] == "public, max-age=60"
    assert (await api.client.get("/mine", headers=signed_in)).headers["cache-control"] == "no-store"
    assert (await api.client.get("/mine")).headers["cache-control"] == "private, max-age=60"


async def test_hsts_only_over_https(api: Api, https: httpx.AsyncClient) -> None:
    secure = await https.get("/health")
    assert secure.headers["strict-transport-security"] == "max-age=31536000"
    plain = await api.client.get("/health", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in plain.headers  # 203.0.113.7 is no proxy of ours


@pytest.mark.parametrize("settings_overrides", [PROXY_HERE])
async def test_hsts_when_a_trusted_proxy_says_https(api: Api, https: httpx.AsyncClient) -> None:
    forwarded = await api.client.get("/health", headers={"X-Forwarded-Proto": "https"})
    assert forwarded.headers["strict-transport-security"] == "max-age=31536000"
    # The nearest proxy's word counts: it reached us over http from the one before it.
    downgraded = await https.get("/health", headers={"X-Forwarded-Proto": "https, http"})
    assert "strict-transport-security" not in downgraded.headers


async def test_metrics_are_open_in_development_without_a_token(
    database_url: str, tmp_path: Path
) -> None:
    application = create_app(make_settings(database_url, tmp_path, env="development"))
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/metrics")
    assert response.status_code == 200
    assert "tessera_http_requests_total" in response.text


@pytest.mark.parametrize(
    "settings_overrides",
    [{"metrics_token": TOKEN}, {"metrics_token": TOKEN, "env": "development"}],
)
async def test_a_set_metrics_token_is_always_required(api: Api) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token-0123456789"},
        {"Authorization": TOKEN},
    ):
        refused = await api.client.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert refused.headers["content-type"] == PROBLEM
        assert refused.headers["www-authenticate"] == "Bearer"
        assert "tessera_http" not in refused.text
    allowed = await api.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert allowed.status_code == 200
    assert 'route="/metrics",status="401"} 3.0' in allowed.text


@pytest.mark.parametrize("settings_overrides", [{"env": "production"}])
async def test_metrics_are_off_in_production_without_a_token(api: Api) -> None:
    response = await api.client.get("/metrics")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_settings_check_the_metrics_token_and_proxies() -> None:
    with pytest.raises(ValidationError, match="metrics_token"):
        Settings(metrics_token="short")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="trusted_proxies"):
        Settings(trusted_proxies="10.0.0.1/8")  # type: ignore[arg-type]  # host bits set
    proxies = Settings(trusted_proxies=" 10.0.0.0/8, ::1 ")  # type: ignore[arg-type]
    assert [str(network) for network in proxies.trusted_proxies] == ["10.0.0.0/8", "::1/128"]
    assert Settings().trusted_proxies == []


async def _login_attempts(api: Api, forwarded_for: list[str]) -> list[int]:
    statuses = []
    for number, address in enumerate(forwarded_for):
        response = await api.client.post(
            "/auth/login",
            json={"email": f"nobody{number}@example.com", "password": "not-the-password"},
            headers={"X-Forwarded-For": address},
        )
        statuses.append(response.status_code)
    return statuses


@pytest.mark.parametrize("settings_overrides", [NO_PROXY])
async def test_an_untrusted_peers_forwarded_for_is_ignored(api: Api) -> None:
    statuses = await _login_attempts(api, ["198.51.100.1", "198.51.100.2", "198.51.100.3"])
    assert statuses == [401, 401, 429]  # all three are 203.0.113.7's


@pytest.mark.parametrize("settings_overrides", [PROXY_HERE])
async def test_rate_limits_key_on_the_address_a_trusted_proxy_forwards(api: Api) -> None:
    assert await _login_attempts(api, ["198.51.100.1", "198.51.100.2", "198.51.100.3"]) == [401] * 3
    # A client cannot escape by writing its own X-Forwarded-For: the proxy appends the real one.
    spoofing = [f"192.0.2.{n}, 198.51.100.9" for n in range(3)]
    assert await _login_attempts(api, spoofing) == [401, 401, 429]


@pytest.mark.parametrize(
    ("settings_overrides", "forwarded_for", "real_client"),
    [
        (NO_PROXY, "198.51.100.9", "203.0.113.7"),
        (PROXY_HERE, "198.51.100.9", "198.51.100.9"),
        # Right to left, past our own proxies, to the first address none of them is.
        (PROXY_HERE, "192.0.2.1, 198.51.100.9, 203.0.113.50", "198.51.100.9"),
        (PROXY_HERE, "[2001:db8::7]:443", "2001:db8::7"),
        (PROXY_HERE, "junk, 203.0.113.50", "203.0.113.50"),
        (PROXY_HERE, "", "203.0.113.7"),
    ],
)
async def test_audit_and_access_logs_name_the_real_client(
    api: Api, caplog: pytest.LogCaptureFixture, forwarded_for: str, real_client: str
) -> None:
    caplog.set_level(logging.INFO, logger="tessera.access")
    admin = await api.signed_in(Role.admin)
    target = await api.make_user()
    response = await api.client.put(
        f"/admin/users/{target.id}/role",
        headers={**admin.headers, "X-Forwarded-For": forwarded_for},
        json={"role": "finance"},
    )
    assert response.status_code == 200
    [entry] = await api.audit("user.role_changed")
    assert entry.ip == real_client
    [line] = [
        r for r in caplog.records if getattr(r, "route", None) == "/admin/users/{userId}/role"
    ]
    assert line.client == real_client  # type: ignore[attr-defined]
