"""Dependencies shared by every router: settings, the session, rate limits, access markers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from api.config import Settings
from api.db import session_scope
from api.ratelimit import RateLimiter
from api.storage import Storage

ACCESS_ATTR = "__tessera_access__"


F = TypeVar("F", bound=Callable[..., Any])


def declares_access(description: str) -> Callable[[F], F]:
    """Mark a dependency as the one that says who may call a route (checked by a test)."""

    def mark(func: F) -> F:
        setattr(func, ACCESS_ATTR, description)
        return func

    return mark


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session for this request; safe methods get one that only reads."""
    state = request.app.state
    factory = state.read_sessionmaker if request.method in SAFE_METHODS else state.sessionmaker
    async with session_scope(factory) as session:
        yield session


def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


def get_rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


@declares_access("anyone, signed in or not")
def _public() -> None:
    """Anyone may call this route."""


VISITOR_COOKIE = "tessera_vid"


def visitor_id(request: Request) -> str | None:
    """The anonymous visitor id behaviour events carry, when the browser sent a sane one."""
    visitor = request.cookies.get(VISITOR_COOKIE)
    return visitor if visitor is not None and len(visitor) <= 64 else None


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
# Closed as soon as the route returns, before the response is sent and background tasks run,
# so no transaction (and, on SQLite, no write lock) outlives the handler.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
StorageDep = Annotated[Storage, Depends(get_storage)]
Public = Depends(_public)
