"""The account pages our emails link to: sign up, confirm the address, sign in and out, forget
and reset a password. Each calls the auth service the JSON API calls, with the API's own
request rules, and shows what those rules said beside the field they were about."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Query, Request
from fastapi.responses import Response
from pydantic import EmailStr, TypeAdapter, ValidationError

from api.auth import browser, oauth, service, verification
from api.auth.dependencies import PasswordCheckDep
from api.auth.schemas import LoginRequest, RegisterRequest
from api.deps import RateLimiterDep, SessionDep, SettingsDep, WritingSessionDep
from api.errors import AppError
from api.notifications.dependencies import DeliverNotifications
from api.pages.problems import Problem
from api.pages.rendering import page_locale, redirect, render
from api.pages.routing import FormRejected, page_router
from api.pages.visitor import CheckedForm, Visitor, drop_session, keep_session

router = page_router()

Text = Annotated[str, Form(max_length=1024)]
Token = Annotated[str, Query(max_length=256)]
EMAIL = TypeAdapter(EmailStr)


def field_errors(error: ValidationError | AppError) -> dict[str, str]:
    """What the rules said, by form field (`form` for the form as a whole), each with its code
    (the page says it in the visitor's language)."""
    if isinstance(error, AppError):
        field = (error.field or "form").removeprefix("body.")
        return {field: Problem.of(error)}
    found: dict[str, str] = {}
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else "email"
        message = problem["msg"].removeprefix("Value error, ")
        found.setdefault(field, Problem(message, f"validation.{problem['type']}"))
    return found


def link_failed(request: Request, error: AppError) -> FormRejected:
    """The page a link from an email opens when its token does not work, with why."""
    return FormRejected.render(
        request, "account/link_failed.html", {"detail": Problem.of(error)}, 400
    )


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def local_path(target: str | None) -> str:
    """Where to go after signing in: only a path on this site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/account/sign-up")
async def sign_up_form(request: Request, visitor: Visitor, settings: SettingsDep) -> Response:
    if visitor is not None:
        return redirect(request, "/")
    context = {"values": {}, "errors": {}, "providers": oauth.configured(settings)}
    return render(request, "account/sign_up.html", context)


@router.post("/account/sign-up", dependencies=[DeliverNotifications])
async def sign_up(
    request: Request,
    visitor: CheckedForm,
    session: SessionDep,
    settings: SettingsDep,
    checker: PasswordCheckDep,
    limiter: RateLimiterDep,
    email: Text = "",
    password: Text = "",
    full_name: Text = "",
) -> Response:
    """The same answer whether or not the address is known (the email tells the owner)."""
    try:
        body = RegisterRequest(
            email=email, password=password, full_name=full_name, locale=page_locale(request)
        )
        await limiter.hit("register-ip", _ip(request), settings.rate_limit_register_ip)
        await service.register(session, settings, checker, body)
    except (ValidationError, AppError) as error:
        context = {
            "values": {"email": email, "full_name": full_name},
            "errors": field_errors(error),
            "providers": oauth.configured(settings),
        }
        raise FormRejected.render(request, "account/sign_up.html", context) from error
    return render(request, "account/check_email.html", {"email": str(body.email)})


@router.get("/verify-email")
async def verify_email(
    request: Request, visitor: Visitor, session: WritingSessionDep, token: Token = ""
) -> Response:
    """The link in the confirmation email: the address is confirmed on arrival (the token is
    single-use, so a second click says so)."""
    try:
        await verification.verify_email(session, token=token)
    except AppError as error:
        raise link_failed(request, error) from error
    return render(request, "account/verified.html")


@router.get("/account/sign-in")
async def sign_in_form(
    request: Request, visitor: Visitor, settings: SettingsDep, next: Token = "/"
) -> Response:
    if visitor is not None:
        return redirect(request, local_path(next))
    context = {
        "values": {},
        "errors": {},
        "next": local_path(next),
        "providers": oauth.configured(settings),
    }
    return render(request, "account/sign_in.html", context)


@router.post("/account/sign-in")
async def sign_in(
    request: Request,
    visitor: CheckedForm,
    session: SessionDep,
    settings: SettingsDep,
    checker: PasswordCheckDep,
    limiter: RateLimiterDep,
    email: Text = "",
    password: Text = "",
    next: Text = "/",
) -> Response:
    try:
        body = LoginRequest(email=email, password=password)
        await limiter.hit("login-ip", _ip(request), settings.rate_limit_login_ip)
        await limiter.hit("login-account", str(body.email), settings.rate_limit_login_account)
        user = await service.check_credentials(
            session, checker, email=str(body.email), password=body.password
        )
        opened = await browser.open_browser_session(
            session,
            settings,
            user=user,
            user_agent=request.headers.get("user-agent"),
            ip=_ip(request),
        )
    except (ValidationError, AppError) as error:
        context: dict[str, Any] = {
            "values": {"email": email},
            "errors": {"form": Problem.of(error)}
            if isinstance(error, AppError)
            else field_errors(error),
            "next": local_path(next),
            "providers": oauth.configured(settings),
        }
        raise FormRejected.render(request, "account/sign_in.html", context) from error
    keep_session(request, settings, opened)
    return redirect(request, local_path(next))


@router.post("/account/sign-out")
async def sign_out(
    request: Request, visitor: CheckedForm, session: SessionDep, settings: SettingsDep
) -> Response:
    session_id = getattr(request.state, "auth_session_id", None)
    if visitor is not None and session_id is not None:
        await browser.end_browser_session(session, user=visitor, session_id=session_id)
    drop_session(request, settings)
    return redirect(request, "/")


@router.get("/account/forgot-password")
async def forgot_password_form(request: Request, visitor: Visitor) -> Response:
    return render(request, "account/forgot_password.html", {"values": {}, "errors": {}})


@router.post("/account/forgot-password", dependencies=[DeliverNotifications])
async def forgot_password(
    request: Request,
    visitor: CheckedForm,
    session: SessionDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
    email: Text = "",
) -> Response:
    """The same answer whether or not the address is known."""
    try:
        address = str(EMAIL.validate_python(email))
        await limiter.hit("reset-ip", _ip(request), settings.rate_limit_reset_ip)
        await limiter.hit("reset-account", address, settings.rate_limit_reset_account)
        await verification.request_password_reset(session, settings, email=address)
    except (ValidationError, AppError) as error:
        context = {"values": {"email": email}, "errors": field_errors(error)}
        raise FormRejected.render(request, "account/forgot_password.html", context) from error
    return render(request, "account/check_email.html", {"email": address})


@router.get("/reset-password")
async def reset_password_form(request: Request, visitor: Visitor, token: Token = "") -> Response:
    """The link in the reset email: choose a new password (the token is spent on saving)."""
    return render(request, "account/reset_password.html", {"token": token, "errors": {}})


@router.post("/reset-password")
async def reset_password(
    request: Request,
    visitor: CheckedForm,
    session: SessionDep,
    settings: SettingsDep,
    checker: PasswordCheckDep,
    limiter: RateLimiterDep,
    token: Text = "",
    new_password: Text = "",
) -> Response:
    """Every session of the account ends, this browser's included: sign in with the new one."""
    try:
        await limiter.hit("reset-ip", _ip(request), settings.rate_limit_reset_ip)
        await verification.confirm_password_reset(
            session, settings, checker, token=token, new_password=new_password
        )
    except AppError as error:
        errors = field_errors(error)
        if "password" in errors:
            errors["new_password"] = errors.pop("password")
        context = {"token": token, "errors": errors}
        raise FormRejected.render(request, "account/reset_password.html", context) from error
    drop_session(request, settings)
    return render(request, "account/password_changed.html")
