"""HTTP routes of sign-up, sign-in, sessions and verification."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response, status
from fastapi.responses import JSONResponse

from api.auth import service, verification
from api.auth.dependencies import CurrentUser, PasswordCheckDep
from api.auth.schemas import (
    Accepted,
    ChangePasswordRequest,
    ConfirmResetRequest,
    Done,
    LoginRequest,
    LogoutRequest,
    RefreshRequest,
    RegisterRequest,
    ResetPasswordRequest,
    SendPhoneCodeRequest,
    TokenPair,
    VerifyEmailRequest,
    VerifyPhoneRequest,
)
from api.deps import Public, RateLimiterDep, SessionDep, SettingsDep
from api.errors import problem_responses
from api.idempotency import IdempotencyDep
from api.users.schemas import UserProfile, profile_view

router = APIRouter(prefix="/auth", tags=["auth"], responses=problem_responses(422))


async def _after_account_messages(request: Request, background: BackgroundTasks) -> None:
    """Routes that ask for account messages end with what the composition root hooks in as
    `app.state.after_account_messages` (api/main.py: their delivery right after the response),
    since auth sits below notifications and cannot name it."""
    hook = getattr(request.app.state, "after_account_messages", None)
    if hook is not None:
        await hook(request, background)


AccountMessages = Depends(_after_account_messages)


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post(
    "/register",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    dependencies=[Public, AccountMessages],
    responses=problem_responses(429),
)
async def register(
    body: RegisterRequest,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    checker: PasswordCheckDep,
    limiter: RateLimiterDep,
    idempotency: IdempotencyDep,
) -> JSONResponse:
    """Create an account; the answer is the same whether or not the email is already known."""
    if (replay := await idempotency.replay(session)) is not None:
        return replay
    await limiter.hit("register-ip", _ip(request), settings.rate_limit_register_ip)
    result = await service.register(session, settings, checker, body)
    return await idempotency.respond(session, result, status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/login",
    response_model=TokenPair,
    dependencies=[Public],
    responses=problem_responses(401, 403, 429),
)
async def login(
    body: LoginRequest,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    checker: PasswordCheckDep,
    limiter: RateLimiterDep,
) -> TokenPair:
    """Exchange email and password for an access token and a refresh token."""
    await limiter.hit("login-ip", _ip(request), settings.rate_limit_login_ip)
    await limiter.hit("login-account", str(body.email), settings.rate_limit_login_account)
    return await service.login(
        session,
        settings,
        checker,
        email=str(body.email),
        password=body.password,
        user_agent=request.headers.get("user-agent"),
        ip=_ip(request),
    )


@router.post(
    "/refresh",
    response_model=TokenPair,
    dependencies=[Public],
    responses=problem_responses(401, 403),
)
async def refresh(
    body: RefreshRequest, request: Request, session: SessionDep, settings: SettingsDep
) -> TokenPair:
    """Rotate the refresh token: the old one stops working, a reused one ends the session."""
    return await service.refresh(
        session, settings, refresh_token=body.refresh_token, ip=_ip(request)
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(401))
async def logout(
    user: CurrentUser, request: Request, session: SessionDep, body: LogoutRequest | None = None
) -> Response:
    """End this session (or the one a refresh token belongs to, or every session)."""
    body = body or LogoutRequest()
    await service.logout(
        session,
        user=user,
        current_session_id=request.state.auth_session_id,
        refresh_token=body.refresh_token,
        everywhere=body.everywhere,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/change-password",
    response_model=TokenPair,
    dependencies=[AccountMessages],
    responses=problem_responses(401),
)
async def change_password(
    body: ChangePasswordRequest,
    user: CurrentUser,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    checker: PasswordCheckDep,
) -> TokenPair:
    """Change the password; every session ends and a new one is opened for this client."""
    return await service.change_password(
        session,
        settings,
        checker,
        user=user,
        current_password=body.current_password,
        new_password=body.new_password,
        user_agent=request.headers.get("user-agent"),
        ip=_ip(request),
    )


@router.post(
    "/reset-password",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    dependencies=[Public, AccountMessages],
    responses=problem_responses(429),
)
async def reset_password(
    body: ResetPasswordRequest,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
) -> Accepted:
    """Mail a password-reset link; the answer never says whether the account exists."""
    await limiter.hit("reset-ip", _ip(request), settings.rate_limit_reset_ip)
    await limiter.hit("reset-account", str(body.email), settings.rate_limit_reset_account)
    return await verification.request_password_reset(session, settings, email=str(body.email))


@router.post(
    "/confirm-reset",
    response_model=Done,
    dependencies=[Public, AccountMessages],
    responses=problem_responses(400, 429),
)
async def confirm_reset(
    body: ConfirmResetRequest,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    checker: PasswordCheckDep,
    limiter: RateLimiterDep,
) -> Done:
    """Set a new password with the token from the reset link; the token works once."""
    await limiter.hit("verify-ip", _ip(request), settings.rate_limit_verify_ip)
    await verification.confirm_password_reset(
        session, settings, checker, token=body.token, new_password=body.new_password
    )
    return Done()


@router.post(
    "/verify-email",
    response_model=Done,
    dependencies=[Public],
    responses=problem_responses(400, 429),
)
async def verify_email(
    body: VerifyEmailRequest,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
) -> Done:
    """Confirm the email address with the token from the confirmation link."""
    await limiter.hit("verify-ip", _ip(request), settings.rate_limit_verify_ip)
    await verification.verify_email(session, token=body.token)
    return Done()


@router.post(
    "/verify-email/resend",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    dependencies=[AccountMessages],
    responses=problem_responses(401, 429),
)
async def resend_verification(
    user: CurrentUser, session: SessionDep, settings: SettingsDep, limiter: RateLimiterDep
) -> Accepted:
    """Send a new confirmation link to the signed-in user's address."""
    await limiter.hit("verify-account", str(user.id), settings.rate_limit_verify_account)
    return await verification.resend_email_verification(session, settings, user=user)


@router.post(
    "/verify-phone/send",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    dependencies=[AccountMessages],
    responses=problem_responses(400, 401, 429),
)
async def send_phone_code(
    user: CurrentUser,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
    body: SendPhoneCodeRequest | None = None,
) -> Accepted:
    """Text a six-digit code to the given phone or the profile's phone."""
    await limiter.hit("verify-ip", _ip(request), settings.rate_limit_verify_ip)
    await limiter.hit("verify-account", str(user.id), settings.rate_limit_verify_account)
    body = body or SendPhoneCodeRequest()
    return await verification.send_phone_code(session, settings, user=user, phone=body.phone)


@router.post(
    "/verify-phone", response_model=UserProfile, responses=problem_responses(400, 401, 429)
)
async def verify_phone(
    body: VerifyPhoneRequest,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
) -> UserProfile:
    """Confirm the phone number with the code that was texted to it."""
    await limiter.hit("verify-account", str(user.id), settings.rate_limit_verify_account)
    await verification.verify_phone(session, settings, user=user, code=body.code)
    return profile_view(user)
