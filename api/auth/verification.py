"""Email verification, password reset and phone verification."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import tokens
from api.auth.errors import InvalidLinkToken, InvalidPhoneCode, NoPhoneNumber
from api.auth.models import PhoneCode, TokenPurpose, UserToken
from api.auth.passwords import PasswordCheck
from api.auth.schemas import Accepted
from api.auth.service import (
    check_password_policy,
    send_email_verification,
    send_link_token,
    set_new_password,
)
from api.config import Settings
from api.db import utcnow
from api.message_requests import request_message
from api.users import User, UserStatus
from api.users import service as users

RESET_ACCEPTED = Accepted(
    detail="If an account uses this address, a link to reset its password is on its way."
)


async def resend_email_verification(
    session: AsyncSession, settings: Settings, *, user: User
) -> Accepted:
    if user.email_verified_at is None:
        await send_email_verification(session, settings, user=user)
    return Accepted(detail="If the address is not yet confirmed, a new link is on its way.")


async def _consume(session: AsyncSession, *, token: str, purpose: TokenPurpose) -> UserToken:
    """Mark a link token used, once: a conditional update, so two racing uses cannot both win."""
    row = await session.scalar(
        select(UserToken).where(
            UserToken.token_hash == tokens.token_hash(token), UserToken.purpose == purpose
        )
    )
    if row is None or row.expires_at <= utcnow():
        raise InvalidLinkToken("This link is not valid or has expired.", field="token")
    claimed = await session.execute(
        update(UserToken)
        .where(UserToken.id == row.id, UserToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidLinkToken("This link has already been used.", field="token")
    return row


async def verify_email(session: AsyncSession, *, token: str) -> User:
    row = await _consume(session, token=token, purpose=TokenPurpose.verify_email)
    user = await users.get_or_raise(session, user_id=row.user_id)
    if user.email != row.email or user.status == UserStatus.deleted:
        raise InvalidLinkToken(
            "This link is for an address the account no longer has.", field="token"
        )
    await users.mark_email_verified(session, user=user)
    return user


async def request_password_reset(
    session: AsyncSession, settings: Settings, *, email: str
) -> Accepted:
    """Mail a reset link when the account exists; answer the same either way."""
    user = await users.get_by_email(session, email=email)
    if user is None or user.status != UserStatus.active:
        return RESET_ACCEPTED
    ttl = settings.reset_token_ttl_seconds
    await send_link_token(
        session,
        settings,
        user=user,
        purpose=TokenPurpose.reset_password,
        ttl_seconds=ttl,
        template="reset_password",
        context={"minutes": ttl // 60},
    )
    return RESET_ACCEPTED


async def confirm_password_reset(
    session: AsyncSession,
    settings: Settings,
    checker: PasswordCheck,
    *,
    token: str,
    new_password: str,
) -> User:
    """Set the new password, end every session, and count the inbox as verified."""
    row = await _consume(session, token=token, purpose=TokenPurpose.reset_password)
    user = await users.get_or_raise(session, user_id=row.user_id)
    if user.email != row.email or user.status != UserStatus.active:
        raise InvalidLinkToken("This link is not valid or has expired.", field="token")
    check_password_policy(settings, new_password, email=user.email)
    await set_new_password(session, settings, checker, user=user, password=new_password)
    await users.mark_email_verified(session, user=user)
    return user


def _code_hash(settings: Settings, phone: str, code: str) -> str:
    key = settings.derived_key("phone-code")
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


async def send_phone_code(
    session: AsyncSession, settings: Settings, *, user: User, phone: str | None
) -> Accepted:
    """Text a six-digit code to the phone; earlier unused codes stop working."""
    phone = phone or user.phone
    if phone is None:
        raise NoPhoneNumber("Give a phone number or add one to your profile.", field="phone")
    now = utcnow()
    await session.execute(
        update(PhoneCode)
        .where(PhoneCode.user_id == user.id, PhoneCode.used_at.is_(None))
        .values(used_at=now)
    )
    code = tokens.new_numeric_code()
    ttl = settings.phone_code_ttl_seconds
    session.add(
        PhoneCode(
            user_id=user.id,
            phone=phone,
            code_hash=_code_hash(settings, phone, code),
            expires_at=now + timedelta(seconds=ttl),
        )
    )
    await request_message(
        session,
        settings,
        template="phone_code",
        channel="sms",
        recipient=phone,
        user_id=user.id,
        context={"minutes": ttl // 60},
        secret={"code": code},
    )
    return Accepted(detail="A verification code is on its way by text message.")


async def verify_phone(session: AsyncSession, settings: Settings, *, user: User, code: str) -> User:
    """Check the latest code. Each try is counted by an atomic increment before the comparison,
    so even concurrent guesses get no more than the allowed number of tries."""
    row = await session.scalar(
        select(PhoneCode)
        .where(PhoneCode.user_id == user.id, PhoneCode.used_at.is_(None))
        .order_by(PhoneCode.created_at.desc())
        .limit(1)
    )
    if row is None or row.expires_at <= utcnow():
        raise InvalidPhoneCode("No valid code; ask for a new one.", field="code")
    limit = settings.phone_code_max_attempts
    attempts = await session.scalar(
        update(PhoneCode)
        .where(PhoneCode.id == row.id, PhoneCode.used_at.is_(None), PhoneCode.attempts < limit)
        .values(attempts=PhoneCode.attempts + 1)
        .returning(PhoneCode.attempts)
    )
    if attempts is None:
        raise InvalidPhoneCode("Too many wrong tries; ask for a new code.", field="code")
    if not hmac.compare_digest(row.code_hash, _code_hash(settings, row.phone, code)):
        await session.commit()  # the failed try must count although the request fails
        remaining = limit - attempts
        raise InvalidPhoneCode(
            f"The code is not correct; {remaining} attempt(s) left."
            if remaining > 0
            else "The code is not correct; ask for a new one.",
            field="code",
        )
    await session.execute(update(PhoneCode).where(PhoneCode.id == row.id).values(used_at=utcnow()))
    await users.mark_phone_verified(session, user=user, phone=row.phone)
    return user
