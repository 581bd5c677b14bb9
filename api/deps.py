"""Dependencies shared by every router: settings, the session, rate limits, access markers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
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


# Dependencies are `async def` even when they do not wait for anything: FastAPI runs a plain
# `def` in its thread pool, a thread hop on every request (tests/api/test_foundation.py).
async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@asynccontextmanager
async def _unit_of_work(request: Request, *, writes: bool) -> AsyncIterator[AsyncSession]:
    state = request.app.state
    factory = state.sessionmaker if writes else state.read_sessionmaker
    async with session_scope(factory) as session:
        yield session
        if writes and session.in_transaction():
            await session.commit()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: routes never commit.

    A request that changes something commits when its route returns and rolls back when it
    raises, so a route is all-or-nothing without saying so. Safe methods get a session that only
    reads. A service commits by itself only where an effect must stand although the request then
    fails (a spent sign-in state, a counted wrong code) or where a provider is called between
    two transactions.
    """
    async with _unit_of_work(request, writes=request.method not in SAFE_METHODS) as session:
        yield session


async def get_writing_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A unit of work that commits whatever the method: for the few GETs that change state
    because a browser reaches them by a redirect (social sign-in)."""
    async with _unit_of_work(request, writes=True) as session:
        yield session


async def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


async def get_rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


@declares_access("anyone, signed in or not")
async def _public() -> None:
    """Anyone may call this route."""


VISITOR_COOKIE = "tessera_vid"


def visitor_id(request: Request) -> str | None:
    """The anonymous visitor id behaviour events carry, when the browser sent a sane one."""
    visitor = request.cookies.get(VISITOR_COOKIE)
    return visitor if visitor is not None and len(visitor) <= 64 else None


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
# Committed and closed as soon as the route returns, before the response is sent and background
# tasks run, so no transaction (and, on SQLite, no write lock) outlives the handler; a failed
# commit still reaches the error handlers and answers as a problem document.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
WritingSessionDep = Annotated[AsyncSession, Depends(get_writing_session, scope="function")]
RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
StorageDep = Annotated[Storage, Depends(get_storage)]
Public = Depends(_public)
