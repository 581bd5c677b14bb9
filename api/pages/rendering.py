"""Rendering pages: one Jinja environment (autoescaped), English and German, dates and money
through Babel, and the security headers every page carries (no inline script or style)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import escape

from api.formatting import format_day, format_moment, format_money
from api.pages.problems import in_language

R = TypeVar("R", bound=Response)
HERE = Path(__file__).parent
LOCALES = ("en", "de")
DEFAULT_LOCALE = "en"
# Pages load their script and style from /static only; forms post to this site only.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
# The checkout with Stripe: Stripe.js and its Payment Element (card fields in Stripe's frames,
# so card data goes from the browser to Stripe only) as Stripe documents its CSP.
STRIPE_CSP = (
    "default-src 'self'; script-src 'self' https://js.stripe.com; style-src 'self'; "
    "img-src 'self' data: https:; frame-src https://js.stripe.com https://hooks.stripe.com; "
    "connect-src 'self' https://api.stripe.com; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)


def _catalogue(locale: str) -> NullTranslations:
    """The translations of one language, compiled from its `.po` file when the app starts."""
    path = HERE / "locales" / f"{locale}.po"
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


_TRANSLATIONS = {locale: _catalogue(locale) for locale in LOCALES}
_current: ContextVar[str] = ContextVar("page_locale", default=DEFAULT_LOCALE)


def gettext(message: str) -> str:
    """A message in the current page's language (templates fill in `%(name)s` themselves)."""
    return _TRANSLATIONS[_current.get()].gettext(message)


def gettext_in(request: Request, message: str) -> str:
    """A message in this request's page language, outside a template."""
    return _TRANSLATIONS[visitor_locale(request)].gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _TRANSLATIONS[_current.get()].ngettext(singular, plural, n)


def page_locale(request: Request, preferred: str | None = None) -> str:
    """The account's language when it is one we speak, else the browser's, else English."""
    if preferred:
        language = Locale.parse(preferred.replace("-", "_")).language
        if language in LOCALES:
            return language
    header = request.headers.get("accept-language", "")
    wanted = [part.split(";")[0].strip().replace("-", "_") for part in header.split(",")]
    found = negotiate_locale([w for w in wanted if w], list(LOCALES), sep="_")
    return found.split("_")[0] if found else DEFAULT_LOCALE


def local_input(value: datetime | None, timezone: str) -> str:
    """A time as a `datetime-local` field shows it, in the event's time zone."""
    if value is None:
        return ""
    try:
        shown = value.astimezone(ZoneInfo(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        shown = value
    return shown.strftime("%Y-%m-%dT%H:%M")


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]

    def money(cents: int, currency: str) -> str:
        return format_money(cents, currency, _current.get())

    def moment(value: datetime, timezone: str | None = None) -> str:
        return format_moment(value, locale=_current.get(), timezone=timezone)

    def day(value: date | datetime) -> str:
        return format_day(value, _current.get())

    env.filters.update(money=money, moment=moment, day=day, local_input=local_input)
    return env


ENVIRONMENT = _environment()


def _html(request: Request, template: str, context: Mapping[str, Any], chosen: str) -> str:
    token = _current.set(chosen)
    try:
        return ENVIRONMENT.get_template(template).render(
            {
                "request": request,
                "lang": chosen,
                "viewer": getattr(request.state, "page_user", None),
                "csrf_token": request.state.csrf_token,
                **in_language(context, chosen),
            }
        )
    finally:
        _current.reset(token)


def _page(request: Request, html: str, status_code: int, csp: str) -> HTMLResponse:
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Content-Security-Policy"] = csp
    response.headers["Cache-Control"] = "no-store"
    return finish(request, response)


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    locale: str | None = None,
    shareable: bool = False,
    csp: str = CSP,
) -> HTMLResponse:
    """A page in the visitor's language, with the visitor and the form token every layout
    needs. A `shareable` page that came out the same as for any visitor (nobody signed in, no
    form token, no cookie to set) may be served to the next visitors from `api.pages.cache`."""
    chosen = locale or visitor_locale(request)
    html = _html(request, template, context or {}, chosen)
    request.state.page_shareable = (
        shareable
        and status_code == 200
        and getattr(request.state, "page_user", None) is None
        and not request.state.csrf_token.used
        and not getattr(request.state, "cookie_changes", None)
    )
    return _page(request, html, status_code, csp)


def visitor_locale(request: Request) -> str:
    """The language this request's pages speak (the account's, else the browser's)."""
    return page_locale(request, getattr(request.state, "page_locale", None))


# What a page says of one signed-in visitor, as holes in a page rendered once for all of them
# (`api.pages.cache.SignedInPages`); NUL never comes out of a template otherwise.
NAME_HOLE, TOKEN_HOLE, KEY_HOLE = "\0viewer-name\0", "\0form-token\0", "\0form-key\0"


@dataclass(frozen=True)
class _AnyViewer:
    role: str  # the layout's links depend on it (organizers get the back office)
    name: str = NAME_HOLE


def render_with_holes(request: Request, template: str, context: Mapping[str, Any]) -> str:
    """A page as every signed-in visitor of this role in this language sees it, with holes for
    the name, the form token and the booking form's key (`fill_holes` fills them for one
    visitor); `shared_key` says which visitors share it."""
    viewer = _AnyViewer(role=request.state.page_user.role)
    holes = {"viewer": viewer, "csrf_token": TOKEN_HOLE, "form_key": KEY_HOLE}
    return _html(request, template, {**context, **holes}, visitor_locale(request))


def shared_key(request: Request, *parts: object) -> tuple[object, ...]:
    """Which signed-in visitors see a page alike: by its `parts`, their language and role."""
    return (*parts, visitor_locale(request), request.state.page_user.role)


def fill_holes(request: Request, html: str, *, csp: str = CSP) -> HTMLResponse:
    """A page from `render_with_holes`, for this request's signed-in visitor."""
    name = str(escape(request.state.page_user.name))
    filled = (
        html.replace(NAME_HOLE, name)
        .replace(TOKEN_HOLE, str(request.state.csrf_token))
        .replace(KEY_HOLE, uuid.uuid4().hex)
    )
    request.state.page_shareable = False
    return _page(request, filled, 200, csp)


def attachment(content: bytes, media_type: str, name: str) -> Response:
    """A file to download (a PDF, a calendar entry)."""
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def redirect(request: Request, url: str) -> RedirectResponse:
    """After a form: see the next page (303, so a reload does not post again)."""
    return finish(request, RedirectResponse(url, status_code=303))


def finish(request: Request, response: R) -> R:
    """Set or clear the cookies this request decided on (the session, the form token)."""
    for apply in getattr(request.state, "cookie_changes", ()):
        apply(response)
    return response
