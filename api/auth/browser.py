"""Signed-in browsers: the pages' session cookie, bound to a server-side session like an API
sign-in's (listed, revocable, ended by signing out everywhere), without a refresh token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import service, tokens
from api.auth.models import AuthSession
from api.config import Settings
from api.users import User


@dataclass(frozen=True)
class BrowserSession:
    """The pages' session cookie: its value and how long it lives."""

    token: str
    max_age: int


async def open_browser_session(
    session: AsyncSession,
    settings: Settings,
    *,
    user: User,
    user_agent: str | None,
    ip: str | None,
) -> BrowserSession:
    """A signed-in browser: a server-side session like an API sign-in's (listed, revocable, ended
    by signing out everywhere), carried in a cookie instead of a refresh token."""
    auth_session = AuthSession(
        id=uuid.uuid4(), user_id=user.id, user_agent=(user_agent or "")[:300] or None, ip=ip
    )
    session.add(auth_session)
    await session.flush()
    token, max_age = tokens.issue_access_token(
        settings,
        user_id=user.id,
        role=user.role.value,
        name=user.public_name,
        session_id=auth_session.id,
        browser=True,
    )
    return BrowserSession(token, max_age)


async def end_browser_session(session: AsyncSession, *, user: User, session_id: uuid.UUID) -> None:
    """Sign a browser out: its server-side session ends."""
    auth_session = await session.get(AuthSession, session_id)
    if auth_session is not None and auth_session.user_id == user.id:
        await service.revoke_session(session, auth_session, reason="logout")
