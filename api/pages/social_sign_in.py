"""Signing in with a social provider from the sign-in page: the same authorization request as
`GET /auth/oauth/{provider}/login` (state bound to this browser, nonce, PKCE), marked to come
back here. The provider answers at the API's registered callback, which hands a page-started
sign-in on to this page; here the answer is checked by the same functions and the browser is
signed in by the pages' session cookie instead of receiving tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import Cookie, Path, Query, Request
from fastapi.responses import Response

from api.auth import oauth, social, social_callback
from api.auth.oauth_router import COOKIE, answer, oauth_http, set_browser_binding
from api.deps import SettingsDep, WritingSessionDep
from api.errors import AppError
from api.pages.account import local_path
from api.pages.problems import Problem
from api.pages.rendering import redirect
from api.pages.routing import FormRejected, page_router
from api.pages.visitor import Visitor, keep_session

router = page_router()
ProviderName = Annotated[str, Path(max_length=20, pattern=r"^[a-z]+$")]
Given = Annotated[str | None, Query(max_length=2048)]


@router.get("/account/sign-in/{provider}")
async def start(
    request: Request,
    provider: ProviderName,
    visitor: Visitor,
    session: WritingSessionDep,
    settings: SettingsDep,
    next: Annotated[str, Query(max_length=256)] = "/",
) -> Response:
    """To the provider's consent page; back to `next`, signed in."""
    started = await social.start(
        session,
        settings,
        oauth_http(request),
        provider=provider,
        browser_token=None,
        return_to=local_path(next),
    )
    response = redirect(request, started.authorization_url)
    set_browser_binding(
        response, settings, provider, started.browser_token, path=f"/account/sign-in/{provider}"
    )
    return response


@router.get("/account/sign-in/{provider}/callback")
async def finish_sign_in(
    request: Request,
    provider: ProviderName,
    visitor: Visitor,
    session: WritingSessionDep,
    settings: SettingsDep,
    code: Given = None,
    state: Given = None,
    error: Given = None,
    browser: Annotated[str | None, Cookie(alias=COOKIE, max_length=100)] = None,
) -> Response:
    """The provider's answer, handed on by the API's callback: checked as the API checks it;
    a refusal is shown on the sign-in page, with the buttons to try again."""
    try:
        pending, outcome = await social_callback.answered(
            session,
            settings,
            oauth_http(request),
            provider=provider,
            answer=answer(request, code=code, state=state, error=error, browser=browser),
            from_page=True,
        )
    except AppError as failed:
        context = {
            "values": {},
            "errors": {"form": Problem.of(failed)},
            "next": "/",
            "providers": oauth.configured(settings),
        }
        raise FormRejected.render(
            request, "account/sign_in.html", context, failed.status
        ) from failed
    assert outcome.browser is not None  # a page-started sign-in gets the cookie
    keep_session(request, settings, outcome.browser)
    return redirect(request, local_path(pending.return_to))
