"""Sign-up, sign-in and sessions. Callers commit, except where a refusal must still be kept."""

from __future__ import annotations

import uuid
from datetime import timedelta

import jwt
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api import audit
from api.auth import passwords as password_policy
from api.auth import tokens
from api.auth.errors import (
    AccountInactive,
    InvalidCredentials,
    InvalidToken,
    RefreshReused,
    WeakPassword,
)
from api.auth.models import AuthSession, RefreshToken, TokenPurpose, UserToken
from api.auth.passwords import PasswordCheck
from api.auth.schemas import Accepted, RegisterRequest, TokenPair
from api.config import Settings
from api.db import utcnow
from api.message_requests import request_message
from api.users import EmailTaken, User, UserStatus, profile_view
from api.users import service as users

REGISTER_ACCEPTED = Accepted(
    detail="If this address can be registered, a confirmation link is on its way to it."
)


def check_password_policy(settings: Settings, password: str, *, email: str | None) -> None:
    problem = password_policy.policy_problem(
        password, min_length=settings.password_min_length, email=email
    )
    if problem:
        raise WeakPassword(problem, field="password")


async def register(
    session: AsyncSession, settings: Settings, checker: PasswordCheck, form: RegisterRequest
) -> Accepted:
    """Create the account and send a confirmation link; a known email gets a notice instead."""
    email, password = str(form.email), form.password
    check_password_policy(settings, password, email=email)
    password_hash = await checker.hash(password)  # hashed either way, so both paths take as long
    existing = await users.get_by_email(session, email=email)
    if existing is not None:
        if existing.status != UserStatus.deleted:
            await request_message(
                session,
                settings,
                template="account_exists",
                channel="email",
                recipient=existing.email,
                user_id=existing.id,
                context={"name": existing.public_name, "base_url": settings.public_base_url},
            )
        return REGISTER_ACCEPTED
    try:
        user = await users.create(
            session,
            email=email,
            full_name=form.full_name,
            password_hash=password_hash,
            phone=form.phone,
            locale=form.locale,
            timezone=form.timezone,
        )
    except EmailTaken:  # a concurrent sign-up with the same address won the race
        return REGISTER_ACCEPTED
    await send_email_verification(session, settings, user=user)
    return REGISTER_ACCEPTED


async def send_email_verification(session: AsyncSession, settings: Settings, *, user: User) -> None:
    """Store a single-use token's hash and mail the token in a link."""
    ttl = settings.email_token_ttl_seconds
    await send_link_token(
        session,
        settings,
        user=user,
        purpose=TokenPurpose.verify_email,
        ttl_seconds=ttl,
        template="verify_email",
        context={"hours": ttl // 3600},
    )


async def send_link_token(
    session: AsyncSession,
    settings: Settings,
    *,
    user: User,
    purpose: TokenPurpose,
    ttl_seconds: int,
    template: str,
    context: dict[str, object],
) -> None:
    """Store the hash of a single-use token for one purpose and mail the token to the user's
    address in a link; the message also gets the user's name and the site's address."""
    token = tokens.new_opaque_token()
    session.add(
        UserToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=tokens.token_hash(token),
            email=user.email,
            expires_at=utcnow() + timedelta(seconds=ttl_seconds),
        )
    )
    await request_message(
        session,
        settings,
        template=template,
        channel="email",
        recipient=user.email,
        user_id=user.id,
        context={"name": user.public_name, "base_url": settings.public_base_url, **context},
        secret={"token": token},
    )


async def login(
    session: AsyncSession,
    settings: Settings,
    checker: PasswordCheck,
    *,
    email: str,
    password: str,
    user_agent: str | None,
    ip: str | None,
) -> TokenPair:
    """Check the password and open a session; unknown emails fail exactly like wrong passwords."""
    user = await check_credentials(session, checker, email=email, password=password)
    return await open_session(session, settings, user=user, user_agent=user_agent, ip=ip)


async def check_credentials(
    session: AsyncSession, checker: PasswordCheck, *, email: str, password: str
) -> User:
    """The active account this email and password belong to; unknown emails fail exactly like
    wrong passwords."""
    user = await users.get_by_email(session, email=email)
    stored = user.password_hash if user is not None else None
    if not await checker.verify(stored, password) or user is None or stored is None:
        raise InvalidCredentials("The email or password is not correct.")
    if user.status != UserStatus.active:
        raise AccountInactive("This account is suspended; contact support.")
    if checker.needs_rehash(stored):
        await users.set_password_hash(
            session, user=user, password_hash=await checker.hash(password), revoke_sessions=False
        )
    await users.mark_logged_in(session, user=user)
    return user


async def open_session(
    session: AsyncSession,
    settings: Settings,
    *,
    user: User,
    user_agent: str | None,
    ip: str | None,
) -> TokenPair:
    auth_session = AuthSession(
        id=uuid.uuid4(), user_id=user.id, user_agent=(user_agent or "")[:300] or None, ip=ip
    )
    session.add(auth_session)
    return await _issue(session, settings, user=user, auth_session=auth_session)


async def _issue(
    session: AsyncSession, settings: Settings, *, user: User, auth_session: AuthSession
) -> TokenPair:
    refresh = tokens.new_opaque_token()
    ttl = settings.refresh_token_ttl_seconds
    session.add(
        RefreshToken(
            session_id=auth_session.id,
            token_hash=tokens.token_hash(refresh),
            expires_at=utcnow() + timedelta(seconds=ttl),
        )
    )
    await session.flush()
    access, expires_in = tokens.issue_access_token(
        settings,
        user_id=user.id,
        role=user.role.value,
        name=user.public_name,
        session_id=auth_session.id,
    )
    return TokenPair(
        access_token=access,
        expires_in=expires_in,
        refresh_token=refresh,
        refresh_expires_in=ttl,
        user=profile_view(user),
    )


async def refresh(
    session: AsyncSession, settings: Settings, *, refresh_token: str, ip: str | None
) -> TokenPair:
    """Rotate a refresh token; presenting a used one ends its whole session (theft signal)."""
    row = await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == tokens.token_hash(refresh_token))
    )
    if row is None:
        raise InvalidToken("This refresh token is not valid.", field="refresh_token")
    auth_session = await session.get(AuthSession, row.session_id)
    assert auth_session is not None
    if auth_session.revoked_at is not None or row.expires_at <= utcnow():
        raise InvalidToken("This session has ended; sign in again.", field="refresh_token")
    now = utcnow()
    # The conditional update is the single point where two racing uses are told apart.
    claimed = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        await revoke_session(session, auth_session, reason="refresh_reused")
        await audit.record(
            session,
            "auth.refresh_reused",
            target_type="user",
            target_id=auth_session.user_id,
            actor_id=auth_session.user_id,
            details={"session_id": str(auth_session.id)},
        )
        await session.commit()  # the revocation must stand although the request fails
        raise RefreshReused(
            "This refresh token was already used; the session has been ended for safety.",
            field="refresh_token",
        )
    user = await users.get_or_raise(session, user_id=auth_session.user_id)
    if user.status != UserStatus.active:
        raise AccountInactive("This account is not active.")
    auth_session.last_used_at = now
    auth_session.ip = ip or auth_session.ip
    return await _issue(session, settings, user=user, auth_session=auth_session)


async def revoke_session(session: AsyncSession, auth_session: AuthSession, *, reason: str) -> None:
    if auth_session.revoked_at is None:
        auth_session.revoked_at = utcnow()
        auth_session.revoked_reason = reason
    await session.flush()


async def revoke_all_sessions(session: AsyncSession, *, user_id: uuid.UUID, reason: str) -> None:
    await session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


async def logout(
    session: AsyncSession,
    *,
    user: User,
    current_session_id: uuid.UUID | None,
    refresh_token: str | None,
    everywhere: bool,
) -> None:
    """End the caller's session, the one a refresh token belongs to, or all of them."""
    if everywhere:
        await revoke_all_sessions(session, user_id=user.id, reason="logout_everywhere")
        user.tokens_valid_after = utcnow()
        return
    session_id = current_session_id
    if refresh_token is not None:
        row = await session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == tokens.token_hash(refresh_token))
        )
        session_id = row.session_id if row is not None else None
    auth_session = await session.get(AuthSession, session_id) if session_id else None
    if auth_session is None or auth_session.user_id != user.id:
        raise InvalidToken("This refresh token is not valid.", field="refresh_token")
    await revoke_session(session, auth_session, reason="logout")


async def change_password(
    session: AsyncSession,
    settings: Settings,
    checker: PasswordCheck,
    *,
    user: User,
    current_password: str,
    new_password: str,
    user_agent: str | None,
    ip: str | None,
) -> TokenPair:
    """Replace the password, end every session, and open a fresh one for this client."""
    if not await checker.verify(user.password_hash, current_password):
        raise InvalidCredentials("The current password is not correct.", field="current_password")
    check_password_policy(settings, new_password, email=user.email)
    await set_new_password(session, settings, checker, user=user, password=new_password)
    return await open_session(session, settings, user=user, user_agent=user_agent, ip=ip)


async def set_new_password(
    session: AsyncSession, settings: Settings, checker: PasswordCheck, *, user: User, password: str
) -> None:
    await users.set_password_hash(
        session, user=user, password_hash=await checker.hash(password), revoke_sessions=True
    )
    await revoke_all_sessions(session, user_id=user.id, reason="password_changed")
    await audit.record(
        session, "auth.password_changed", target_type="user", target_id=user.id, actor_id=user.id
    )
    await request_message(
        session,
        settings,
        template="password_changed",
        channel="email",
        recipient=user.email,
        user_id=user.id,
        context={"name": user.public_name},
    )


def token_claims(verified: tokens.VerifiedTokens, access_token: str) -> tokens.AccessClaims | None:
    """What a well-signed, current access token says, or None; whether its session is live and
    its user active is the database's to say (`authenticate` checks both)."""
    try:
        return verified.claims(access_token)
    except jwt.InvalidTokenError:
        return None


def verified_tokens(settings: Settings) -> tokens.VerifiedTokens:
    """A process's memory of the access tokens it has verified (`token_claims` reads it)."""
    return tokens.VerifiedTokens(settings)


async def authenticate(
    session: AsyncSession, settings: Settings, *, access_token: str, browser: bool = False
) -> tuple[User, uuid.UUID | None]:
    """The user an access token (or, with `browser`, a page session cookie) speaks for,
    refusing ended sessions and inactive accounts."""
    try:
        claims = tokens.decode_access_token(settings, access_token, browser=browser)
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("The access token has expired.", code="auth.token_expired") from exc
    except jwt.InvalidTokenError as exc:
        raise InvalidToken("The access token is not valid.") from exc
    # The user and the token's session in one round trip: this runs on every request.
    found = (
        await session.execute(
            select(User, AuthSession.id, AuthSession.revoked_at)
            .outerjoin(
                AuthSession,
                (AuthSession.id == claims.session_id) & (AuthSession.user_id == User.id),
            )
            .where(User.id == claims.user_id)
        )
    ).one_or_none()
    if found is None:
        raise InvalidToken("The access token is not valid.")
    user, session_found, revoked_at = found
    if user.status != UserStatus.active:
        raise InvalidToken("The access token is not valid.")
    if user.tokens_valid_after is not None and claims.issued_at < user.tokens_valid_after.replace(
        microsecond=0
    ):
        raise InvalidToken("This session has ended; sign in again.")
    if claims.session_id is not None and (session_found is None or revoked_at is not None):
        raise InvalidToken("This session has ended; sign in again.")
    return user, claims.session_id
