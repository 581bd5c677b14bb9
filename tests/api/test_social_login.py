"""Social login through the whole authorization-code flow against an OpenID provider on
loopback (Authlib's server side): sign-up and sign-in, ID token checks, state replay and
forgery, account takeover attempts, linking and unlinking, GitHub and Apple specifics."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from api.auth import oauth
from api.users.models import Role
from tests.api.factories import Api
from tests.oauth_provider import Client, Provider, openid_provider

BASE = "http://127.0.0.1:8000"  # the API's public_base_url in tests
APPLE_KEY = ECKey.generate_key("P-256", {"kid": "APPLEKEY1"})


@pytest.fixture
def op(monkeypatch: pytest.MonkeyPatch) -> Iterator[Provider]:
    # The loopback provider speaks plain http; Authlib refuses that unless told it is a test.
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    oauth.METADATA.clear()  # a provider on a port an earlier test's provider had
    with openid_provider() as provider:
        for name in ("google", "microsoft", "github", "apple", "facebook"):
            provider.clients[f"{name}-client"] = Client(
                client_id=f"{name}-client",
                client_secret=f"{name}-secret",
                redirect_uris=[f"{BASE}/auth/oauth/{name}/callback"],
                secret_jwt_key=APPLE_KEY if name == "apple" else None,
            )
        provider.user = {
            "sub": "g-1001",
            "email": "rae@example.com",
            "email_verified": True,
            "name": "Rae Ray",
        }
        yield provider


@pytest.fixture
def settings_overrides(op: Provider) -> dict[str, object]:
    discovery = f"{op.base}/.well-known/openid-configuration"
    return {
        "rate_limit_login_ip": "1000/minute",
        "oauth_google_client_id": "google-client",
        "oauth_google_client_secret": "google-secret",
        "oauth_google_discovery_url": discovery,
        "oauth_github_client_id": "github-client",
        "oauth_github_client_secret": "github-secret",
        "oauth_github_authorize_url": f"{op.base}/authorize",
        "oauth_github_token_url": f"{op.base}/token",
        "oauth_github_api_url": op.base,
        "oauth_apple_client_id": "apple-client",
        "oauth_apple_team_id": "TEAM123456",
        "oauth_apple_key_id": "APPLEKEY1",
        "oauth_apple_private_key": APPLE_KEY.as_pem(private=True).decode(),
        "oauth_apple_discovery_url": discovery,
        "oauth_microsoft_client_id": "microsoft-client",
        "oauth_microsoft_client_secret": "microsoft-secret",
        "oauth_microsoft_discovery_url": discovery,
        "oauth_facebook_client_id": "facebook-client",
        "oauth_facebook_client_secret": "facebook-secret",
        "oauth_facebook_authorize_url": f"{op.base}/authorize",
        "oauth_facebook_token_url": f"{op.base}/token",
        "oauth_facebook_graph_url": op.base,
    }


async def _consent(api: Api, provider: str = "google", **headers: str) -> dict[str, str]:
    """Start a sign-in in the API's browser and give consent at the provider: the callback's
    parameters."""
    started = await api.client.get(f"/auth/oauth/{provider}/login", headers=headers)
    assert started.status_code == 302, started.text
    return await _at_provider(started.headers["location"])


async def _at_provider(url: str) -> dict[str, str]:
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(url)
    if answer.status_code == 200:  # response_mode=form_post: a page that posts the answer
        return dict(re.findall(r'name="(\w+)" value="([^"]*)"', answer.text))
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    return {k: v[0] for k, v in parse_qs(back.query).items()}


async def _callback(api: Api, params: dict[str, str], provider: str = "google") -> httpx.Response:
    return await api.client.get(f"/auth/oauth/{provider}/callback", params=params)


async def _sign_in(api: Api, provider: str = "google") -> httpx.Response:
    return await _callback(api, await _consent(api, provider), provider)


async def test_only_configured_providers_are_offered(api: Api) -> None:
    offered = (await api.client.get("/auth/oauth/providers")).json()
    assert {p["name"] for p in offered} == {"google", "microsoft", "apple", "github", "facebook"}
    assert offered[0]["login_url"].startswith(f"{BASE}/auth/oauth/")
    missing = await api.client.get("/auth/oauth/myspace/login")
    assert missing.status_code == 404
    assert missing.json()["code"] == "auth.oauth_provider_unknown"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_providers_without_credentials_are_not_offered(
    api: Api, settings_overrides: dict[str, object]
) -> None:
    settings = api.settings.model_copy(
        update={"oauth_facebook_client_secret": None, "oauth_apple_key_id": None}
    )
    assert {p.name for p in oauth.configured(settings)} == {"google", "microsoft", "github"}


async def test_first_sign_in_creates_the_account_and_the_next_finds_it(
    api: Api, op: Provider
) -> None:
    started = await api.client.get("/auth/oauth/google/login")
    query = parse_qs(urlsplit(started.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["nonce"][0]
    assert query["state"][0]
    assert query["redirect_uri"] == [f"{BASE}/auth/oauth/google/callback"]
    assert "tessera_oauth" in started.cookies
    first = await _callback(api, await _at_provider(started.headers["location"]))
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["created"] is True
    assert body["identity"]["provider"] == "google"
    assert len(op.token_requests[-1]["code_verifier"]) >= 43
    tokens = body["tokens"]
    assert tokens["token_type"] == "bearer"
    assert tokens["user"]["email"] == "rae@example.com"
    assert tokens["user"]["email_verified"] is True
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await api.client.get("/users/profile", headers=headers)).status_code == 200
    refreshed = await api.client.post(
        "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200  # the same session machinery as a password login
    second = await _sign_in(api)
    assert second.json()["created"] is False
    assert second.json()["tokens"]["user"]["id"] == tokens["user"]["id"]
    identities = (await api.client.get("/users/me/identities", headers=headers)).json()
    assert [i["provider"] for i in identities] == ["google"]
    assert len(await api.outbox("user.registered")) == 1
    assert len(await api.outbox("user.identity_linked")) == 1


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("signature", "signature"),
        ("audience", "aud"),
        ("issuer", "iss"),
        ("expired", "exp"),
        ("nonce", "nonce"),
    ],
)
async def test_id_tokens_that_fail_a_check_sign_nobody_in(
    api: Api, op: Provider, tamper: str, reason: str
) -> None:
    op.tamper = tamper
    refused = await _sign_in(api)
    assert refused.status_code == 401, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "auth.oauth_id_token_invalid"
    assert reason in refused.json()["detail"]
    assert await api.outbox("user.registered") == []


async def test_the_state_is_single_use_and_bound_to_its_browser_and_provider(api: Api) -> None:
    params = await _consent(api)
    assert (await _callback(api, params)).status_code == 200
    replayed = await _callback(api, params)
    assert replayed.status_code == 400
    assert replayed.json()["code"] == "auth.oauth_state_reused"
    missing = await _callback(api, {"code": "x"})
    assert (missing.json()["code"], missing.json()["field"]) == (
        "auth.oauth_state_missing",
        "state",
    )
    forged = await _callback(api, {"code": "x", "state": "made-up-state-value"})
    assert forged.json()["code"] == "auth.oauth_state_invalid"
    # Started in this browser, finished in another (login CSRF): refused.
    params = await _consent(api)
    api.client.cookies.clear()
    foreign = await _callback(api, params)
    assert foreign.status_code == 400
    assert foreign.json()["code"] == "auth.oauth_state_invalid"
    # A state for one provider does not complete another's sign-in.
    params = await _consent(api, "google")
    crossed = await _callback(api, params, provider="github")
    assert crossed.json()["code"] == "auth.oauth_state_invalid"


async def test_a_refused_consent_is_reported_and_spends_the_state(api: Api) -> None:
    started = await api.client.get("/auth/oauth/google/login")
    state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
    denied = await _callback(api, {"error": "access_denied", "state": state})
    assert (denied.status_code, denied.json()["code"]) == (400, "auth.oauth_denied")
    again = await _callback(api, {"code": "late", "state": state})
    assert again.json()["code"] == "auth.oauth_state_reused"


async def test_no_takeover_through_an_unverified_email(api: Api, op: Provider) -> None:
    # Someone registered the address here but never proved it: a provider account with that
    # address (verified there) must not get into this account.
    squatter = await api.make_user(email="rae@example.com", verified=False)
    refused = await _sign_in(api)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "auth.oauth_account_exists"
    # A provider that does not vouch for the address is refused too, even for a verified one.
    op.user = {"sub": "g-2", "email": "owner@example.com", "email_verified": False}
    await api.make_user(email="owner@example.com", verified=True)
    unverified = await _sign_in(api)
    assert unverified.json()["code"] == "auth.oauth_account_exists"
    assert await api.outbox("user.identity_linked") == []
    # Both sides verified: the provider account joins the existing one.
    op.user = {"sub": "g-3", "email": "owner@example.com", "email_verified": True}
    joined = await _sign_in(api)
    assert joined.status_code == 200, joined.text
    assert joined.json()["created"] is False
    assert joined.json()["tokens"]["user"]["email"] == "owner@example.com"
    assert squatter.email == "rae@example.com"


async def test_linking_unlinking_and_one_account_per_identity(api: Api, op: Provider) -> None:
    me = await api.signed_in(email="me@example.com")
    op.user = {
        "sub": "4242",
        "login": "me-on-github",
        "name": "Me",
        "emails": [{"email": "other@example.com", "primary": True, "verified": True}],
    }
    started = await api.client.post("/auth/oauth/github/link", headers=me.headers)
    assert started.status_code == 200, started.text
    params = await _at_provider(started.json()["authorization_url"])
    linked = await _callback(api, params, provider="github")
    assert linked.status_code == 200, linked.text
    assert linked.json()["tokens"] is None
    assert linked.json()["identity"]["email"] == "other@example.com"
    assert [
        i["provider"]
        for i in (await api.client.get("/users/me/identities", headers=me.headers)).json()
    ] == ["github"]
    # Now that GitHub account signs in as me.
    signed = await _sign_in(api, "github")
    assert signed.json()["tokens"]["user"]["id"] == str(me.id)
    # It cannot be linked to somebody else.
    other = await api.signed_in()
    started = await api.client.post("/auth/oauth/github/link", headers=other.headers)
    taken = await _callback(api, await _at_provider(started.json()["authorization_url"]), "github")
    assert (taken.status_code, taken.json()["code"]) == (409, "auth.oauth_identity_taken")
    assert (
        await api.client.delete("/auth/oauth/github/link", headers=me.headers)
    ).status_code == 204
    assert (await api.client.get("/users/me/identities", headers=me.headers)).json() == []
    gone = await api.client.delete("/auth/oauth/github/link", headers=me.headers)
    assert gone.json()["code"] == "auth.oauth_not_linked"
    assert (await api.client.post("/auth/oauth/github/link")).status_code == 401


async def test_the_only_way_to_sign_in_cannot_be_unlinked(api: Api) -> None:
    created = (await _sign_in(api)).json()
    headers = {"Authorization": f"Bearer {created['tokens']['access_token']}"}
    refused = await api.client.delete("/auth/oauth/google/link", headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "auth.oauth_last_sign_in_method")


async def test_github_uses_the_verified_primary_address(api: Api, op: Provider) -> None:
    op.user = {
        "sub": "77",
        "login": "octo",
        "name": None,
        "emails": [
            {"email": "spare@example.com", "primary": False, "verified": True},
            {"email": "octo@example.com", "primary": True, "verified": True},
        ],
    }
    signed = await _sign_in(api, "github")
    assert signed.status_code == 200, signed.text
    user = signed.json()["tokens"]["user"]
    assert (user["email"], user["email_verified"], user["full_name"]) == (
        "octo@example.com",
        True,
        "octo",
    )
    op.user = {"sub": "78", "login": "nomail", "emails": []}
    no_email = await _sign_in(api, "github")
    assert (no_email.status_code, no_email.json()["code"]) == (422, "auth.oauth_email_missing")


async def test_apple_answers_with_a_form_post_and_gets_a_signed_client_secret(
    api: Api, op: Provider
) -> None:
    op.user = {
        "sub": "apple-9",
        "email": "hidden@privaterelay.appleid.com",
        "email_verified": "true",
    }
    started = await api.client.get("/auth/oauth/apple/login")
    assert parse_qs(urlsplit(started.headers["location"]).query)["response_mode"] == ["form_post"]
    params = await _at_provider(started.headers["location"])
    signed = await api.client.post("/auth/oauth/apple/callback", data=params)
    assert signed.status_code == 200, signed.text
    assert signed.json()["tokens"]["user"]["email_verified"] is True
    secret = op.token_requests[-1]["client_secret"]
    claims: dict[str, Any] = jwt.decode(secret, APPLE_KEY, algorithms=["ES256"]).claims
    assert (claims["iss"], claims["sub"], claims["aud"]) == (
        "TEAM123456",
        "apple-client",
        op.issuer,
    )
    assert jwt.decode(secret, APPLE_KEY, algorithms=["ES256"]).header["kid"] == "APPLEKEY1"


async def test_a_suspended_account_cannot_sign_in_with_a_provider(api: Api) -> None:
    created = (await _sign_in(api)).json()
    admin = await api.signed_in(Role.admin)
    suspended = await api.client.put(
        f"/admin/users/{created['tokens']['user']['id']}/status",
        headers=admin.headers,
        json={"status": "suspended"},
    )
    assert suspended.status_code == 200, suspended.text
    refused = await _sign_in(api)
    assert (refused.status_code, refused.json()["code"]) == (403, "auth.account_inactive")


async def test_erasing_an_account_removes_its_linked_identities(api: Api) -> None:
    created = (await _sign_in(api)).json()
    admin = await api.signed_in(Role.admin)
    user_id = created["tokens"]["user"]["id"]
    erased = await api.client.delete(f"/admin/users/{user_id}", headers=admin.headers)
    assert erased.status_code == 204, erased.text
    assert len(await api.outbox("user.identity_unlinked")) == 1
    # The provider account is free again: it makes a new account.
    again = await _sign_in(api)
    assert again.status_code == 200, again.text
    assert again.json()["created"] is True
    assert again.json()["tokens"]["user"]["id"] != user_id


async def test_facebook_addresses_never_join_an_existing_account(api: Api, op: Provider) -> None:
    await api.make_user(email="fb@example.com", verified=True)
    op.user = {"sub": "fb-1", "email": "fb@example.com", "name": "Fay"}
    refused = await _sign_in(api, "facebook")
    assert (refused.status_code, refused.json()["code"]) == (409, "auth.oauth_account_exists")
    op.user = {"sub": "fb-2", "email": "new@example.com", "name": "Nia"}
    created = await _sign_in(api, "facebook")
    assert created.status_code == 200, created.text
    user = created.json()["tokens"]["user"]
    assert (user["email"], user["email_verified"], user["full_name"]) == (
        "new@example.com",
        False,
        "Nia",
    )


async def test_microsoft_tokens_carry_their_tenants_issuer(api: Api, op: Provider) -> None:
    op.tenant = "9188040d-6c67-4c5b-b112-36a304b66dad"
    op.user = {"sub": "ms-1", "email": "ms@example.com", "email_verified": True, "name": "Mo"}
    signed = await _sign_in(api, "microsoft")
    assert signed.status_code == 200, signed.text
    assert signed.json()["identity"]["provider"] == "microsoft"


async def test_two_callbacks_racing_with_one_state_sign_in_once(api: Api) -> None:
    params = await _consent(api)
    first, second = await asyncio.gather(_callback(api, params), _callback(api, params))
    assert sorted([first.status_code, second.status_code]) == [200, 400]
    loser = first if first.status_code == 400 else second
    assert loser.json()["code"] == "auth.oauth_state_reused"
    assert len(await api.outbox("user.registered")) == 1
