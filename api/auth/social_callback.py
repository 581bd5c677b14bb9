"""A provider's answer at a callback, checked whole: the state spent, the code exchanged and
the profile checked, then the sign-in or the link (`social`). The API's callback and the sign-in
page's both call `answered`."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import social
from api.auth.errors import OAuthStateInvalid
from api.auth.models import OAuthState
from api.config import Settings


@dataclass(frozen=True)
class Answer:
    """What a provider sent back to the callback, and from where."""

    code: str | None
    state: str | None
    error: str | None
    browser_token: str | None  # the cookie that binds the request to the browser
    user_agent: str | None
    ip: str | None


async def answered(
    session: AsyncSession,
    settings: Settings,
    http: httpx.AsyncClient,
    *,
    provider: str,
    answer: Answer,
    from_page: bool,
) -> tuple[OAuthState, social.Outcome]:
    """A callback, whole: the state spent, the code exchanged and the profile checked, then
    the sign-in (tokens for the API; the cookie's session for a sign-in started from a page,
    `from_page`) or the link. A state started by the other kind of caller is refused."""
    social.provider_or_raise(settings, provider)
    pending = await social.consume_state(
        session, provider=provider, state=answer.state, browser_token=answer.browser_token
    )
    if (pending.return_to is not None) != from_page:
        raise OAuthStateInvalid("This sign-in was not started here; start again.", field="state")
    profile = await social.profile_from_callback(
        settings, http, provider=provider, request=pending, code=answer.code, error=answer.error
    )
    outcome = await social.complete(
        session,
        settings,
        provider=provider,
        request=pending,
        profile=profile,
        user_agent=answer.user_agent,
        ip=answer.ip,
    )
    return pending, outcome
