"""Users: accounts, profiles and what admins do to them. The request's unit of work commits."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from api import audit, outbox
from api.db import utcnow
from api.users.errors import CannotChangeOwnAccount, EmailTaken, UserDeleted, UserNotFound
from api.users.models import Role, User, UserStatus
from api.users.schemas import DailyCount, ProfileUpdate, UserStats

# Other domains name roles and statuses, and type users, through this module.
__all__ = [
    "Role",
    "User",
    "UserStatus",
    "change_role",
    "change_status",
    "create",
    "erase",
    "get",
    "get_by_email",
    "get_many",
    "get_or_raise",
    "get_visible_or_raise",
    "list_users",
    "mark_email_verified",
    "mark_logged_in",
    "mark_phone_verified",
    "normalize_email",
    "set_password_hash",
    "stats",
    "update_profile",
]


def normalize_email(email: str) -> str:
    """Emails are compared case-insensitively: the whole address is stored lower-cased."""
    return email.strip().lower()


async def get(session: AsyncSession, *, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def get_many(session: AsyncSession, *, user_ids: Iterable[uuid.UUID]) -> list[User]:
    """The users of `user_ids` (unknown ids are left out)."""
    ids = set(user_ids)
    if not ids:
        return []
    return list(await session.scalars(select(User).where(User.id.in_(ids))))


async def get_or_raise(session: AsyncSession, *, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise UserNotFound(f"No user with id {user_id}.", field="userId")
    return user


async def get_visible_or_raise(session: AsyncSession, *, user_id: uuid.UUID) -> User:
    """A user others may see: erased accounts are gone as far as they are concerned."""
    user = await session.get(User, user_id)
    if user is None or user.status == UserStatus.deleted:
        raise UserNotFound(f"No user with id {user_id}.", field="userId")
    return user


async def get_by_email(session: AsyncSession, *, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == normalize_email(email)))


async def create(
    session: AsyncSession,
    *,
    email: str,
    full_name: str,
    password_hash: str | None,
    role: Role = Role.attendee,
    phone: str | None = None,
    locale: str = "en",
    timezone: str = "UTC",
    email_verified: bool = False,
    created_at: datetime | None = None,
) -> User:
    """Create an account and write `user.registered`; raises EmailTaken on a duplicate."""
    if await get_by_email(session, email=email) is not None:
        raise EmailTaken("An account with this email already exists.", field="email")
    now = created_at or utcnow()
    user = User(
        id=uuid.uuid4(),
        email=normalize_email(email),
        full_name=full_name,
        password_hash=password_hash,
        role=role,
        phone=phone,
        locale=locale,
        timezone=timezone,
        email_verified_at=now if email_verified else None,
        created_at=now,
        updated_at=now,
    )
    try:
        async with session.begin_nested():  # a concurrent sign-up may take the email first
            session.add(user)
            await session.flush()
    except IntegrityError as exc:
        raise EmailTaken("An account with this email already exists.", field="email") from exc
    await outbox.record(session, "user.registered", user)
    return user


async def update_profile(session: AsyncSession, *, user: User, changes: ProfileUpdate) -> User:
    """Apply the fields that were sent; a new phone number needs verifying again."""
    fields: dict[str, Any] = changes.model_dump(exclude_unset=True, mode="json")
    if not fields:
        return user
    if "phone" in fields and fields["phone"] != user.phone:
        user.phone_verified_at = None
    for name, value in fields.items():
        setattr(user, name, value)
    await outbox.record(session, "user.profile_updated", user)
    return user


async def mark_logged_in(session: AsyncSession, *, user: User) -> None:
    """Stamp the sign-in with one atomic update: concurrent sign-ins to one account (a box
    office on several devices) queue on the row lock instead of failing a version check."""
    await session.flush()
    await session.execute(
        update(User)
        .where(User.id == user.id)
        .values(last_login_at=utcnow(), version=User.version + 1)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(user)
    await outbox.record(session, "user.logged_in", user)


async def set_password_hash(
    session: AsyncSession, *, user: User, password_hash: str, revoke_sessions: bool
) -> None:
    """Store a new hash; when the password itself changed, older access tokens stop working."""
    user.password_hash = password_hash
    if revoke_sessions:
        user.tokens_valid_after = utcnow()
        await outbox.record(session, "user.password_changed", user)


async def mark_email_verified(session: AsyncSession, *, user: User) -> None:
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        await outbox.record(session, "user.email_verified", user)


async def mark_phone_verified(session: AsyncSession, *, user: User, phone: str) -> None:
    user.phone = phone
    user.phone_verified_at = utcnow()
    await outbox.record(session, "user.phone_verified", user)


def contains(text: str) -> str:
    """A LIKE pattern (escaped with backslash) for values containing `text`, any case."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matches(q: str) -> ColumnElement[bool]:
    pattern = contains(q)
    return or_(
        User.email.like(pattern, escape="\\"),
        func.lower(User.full_name).like(pattern, escape="\\"),
        func.lower(User.display_name).like(pattern, escape="\\"),
    )


def public_name_of(
    user_id: ColumnElement[uuid.UUID] | InstrumentedAttribute[uuid.UUID],
) -> ScalarSelect[str]:
    """The public name (the display name, else the full name) of the user `user_id` names, to
    select beside another domain's rows in the same statement."""
    name = func.coalesce(func.nullif(User.display_name, ""), User.full_name)
    return select(name).where(User.id == user_id).scalar_subquery()


def ids_matching(q: str) -> Select[uuid.UUID]:
    """The ids of the users whose name or email contains `q` (to filter another query by)."""
    return select(User.id).where(_matches(q))


async def list_users(
    session: AsyncSession,
    *,
    page: int,
    page_size: int,
    role: Role | None = None,
    status: UserStatus | None = None,
    q: str | None = None,
) -> tuple[list[User], int]:
    """A page of users, newest first, filtered by role and status and searched by name/email."""
    query = select(User)
    if role is not None:
        query = query.where(User.role == role)
    if status is not None:
        query = query.where(User.status == status)
    if q:
        query = query.where(_matches(q))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(User.created_at.desc(), User.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return list(rows), total


async def stats(session: AsyncSession, *, days: int, today: date | None = None) -> UserStats:
    """Counts by role and status, and sign-ups per day over the last `days` days (zeros kept)."""
    today = today or utcnow().date()
    first = today - timedelta(days=days - 1)
    by_role = dict(
        (await session.execute(select(User.role, func.count()).group_by(User.role))).all()
    )
    by_status = dict(
        (await session.execute(select(User.status, func.count()).group_by(User.status))).all()
    )
    verified = await session.scalar(select(func.count()).where(User.email_verified_at.is_not(None)))
    since = datetime.combine(first, datetime.min.time()).replace(tzinfo=utcnow().tzinfo)
    day = func.date(User.created_at)
    per_day = {
        (d if isinstance(d, date) else date.fromisoformat(str(d))): n
        for d, n in (
            await session.execute(
                select(day, func.count()).where(User.created_at >= since).group_by(day)
            )
        ).all()
    }
    return UserStats(
        total=sum(by_status.values()),
        by_role={r.value: by_role.get(r, 0) for r in Role},
        by_status={s.value: by_status.get(s, 0) for s in UserStatus},
        email_verified=verified or 0,
        signups_per_day=[
            DailyCount(
                day=first + timedelta(days=i), count=per_day.get(first + timedelta(days=i), 0)
            )
            for i in range(days)
        ],
    )


async def change_role(session: AsyncSession, *, actor: User, user: User, role: Role) -> User:
    if user.id == actor.id:
        raise CannotChangeOwnAccount("Admins cannot change their own role.", field="userId")
    _require_not_deleted(user)
    if user.role != role:
        old = user.role
        user.role = role
        await _announce_change(session, "user.role_changed", user, old=old, new=role)
    return user


async def change_status(
    session: AsyncSession, *, actor: User, user: User, status: UserStatus
) -> User:
    """Suspend or reactivate; a suspended user's tokens stop working at once."""
    if user.id == actor.id:
        raise CannotChangeOwnAccount("Admins cannot suspend their own account.", field="userId")
    _require_not_deleted(user)
    if status == UserStatus.deleted:
        raise UserDeleted("Use DELETE /admin/users/{userId} to erase an account.", field="status")
    if user.status != status:
        old = user.status
        user.status = status
        if status == UserStatus.suspended:
            user.tokens_valid_after = utcnow()
        await _announce_change(session, "user.status_changed", user, old=old, new=status)
    return user


async def _announce_change(
    session: AsyncSession, kind: str, user: User, *, old: Role | UserStatus, new: Role | UserStatus
) -> None:
    """An admin changed a user's role or status: announced, and kept in the audit log."""
    await outbox.record(session, kind, user)
    await audit.record(
        session,
        kind,
        target_type="user",
        target_id=user.id,
        details={"from": old.value, "to": new.value},
    )


async def erase(session: AsyncSession, *, actor: User, user: User) -> User:
    """Replace personal data and end every session; the row stays for finance and history."""
    if user.id == actor.id:
        raise CannotChangeOwnAccount("Admins cannot delete their own account.", field="userId")
    _require_not_deleted(user)
    now = utcnow()
    user.email = f"erased-{user.id.hex}@erased.invalid"
    user.full_name = "Deleted user"
    user.display_name = None
    user.phone = None
    user.phone_verified_at = None
    user.bio = None
    user.avatar_url = None
    user.password_hash = None
    user.status = UserStatus.deleted
    user.deleted_at = now
    user.tokens_valid_after = now
    await outbox.record(session, "user.erased", user)
    await audit.record(session, "user.erased", target_type="user", target_id=user.id)
    return user


def _require_not_deleted(user: User) -> None:
    if user.status == UserStatus.deleted:
        raise UserDeleted("This account has been deleted.", field="userId")
