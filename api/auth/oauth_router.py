"""HTTP routes of social login: the providers offered, the redirect to one, its callback
(GET, or a form POST for Apple), linking and unlinking accounts, and a user's identities."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Cookie, Form, Path, Query, Request, Response, status
from fastapi.responses import RedirectResponse

from api.auth import oauth, social, social_callback
from api.auth.dependencies import CurrentUser
from api.auth.schemas import AuthorizationUrl, IdentityOut, OAuthProviderOut, OAuthResult
from api.config import Settings
from api.deps import Public, SessionDep, SettingsDep, WritingSessionDep
from api.errors import problem_responses

router = APIRouter(tags=["auth"], responses=problem_responses(422))

COOKIE = "tessera_oauth"
ProviderName = Annotated[str, Path(max_length=20, pattern=r"^[a-z]+$")]
BrowserCookie = Annotated[str | None, Cookie(alias=COOKIE, max_length=100)]


def oauth_http(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.app.state.oauth_http
    return client


def set_browser_binding(
    response: Response, settings: Settings, provider: str, token: str, path: str = "/auth/oauth"
) -> None:
    """The browser binding, sent back to the callback at `path`: HttpOnly; Apple's answer is a
    cross-site POST, which only carries SameSite=None cookies (and those need https)."""
    secure = settings.public_base_url.startswith("https://")
    cross_site = oauth.PROVIDERS[provider].form_post and secure
    response.set_cookie(
        COOKIE,
        token,
        max_age=settings.oauth_state_ttl_seconds,
        path=path,
        httponly=True,
        secure=secure,
        samesite="none" if cross_site else "lax",
    )


@router.get("/auth/oauth/providers", response_model=list[OAuthProviderOut], dependencies=[Public])
async def providers(settings: SettingsDep) -> list[OAuthProviderOut]:
    """The providers you can sign in with here (those with credentials configured)."""
    base = settings.public_base_url.rstrip("/")
    return [
        OAuthProviderOut(
            name=info.name,
            display_name=info.display_name,
            login_url=f"{base}/auth/oauth/{info.name}/login",
        )
        for info in oauth.configured(settings)
    ]


@router.get(
    "/auth/oauth/{provider}/login",
    status_code=status.HTTP_302_FOUND,
    response_class=RedirectResponse,
    dependencies=[Public],
    responses={
        **problem_responses(404, 502),
        302: {"description": "To the provider's sign-in page"},
    },
)
async def login(
    provider: ProviderName,
    request: Request,
    session: WritingSessionDep,
    settings: SettingsDep,
    browser: BrowserCookie = None,
) -> RedirectResponse:
    """Sign in with a provider: to its consent page, with a single-use state bound to this
    browser, a nonce (OpenID Connect) and a PKCE challenge."""
    started = await social.start(
        session, settings, oauth_http(request), provider=provider, browser_token=browser
    )
    response = RedirectResponse(started.authorization_url, status_code=status.HTTP_302_FOUND)
    set_browser_binding(response, settings, provider, started.browser_token)
    return response


async def _callback(
    provider: str,
    request: Request,
    session: SessionDep,
    settings: Settings,
    *,
    code: str | None,
    state: str | None,
    error: str | None,
    browser: str | None,
) -> OAuthResult:
    _, outcome = await social_callback.answered(
        session,
        settings,
        oauth_http(request),
        provider=provider,
        answer=answer(request, code=code, state=state, error=error, browser=browser),
        from_page=False,
    )
    return OAuthResult(
        tokens=outcome.tokens,
        identity=IdentityOut.model_validate(outcome.identity),
        created=outcome.created,
    )


def answer(
    request: Request,
    *,
    code: str | None,
    state: str | None,
    error: str | None,
    browser: str | None,
) -> social_callback.Answer:
    """A provider's answer as a callback request carries it."""
    return social_callback.Answer(
        code=code,
        state=state,
        error=error,
        browser_token=browser,
        user_agent=request.headers.get("user-agent"),
        ip=request.client.host if request.client else None,
    )


def _to_page(provider: str, **answer: str | None) -> RedirectResponse:
    query = urlencode({name: value for name, value in answer.items() if value is not None})
    return RedirectResponse(
        f"/account/sign-in/{provider}/callback?{query}", status_code=status.HTTP_303_SEE_OTHER
    )


CALLBACK_ERRORS = {
    **problem_responses(400, 401, 403, 404, 409, 502),
    303: {"description": "A sign-in started from the sign-in page: on to that page"},
}
Text = Annotated[str | None, Query(max_length=2048)]


@router.get(
    "/auth/oauth/{provider}/callback",
    response_model=OAuthResult,
    dependencies=[Public],
    responses=CALLBACK_ERRORS,
)
async def callback(
    provider: ProviderName,
    request: Request,
    session: WritingSessionDep,
    settings: SettingsDep,
    code: Text = None,
    state: Text = None,
    error: Text = None,
    browser: BrowserCookie = None,
) -> OAuthResult | Response:
    """Where the provider sends the browser back: the code is exchanged, the ID token (or
    profile) checked, and you are signed in with the same tokens as a password login (or the
    account is linked, when you started from `POST .../link`). A sign-in started from the
    sign-in page goes on to that page (303), which signs the browser in."""
    if await social.page_to_return_to(session, provider=provider, state=state):
        return _to_page(provider, code=code, state=state, error=error)
    return await _callback(
        provider, request, session, settings, code=code, state=state, error=error, browser=browser
    )


FormText = Annotated[str | None, Form(max_length=4096)]


@router.post(
    "/auth/oauth/{provider}/callback",
    response_model=OAuthResult,
    dependencies=[Public],
    responses=CALLBACK_ERRORS,
)
async def callback_form_post(
    provider: ProviderName,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    code: FormText = None,
    state: FormText = None,
    error: FormText = None,
    browser: BrowserCookie = None,
) -> OAuthResult | Response:
    """The same callback for providers that answer with a form POST (Apple)."""
    if await social.page_to_return_to(session, provider=provider, state=state):
        return _to_page(provider, code=code, state=state, error=error)
    return await _callback(
        provider, request, session, settings, code=code, state=state, error=error, browser=browser
    )


@router.post(
    "/auth/oauth/{provider}/link",
    response_model=AuthorizationUrl,
    responses=problem_responses(401, 404, 502),
)
async def link(
    provider: ProviderName,
    request: Request,
    response: Response,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    browser: BrowserCookie = None,
) -> AuthorizationUrl:
    """Start linking a provider's account to yours: open the URL in this browser; its
    callback links the account instead of signing in."""
    started = await social.start(
        session,
        settings,
        oauth_http(request),
        provider=provider,
        browser_token=browser,
        link_user=user,
    )
    set_browser_binding(response, settings, provider, started.browser_token)
    return AuthorizationUrl(authorization_url=started.authorization_url)


@router.delete(
    "/auth/oauth/{provider}/link",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 404, 409),
)
async def unlink(provider: ProviderName, user: CurrentUser, session: SessionDep) -> Response:
    """Unlink a provider's account (not the last way you can sign in)."""
    await social.unlink(session, user=user, provider=provider)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/users/me/identities", response_model=list[IdentityOut], responses=problem_responses(401)
)
async def identities(user: CurrentUser, session: SessionDep) -> list[IdentityOut]:
    """The provider accounts you can sign in with."""
    return [
        IdentityOut.model_validate(i) for i in await social.identities(session, user_id=user.id)
    ]
