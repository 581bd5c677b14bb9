"""One error tree, rendered as RFC 9457 `application/problem+json` with a stable `code`."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.inputs import example
from api.observability import current_request_id

log = logging.getLogger("tessera.errors")

PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    """Base of every error the API answers with on purpose."""

    status: int = 500
    code: str = "internal"
    title: str = "Internal Server Error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.field = field
        self.headers = headers or {}
        if code is not None:
            self.code = code


class BadRequest(AppError):
    status, code, title = 400, "bad_request", "Bad Request"


class Unauthorized(AppError):
    status, code, title = 401, "auth.unauthorized", "Unauthorized"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class Forbidden(AppError):
    status, code, title = 403, "auth.forbidden", "Forbidden"


class NotFound(AppError):
    status, code, title = 404, "not_found", "Not Found"


class Conflict(AppError):
    status, code, title = 409, "conflict", "Conflict"


class Unprocessable(AppError):
    status, code, title = 422, "validation_error", "Unprocessable Content"


class PayloadTooLarge(AppError):
    status, code, title = 413, "payload_too_large", "Content Too Large"


class UnsupportedMediaType(AppError):
    status, code, title = 415, "unsupported_media_type", "Unsupported Media Type"


class TooManyRequests(AppError):
    status, code, title = 429, "rate_limited", "Too Many Requests"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(
            detail or "Too many attempts; try again later.",
            headers={"Retry-After": str(max(1, retry_after))},
        )
        self.retry_after = max(1, retry_after)


class ServiceUnavailable(AppError):
    status, code, title = 503, "unavailable", "Service Unavailable"


def problem(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """Render one problem document."""
    body: dict[str, Any] = {
        "type": f"urn:tessera:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
        "request_id": current_request_id(),
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return app_error_response(request, exc)


def app_error_response(request: Request, exc: AppError) -> JSONResponse:
    """The problem document an `AppError` is answered with."""
    return problem(
        request,
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        headers=exc.headers,
        field=exc.field,
    )


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field_path(err["loc"]), "message": err["msg"], "type": err["type"]}
        for err in exc.errors()
    ]
    return problem(
        request,
        status=422,
        code="validation_error",
        title="Unprocessable Content",
        detail="The request is not valid; see `errors` for each field at fault.",
        errors=errors,
        field=errors[0]["field"] if errors else None,
    )


_HTTP_CODES = {
    404: "http.not_found",
    405: "http.method_not_allowed",
    400: "http.bad_request",
    413: "http.payload_too_large",
}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = HTTPStatus(exc.status_code).phrase
    return problem(
        request,
        status=exc.status_code,
        code=_HTTP_CODES.get(exc.status_code, f"http.{exc.status_code}"),
        title=title,
        detail=str(exc.detail) if exc.detail else title,
        headers=dict(exc.headers or {}),
    )


async def _stale(request: Request, exc: Exception) -> JSONResponse:
    return problem(
        request,
        status=409,
        code="conflict.concurrent_update",
        title="Conflict",
        detail="Someone else changed this at the same time; read it again and retry.",
    )


BUSY_SQLSTATES = {"40P01", "55P03", "40001"}  # deadlock, lock timeout, serialization failure


def _is_busy(exc: DBAPIError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return sqlstate in BUSY_SQLSTATES or "database is locked" in str(exc.orig)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if not _is_busy(exc):
        return await _unhandled(request, exc)
    log.warning("database busy: %s", exc.orig)
    return database_busy(request)


def database_busy(request: Request) -> JSONResponse:
    """The answer when a lock was waited for too long (or a deadlock broken): try again."""
    return problem(
        request,
        status=503,
        code="database.busy",
        title="Service Unavailable",
        detail="Too many people are doing the same thing right now; try again in a moment.",
        headers={"Retry-After": "1"},
    )


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem(
        request,
        status=500,
        code="internal",
        title="Internal Server Error",
        detail="Something went wrong on our side; quote the request id when reporting it.",
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(StaleDataError, _stale)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(Exception, _unhandled)


class FieldError(BaseModel):
    field: str
    message: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem document, as every error is answered."""

    model_config = example(
        {
            "type": "urn:tessera:problem:booking.sold_out",
            "title": "Conflict",
            "status": 409,
            "detail": "Only 1 seat of Standing is left.",
            "instance": "/bookings",
            "code": "booking.sold_out",
            "request_id": "9f2c4e1a7b3d4c5e8a6f0b1d2e3c4a5b",
            "field": "lines.0.quantity",
        }
    )

    type: str
    title: str
    status: int
    detail: str
    instance: str
    code: str
    request_id: str | None = None
    field: str | None = None
    errors: list[FieldError] | None = None


_DESCRIPTIONS = {
    400: "The request cannot be carried out as it stands",
    401: "Not signed in, or the token is not valid",
    403: "Signed in, but not allowed to do this",
    404: "No such resource",
    409: "Conflicts with the current state",
    413: "The upload is too large",
    415: "The upload is not of an accepted type",
    422: "The request body or parameters are not valid",
    429: "Too many attempts; see Retry-After",
    502: "An outside service (a sign-in provider) failed to answer properly",
    503: "Temporarily unavailable; see Retry-After",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the problem answers a route can give."""
    return {
        status: {
            "model": Problem,
            "description": _DESCRIPTIONS[status],
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
