"""What admins do to accounts. Each operation is one function and one transaction, committed
here: it spans users and their sign-in (sessions, social logins), and the API calls it, as
will the back office."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import service as auth_service
from api.auth import social
from api.users import service as users_service

if TYPE_CHECKING:
    from api.users import Role, User, UserStatus


async def erase_user(session: AsyncSession, *, actor: User, user_id: uuid.UUID) -> None:
    """Erase a user's personal data, end their sessions and forget their social logins; the
    row stays for finance."""
    user = await users_service.get_or_raise(session, user_id=user_id)
    await users_service.erase(session, actor=actor, user=user)
    await auth_service.revoke_all_sessions(session, user_id=user.id, reason="erased")
    await social.forget(session, user_id=user.id)
    await session.commit()


async def change_role(
    session: AsyncSession, *, actor: User, user_id: uuid.UUID, role: Role
) -> User:
    """Give a user another role."""
    user = await users_service.get_or_raise(session, user_id=user_id)
    await users_service.change_role(session, actor=actor, user=user, role=role)
    await session.commit()
    return user


async def change_status(
    session: AsyncSession, *, actor: User, user_id: uuid.UUID, status: UserStatus
) -> User:
    """Suspend or reactivate an account; suspending ends its sessions."""
    user = await users_service.get_or_raise(session, user_id=user_id)
    await users_service.change_status(session, actor=actor, user=user, status=status)
    if status == users_service.UserStatus.suspended:
        await auth_service.revoke_all_sessions(session, user_id=user.id, reason="suspended")
    await session.commit()
    return user
