"""Password hashing (argon2id) and the policy new passwords must meet."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from api.config import Settings

_COMMON = Path(__file__).with_name("common_passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    lines = _COMMON.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line and not line.startswith("#"))


def hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )


def policy_problem(password: str, *, min_length: int, email: str | None = None) -> str | None:
    """Why this password is refused, or None when it is acceptable."""
    if len(password) < min_length:
        return f"Password must be at least {min_length} characters long."
    if len(password) > 256:
        return "Password must be at most 256 characters long."
    lowered = password.lower()
    if lowered in common_passwords() or len(set(password)) < 4:
        return "This password is too common; choose a less guessable one."
    if email and lowered == email.lower():
        return "Password must not be your email address."
    return None


class PasswordCheck:
    """Verifies passwords and says when a stored hash should be upgraded."""

    def __init__(self, settings: Settings) -> None:
        self._hasher = hasher(settings)
        # Verified against when the account is unknown, so that a failed login takes the
        # same time whether or not the email exists.
        self._dummy = self._hasher.hash("no-such-account-timing-equaliser")

    async def hash(self, password: str) -> str:
        """Hash in a worker thread: argon2 releases the GIL, and the event loop keeps serving."""
        return await anyio.to_thread.run_sync(self._hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> bool:
        return await anyio.to_thread.run_sync(self._verify, stored, password)

    def _verify(self, stored: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)
