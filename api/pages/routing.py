"""Page routes answer in HTML, errors included.

A page never ends a transaction itself: like an API route, it raises and the request's unit of
work rolls back. A form the visitor can correct raises `FormRejected` with the form rendered
again (what was wrong beside each field); any other refusal becomes an error page with the
status the JSON API would give.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast
from urllib.parse import urlencode

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, APIRouter

from api.errors import AppError
from api.pages.problems import Problem
from api.pages.rendering import redirect, render

JsonHandler = Callable[[Request, Exception], Awaitable[Response]]


class PageRoute(APIRoute):
    """A route that renders HTML (its errors too)."""


class FormRejected(Exception):
    """Show this form again with what was wrong: the page is rendered while the request's data
    is still at hand, then the unit of work rolls back, then this answers."""

    def __init__(self, page: Response) -> None:
        super().__init__(page.status_code)
        self.page = page

    @classmethod
    def render(
        cls,
        request: Request,
        template: str,
        context: Mapping[str, Any],
        status_code: int = 422,
    ) -> FormRejected:
        return cls(render(request, template, context, status_code=status_code))


class SignInFirst(Exception):
    """This page is for a signed-in visitor: to the sign-in page, and back here after."""

    def __init__(self, back_to: str) -> None:
        super().__init__(back_to)
        self.back_to = back_to


def page_router() -> APIRouter:
    """A router for pages: HTML errors, and out of the JSON API's document."""
    return APIRouter(route_class=PageRoute, include_in_schema=False)


def _on_a_page(request: Request) -> bool:
    return isinstance(request.scope.get("route"), PageRoute) and hasattr(
        request.state, "csrf_token"
    )


def _error_page(request: Request, status: int, detail: str | None, code: str) -> Response:
    return render(
        request,
        "error.html",
        {"status": status, "detail": Problem(detail, code) if detail else None, "code": code},
        status_code=status,
    )


def install_page_errors(app: FastAPI) -> None:
    """Errors raised on a page answer as pages; elsewhere the JSON handlers answer as before."""
    # The JSON handlers of api/errors.py, all coroutines.
    json_app_error = cast(JsonHandler, app.exception_handlers[AppError])
    json_validation = cast(JsonHandler, app.exception_handlers[RequestValidationError])

    async def form_rejected(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, FormRejected)
        return exc.page

    async def app_error(request: Request, exc: Exception) -> Response:
        if not _on_a_page(request):
            return await json_app_error(request, exc)
        assert isinstance(exc, AppError)
        response = _error_page(request, exc.status, exc.detail, exc.code)
        response.headers.update(exc.headers)
        return response

    async def validation_error(request: Request, exc: Exception) -> Response:
        if not _on_a_page(request):
            return await json_validation(request, exc)
        return _error_page(request, 422, None, "validation")

    async def sign_in_first(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInFirst)
        return redirect(request, "/account/sign-in?" + urlencode({"next": exc.back_to}))

    app.add_exception_handler(FormRejected, form_rejected)
    app.add_exception_handler(SignInFirst, sign_in_first)
    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(RequestValidationError, validation_error)
