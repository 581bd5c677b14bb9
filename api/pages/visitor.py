"""Who is looking at a page, and the form token that protects every form.

A signed-in browser carries one HttpOnly, SameSite=Lax cookie (Secure over HTTPS): a token bound
to a server-side session (`api.auth.browser`), checked on every request, so signing out, signing
out everywhere and an admin's suspension end it at once. Forms carry a token that must match a
second cookie (double submit), and a form posted from another site is refused by its Origin.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Form, Request, Response

from api.auth import browser
from api.auth.service import authenticate
from api.config import Settings
from api.deps import VISITOR_COOKIE, SessionDep, SettingsDep, declares_access, visitor_id
from api.errors import AppError, Forbidden, Unauthorized
from api.inputs import same_text
from api.pages.routing import SignInFirst
from api.users import User

SESSION_COOKIE = "tessera_session"
CSRF_COOKIE = "tessera_csrf"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class Viewer:
    """The signed-in visitor as the layout shows them."""

    id: uuid.UUID
    name: str
    role: str


class FormExpired(Forbidden):
    code = "page.form_expired"


def _secure(settings: Settings) -> bool:
    return settings.public_base_url.startswith("https://")


def _change(request: Request, apply: Callable[[Response], None]) -> None:
    changes: list[Callable[[Response], None]] = request.state.__dict__.setdefault(
        "cookie_changes", []
    )
    changes.append(apply)


def keep_session(request: Request, settings: Settings, opened: browser.BrowserSession) -> None:
    """The response signs this browser in."""
    _change(
        request,
        lambda response: response.set_cookie(
            SESSION_COOKIE,
            opened.token,
            max_age=opened.max_age,
            httponly=True,
            samesite="lax",
            secure=_secure(settings),
        ),
    )


def drop_session(request: Request, settings: Settings) -> None:
    """The response signs this browser out."""
    _change(
        request,
        lambda response: response.delete_cookie(
            SESSION_COOKIE, httponly=True, samesite="lax", secure=_secure(settings)
        ),
    )


def visitor_key(request: Request) -> str:
    """The anonymous visitor id that views and searches carry (the JSON API's cookie); a new
    one is set as a year-long cookie."""
    key = visitor_id(request)
    if key is None:
        made = uuid.uuid4().hex
        _change(
            request,
            lambda response: response.set_cookie(
                VISITOR_COOKIE, made, max_age=365 * 86400, httponly=True, samesite="lax"
            ),
        )
        return made
    return key


class FormToken:
    """This browser's form token, made (and its cookie set) only when a page puts it in a form,
    so a page without forms stays the same for every visitor (and can be shared)."""

    def __init__(self, request: Request, settings: Settings) -> None:
        self._request = request
        self._settings = settings
        self._value: str | None = None

    @property
    def used(self) -> bool:
        return self._value is not None

    def __str__(self) -> str:
        if self._value is None:
            token = self._request.cookies.get(CSRF_COOKIE, "")
            if len(token) != 43:  # secrets.token_urlsafe(32)
                token = secrets.token_urlsafe(32)
                secure = _secure(self._settings)
                _change(
                    self._request,
                    lambda response: response.set_cookie(
                        CSRF_COOKIE, token, httponly=True, samesite="lax", secure=secure
                    ),
                )
            self._value = token
        return self._value


@declares_access("anyone; a signed-in visitor sees their own things")
async def page_visitor(request: Request, session: SessionDep, settings: SettingsDep) -> User | None:
    """The signed-in visitor, or None; a cookie of an ended session is cleared."""
    request.state.csrf_token = FormToken(request, settings)
    user = None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        try:
            user, session_id = await authenticate(
                session, settings, access_token=token, browser=True
            )
        except AppError:
            drop_session(request, settings)
        else:
            request.state.auth_session_id = session_id
    # What every page shows of the visitor, copied: an error page is rendered after the unit of
    # work rolled back, when the row's attributes are no longer loaded.
    request.state.page_user = (
        Viewer(id=user.id, name=user.public_name, role=user.role.value) if user else None
    )
    request.state.page_locale = user.locale if user is not None else None
    return user


Visitor = Annotated[User | None, Depends(page_visitor)]


@declares_access("a signed-in visitor (others are sent to sign in)")
async def signed_in_visitor(request: Request, visitor: Visitor) -> User:
    if visitor is None:
        back = request.url.path if request.method == "GET" else request.headers.get("referer")
        raise SignInFirst(urlsplit(back or "/").path if back else "/")
    return visitor


SignedIn = Annotated[User, Depends(signed_in_visitor)]


def _check_sent_token(request: Request, settings: Settings, sent: str) -> None:
    """A form or a script's request from one of our pages: its token matches this browser's,
    and it came from this site. Otherwise 403 (the visitor reloads the page and tries again)."""
    expected = str(request.state.csrf_token)
    origin = request.headers.get("origin")
    ours = urlsplit(settings.public_base_url)
    if origin is not None and origin != "null":
        came = urlsplit(origin)
        same = (came.scheme, came.netloc) in {
            (ours.scheme, ours.netloc),
            (request.url.scheme, request.url.netloc),
        }
        if not same:
            raise FormExpired("This form was sent from another site.", field="csrf_token")
    if not sent or not same_text(sent, expected):
        raise FormExpired(
            "This form has expired; reload the page and try again.", field="csrf_token"
        )


async def checked_form(
    request: Request,
    settings: SettingsDep,
    visitor: Visitor,
    csrf_token: Annotated[str, Form()] = "",
) -> User | None:
    """A form posted from one of our pages (`_check_sent_token`)."""
    _check_sent_token(request, settings, csrf_token)
    return visitor


CheckedForm = Annotated[User | None, Depends(checked_form)]


@declares_access("a signed-in visitor, from a script on one of our pages (its form token)")
async def page_script_user(request: Request, settings: SettingsDep, visitor: Visitor) -> User:
    """A signed-in visitor's script calling back to the page it runs on: the session cookie,
    and the page's form token in `X-CSRF-Token`. Answers in JSON: 401 when not signed in."""
    if visitor is None:
        raise Unauthorized("Sign in again to go on.")
    if request.method != "GET":
        _check_sent_token(request, settings, request.headers.get("x-csrf-token", ""))
    return visitor


PageScriptUser = Annotated[User, Depends(page_script_user)]
