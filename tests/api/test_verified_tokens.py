"""The express path's memory of verified access tokens (api/auth/tokens.py `VerifiedTokens`):
it answers only as verifying the token again would."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import jwt
import pytest

from api.auth import tokens
from api.db import utcnow
from tests.api.conftest import make_settings


def _token(settings: object, *, expires_in: timedelta) -> str:
    now = utcnow()
    claims = {
        "iss": settings.jwt_issuer,  # type: ignore[attr-defined]
        "aud": settings.jwt_audience,  # type: ignore[attr-defined]
        "sub": str(uuid.uuid4()),
        "iat": now,
        "exp": now + expires_in,
        "jti": uuid.uuid4().hex,
        "role": "attendee",
        "sid": str(uuid.uuid4()),
    }
    key = settings.derived_key("jwt")  # type: ignore[attr-defined]
    return jwt.encode(claims, key, algorithm=tokens.ALGORITHM)


def test_a_token_is_remembered_only_as_long_as_it_is_good(tmp_path: Path) -> None:
    settings = make_settings("sqlite+aiosqlite://", tmp_path)
    verified = tokens.VerifiedTokens(settings, size=1)
    good = _token(settings, expires_in=timedelta(minutes=5))
    assert verified.claims(good) == tokens.decode_access_token(settings, good)
    assert verified.claims(good) == tokens.decode_access_token(settings, good)
    lapsed = _token(settings, expires_in=-timedelta(seconds=tokens.LEEWAY_SECONDS + 1))
    for _ in range(2):
        with pytest.raises(jwt.ExpiredSignatureError):
            verified.claims(lapsed)
    with pytest.raises(jwt.InvalidSignatureError):
        verified.claims(good[:-2] + ("AA" if not good.endswith("AA") else "BB"))
    # Another app's keys: what one app verified, another does not take on trust.
    other = make_settings("sqlite+aiosqlite://", tmp_path, secret_key="another-secret-" + "x" * 40)
    with pytest.raises(jwt.InvalidSignatureError):
        tokens.VerifiedTokens(other).claims(good)
    # Bounded (here to one token): another token clears the memory, the first verifies again.
    third = _token(settings, expires_in=timedelta(minutes=5))
    assert verified.claims(third).session_id is not None
    assert verified.claims(good).user_id == tokens.decode_access_token(settings, good).user_id
