"""Social login providers, spoken to with Authlib: the authorization request (state, nonce,
PKCE), the code exchange, the ID token's checks (signature against the provider's published
keys, issuer, audience, expiry, nonce) for the OpenID Connect providers, and the user-info APIs
of the OAuth 2.0 ones (GitHub, Facebook). Apple's client secret is a JWT we sign."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.oauth2 import OAuth2Error
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

from api.config import Settings

with warnings.catch_warnings():
    # Authlib prefers the httpx2 fork and warns when it falls back to httpx, which it supports.
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.httpx_client import AsyncOAuth2Client


class ProviderError(Exception):
    """The provider could not be reached or refused the exchange."""


class IdTokenInvalid(Exception):
    """The ID token failed a check: the message says which."""


@dataclass(frozen=True)
class ProviderInfo:
    name: str
    display_name: str
    openid: bool  # OpenID Connect (ID token) or OAuth 2.0 with a user-info API
    scope: str
    form_post: bool = False  # Apple answers with a POST to the callback


PROVIDERS: dict[str, ProviderInfo] = {
    "google": ProviderInfo("google", "Google", True, "openid email profile"),
    "microsoft": ProviderInfo("microsoft", "Microsoft", True, "openid email profile"),
    "apple": ProviderInfo("apple", "Apple", True, "openid email name", form_post=True),
    "github": ProviderInfo("github", "GitHub", False, "read:user user:email"),
    "facebook": ProviderInfo("facebook", "Facebook", False, "email public_profile"),
}


@dataclass(frozen=True)
class Profile:
    """Who the provider says signed in."""

    subject: str
    email: str | None
    email_verified: bool
    name: str | None


def configured(settings: Settings) -> list[ProviderInfo]:
    """The providers with credentials: only these are offered."""
    s = settings
    present = {
        "google": bool(s.oauth_google_client_id and s.oauth_google_client_secret),
        "microsoft": bool(s.oauth_microsoft_client_id and s.oauth_microsoft_client_secret),
        "apple": bool(
            s.oauth_apple_client_id
            and s.oauth_apple_team_id
            and s.oauth_apple_key_id
            and s.oauth_apple_private_key
        ),
        "github": bool(s.oauth_github_client_id and s.oauth_github_client_secret),
        "facebook": bool(s.oauth_facebook_client_id and s.oauth_facebook_client_secret),
    }
    return [info for name, info in PROVIDERS.items() if present[name]]


def client_id(settings: Settings, provider: str) -> str:
    value = getattr(settings, f"oauth_{provider}_client_id")
    assert isinstance(value, str)
    return value


def _discovery_url(settings: Settings, provider: str) -> str:
    if provider == "microsoft":
        return settings.oauth_microsoft_discovery_url or (
            f"https://login.microsoftonline.com/{settings.oauth_microsoft_tenant}"
            "/v2.0/.well-known/openid-configuration"
        )
    url = getattr(settings, f"oauth_{provider}_discovery_url")
    assert isinstance(url, str)
    return url


class Metadata:
    """Providers' discovery documents and signing keys, fetched when first needed and kept for
    an hour (keys are fetched again at once when a token names a key we do not have)."""

    TTL_SECONDS = 3600

    def __init__(self) -> None:
        self._documents: dict[str, tuple[float, dict[str, Any]]] = {}

    def clear(self) -> None:
        self._documents.clear()

    async def get(
        self, http: httpx.AsyncClient, url: str, *, fresh: bool = False
    ) -> dict[str, Any]:
        cached = self._documents.get(url)
        if cached is not None and not fresh and time.monotonic() - cached[0] < self.TTL_SECONDS:
            return cached[1]
        try:
            response = await http.get(url, timeout=10)
            response.raise_for_status()
            document = dict(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderError(f"could not read {url}: {exc}") from exc
        self._documents[url] = (time.monotonic(), document)
        return document


METADATA = Metadata()


@dataclass(frozen=True)
class Endpoints:
    authorize: str
    token: str
    issuer: str | None = None
    jwks_uri: str | None = None


async def endpoints(settings: Settings, http: httpx.AsyncClient, provider: str) -> Endpoints:
    if PROVIDERS[provider].openid:
        document = await METADATA.get(http, _discovery_url(settings, provider))
        return Endpoints(
            document["authorization_endpoint"],
            document["token_endpoint"],
            document["issuer"],
            document["jwks_uri"],
        )
    if provider == "github":
        return Endpoints(settings.oauth_github_authorize_url, settings.oauth_github_token_url)
    return Endpoints(settings.oauth_facebook_authorize_url, settings.oauth_facebook_token_url)


def apple_client_secret(settings: Settings, audience: str) -> str:
    """Apple's client secret: an ES256 JWT from the team, for the Services ID, signed with the
    key Apple issued (valid for at most six months; we make one per exchange)."""
    assert settings.oauth_apple_private_key is not None
    key = ECKey.import_key(settings.oauth_apple_private_key.get_secret_value())
    now = int(time.time())
    return jwt.encode(
        {"alg": "ES256", "kid": settings.oauth_apple_key_id or ""},
        {
            "iss": settings.oauth_apple_team_id,
            "iat": now,
            "exp": now + 300,
            "aud": audience,
            "sub": settings.oauth_apple_client_id,
        },
        key,
        algorithms=["ES256"],
    )


def _client(
    settings: Settings, provider: str, redirect_uri: str, secret: str | None = None
) -> AsyncOAuth2Client:
    if secret is None:
        configured_secret = getattr(settings, f"oauth_{provider}_client_secret", None)
        secret = configured_secret.get_secret_value() if configured_secret else None
    return AsyncOAuth2Client(
        client_id=client_id(settings, provider),
        client_secret=secret,
        scope=PROVIDERS[provider].scope,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_post",  # noqa: S106 - a method name
        timeout=10,
    )


async def authorization_url(
    settings: Settings,
    http: httpx.AsyncClient,
    provider: str,
    *,
    redirect_uri: str,
    state: str,
    nonce: str | None,
    code_verifier: str,
) -> str:
    """Where to send the browser: the provider's consent page for this request."""
    ends = await endpoints(settings, http, provider)
    extra: dict[str, str] = {}
    if nonce is not None:
        extra["nonce"] = nonce
    if PROVIDERS[provider].form_post:
        extra["response_mode"] = "form_post"
    # Building the URL needs no secret.
    async with _client(settings, provider, redirect_uri, secret="") as client:
        url, _ = client.create_authorization_url(
            ends.authorize, state=state, code_verifier=code_verifier, **extra
        )
    return str(url)


def new_secret() -> str:
    """A random value for a state, nonce or PKCE verifier (48 characters)."""
    return str(generate_token(48))


async def exchange(
    settings: Settings,
    http: httpx.AsyncClient,
    provider: str,
    *,
    code: str,
    redirect_uri: str,
    code_verifier: str,
    nonce: str | None,
) -> Profile:
    """Trade the code for tokens and learn who signed in."""
    ends = await endpoints(settings, http, provider)
    secret = (
        apple_client_secret(settings, ends.issuer or "https://appleid.apple.com")
        if provider == "apple"
        else None
    )
    async with _client(settings, provider, redirect_uri, secret) as client:
        try:
            token = await client.fetch_token(
                ends.token,
                code=code,
                code_verifier=code_verifier,
                headers={"Accept": "application/json"},
            )
        except (OAuth2Error, httpx.HTTPError, ValueError) as exc:
            raise ProviderError(f"the code exchange failed: {exc}") from exc
        if PROVIDERS[provider].openid:
            if "id_token" not in token:
                raise IdTokenInvalid("the provider sent no ID token")
            claims = await verify_id_token(
                settings, http, provider, str(token["id_token"]), ends=ends, nonce=nonce
            )
            return Profile(
                subject=str(claims["sub"]),
                email=claims.get("email"),
                email_verified=str(claims.get("email_verified")).lower() == "true",
                name=claims.get("name"),
            )
        return await _user_info(settings, client, provider)


async def verify_id_token(
    settings: Settings,
    http: httpx.AsyncClient,
    provider: str,
    id_token: str,
    *,
    ends: Endpoints,
    nonce: str | None,
) -> dict[str, Any]:
    """The ID token's claims, once its signature (the provider's published keys), issuer,
    audience, expiry and nonce have been checked."""
    assert ends.jwks_uri is not None
    assert ends.issuer is not None
    keys = KeySet.import_key_set(await METADATA.get(http, ends.jwks_uri))  # type: ignore[arg-type]
    try:
        try:
            decoded = jwt.decode(id_token, keys, algorithms=["RS256", "ES256"])
        except JoseError:
            # The provider may have rotated its keys since we read them.
            keys = KeySet.import_key_set(await METADATA.get(http, ends.jwks_uri, fresh=True))  # type: ignore[arg-type]
            decoded = jwt.decode(id_token, keys, algorithms=["RS256", "ES256"])
    except (JoseError, ValueError) as exc:
        raise IdTokenInvalid(f"the signature does not verify: {exc}") from exc
    claims = dict(decoded.claims)
    issuer = ends.issuer
    if "{tenantid}" in issuer:  # Microsoft's multi-tenant endpoints
        issuer = issuer.replace("{tenantid}", str(claims.get("tid", "")))
    registry = jwt.JWTClaimsRegistry(
        leeway=60,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id(settings, provider)},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise IdTokenInvalid(f"{exc.error}: {exc.description or exc}") from exc
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id(settings, provider):
        raise IdTokenInvalid("the token was issued to another party (azp)")
    if nonce is not None and claims.get("nonce") != nonce:
        raise IdTokenInvalid("the nonce does not match this sign-in")
    return claims


async def _user_info(settings: Settings, client: AsyncOAuth2Client, provider: str) -> Profile:
    try:
        if provider == "github":
            base = settings.oauth_github_api_url.rstrip("/")
            headers = {"Accept": "application/vnd.github+json"}
            user = (await client.get(f"{base}/user", headers=headers)).raise_for_status().json()
            emails = (
                (await client.get(f"{base}/user/emails", headers=headers)).raise_for_status().json()
            )
            primary = next((e for e in emails if e.get("primary")), None)
            return Profile(
                subject=str(user["id"]),
                email=primary["email"] if primary else None,
                email_verified=bool(primary and primary.get("verified")),
                name=user.get("name") or user.get("login"),
            )
        base = settings.oauth_facebook_graph_url.rstrip("/")
        me = (
            (await client.get(f"{base}/me", params={"fields": "id,name,email"}))
            .raise_for_status()
            .json()
        )
        # Facebook does not say whether the address was verified: treat it as unverified.
        return Profile(str(me["id"]), me.get("email"), False, me.get("name"))
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        raise ProviderError(f"could not read the profile: {exc}") from exc
