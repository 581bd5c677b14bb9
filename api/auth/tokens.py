"""Access tokens (JWT, algorithm pinned) and opaque random tokens stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from api.config import Settings
from api.db import utcnow

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti", "sub", "role"]


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    role: str
    issued_at: datetime
    jti: str
    session_id: uuid.UUID | None


def issue_access_token(
    settings: Settings,
    *,
    user_id: uuid.UUID,
    role: str,
    name: str,
    session_id: uuid.UUID | None = None,
    browser: bool = False,
) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds; a `browser` one is the pages' session
    cookie, which lives longer and which the JSON API does not take as a bearer token."""
    now = utcnow()
    ttl = settings.browser_session_ttl_seconds if browser else settings.access_token_ttl_seconds
    claims: dict[str, object] = {
        "iss": settings.jwt_issuer,
        "aud": browser_audience(settings) if browser else settings.jwt_audience,
        "sub": str(user_id),
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(seconds=ttl),
        "jti": uuid.uuid4().hex,
        "role": role,
        "name": name,
    }
    if session_id is not None:
        claims["sid"] = str(session_id)
    return jwt.encode(claims, settings.derived_key("jwt"), algorithm=ALGORITHM), ttl


def browser_audience(settings: Settings) -> str:
    return f"{settings.jwt_audience}:browser"


LEEWAY_SECONDS = 5


def decode_access_token(settings: Settings, token: str, *, browser: bool = False) -> AccessClaims:
    """Verify signature, algorithm, issuer, audience and expiry; raises jwt.InvalidTokenError."""
    return _decoded(settings, token, browser=browser)[0]


def _decoded(settings: Settings, token: str, *, browser: bool) -> tuple[AccessClaims, float]:
    """The token's claims and when it stops being accepted (a Unix time, leeway included)."""
    claims = jwt.decode(
        token,
        settings.derived_key("jwt"),
        algorithms=[ALGORITHM],
        audience=browser_audience(settings) if browser else settings.jwt_audience,
        issuer=settings.jwt_issuer,
        options={"require": REQUIRED_CLAIMS},
        leeway=LEEWAY_SECONDS,
    )
    try:
        user_id = uuid.UUID(str(claims["sub"]))
        session_id = uuid.UUID(str(claims["sid"])) if "sid" in claims else None
    except ValueError as exc:
        raise jwt.InvalidTokenError("bad subject") from exc
    decoded = AccessClaims(
        user_id=user_id,
        role=str(claims["role"]),
        issued_at=datetime.fromtimestamp(int(claims["iat"]), tz=utcnow().tzinfo),
        jti=str(claims["jti"]),
        session_id=session_id,
    )
    return decoded, float(claims["exp"]) + LEEWAY_SECONDS


class VerifiedTokens:
    """Bearer access tokens this process has verified, with their claims, until they expire:
    what a token string says never changes, so its signature needs checking once. Only what
    the token says is kept: whether its session still stands and its user is still active is
    read from the database on every request, as before. One per app (its keys); bounded."""

    def __init__(self, settings: Settings, size: int = 10_000) -> None:
        self.settings = settings
        self.size = size
        self._claims: dict[str, tuple[AccessClaims, float]] = {}

    def claims(self, token: str) -> AccessClaims:
        """As `decode_access_token` (raises jwt.InvalidTokenError), from memory when it can."""
        found = self._claims.get(token)
        if found is not None and time.time() < found[1]:
            return found[0]
        decoded = _decoded(self.settings, token, browser=False)
        if len(self._claims) >= self.size:
            self._claims.clear()
        self._claims[token] = decoded
        return decoded[0]


def new_opaque_token() -> str:
    """A random token for links and refresh; only its hash is stored."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_numeric_code(digits: int = 6) -> str:
    return f"{secrets.randbelow(10**digits):0{digits}d}"
