"""HTTP routes for admins: managing users, their statistics and the audit log."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api import audit
from api.admin import service
from api.admin.schemas import AuditEntryOut, AuditPage
from api.auth.dependencies import AdminDep
from api.deps import SessionDep
from api.errors import problem_responses
from api.inputs import Instant
from api.users import service as users
from api.users.models import Role, UserStatus
from api.users.schemas import (
    AdminUser,
    RoleChange,
    StatusChange,
    UserPage,
    UserStats,
    admin_view,
)

router = APIRouter(prefix="/admin", tags=["admin"], responses=problem_responses(401, 403, 422))

PageNumber = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(ge=1, le=200)]


@router.get("/users", response_model=UserPage)
async def list_users(
    _admin: AdminDep,
    session: SessionDep,
    page: PageNumber = 1,
    page_size: PageSize = 50,
    role: Role | None = None,
    user_status: Annotated[UserStatus | None, Query(alias="status")] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Name or email")
    ] = None,
) -> UserPage:
    """Users, newest first, filtered by role and status, searched by name or email."""
    rows, total = await users.list_users(
        session, page=page, page_size=page_size, role=role, status=user_status, q=q
    )
    return UserPage(
        items=[admin_view(u) for u in rows], total=total, page=page, page_size=page_size
    )


@router.get("/users/stats", response_model=UserStats)
async def user_stats(
    _admin: AdminDep,
    session: SessionDep,
    days: Annotated[int, Query(ge=1, le=366, description="Days of sign-ups to count")] = 30,
) -> UserStats:
    """Counts by role and status, and sign-ups per day."""
    return await users.stats(session, days=days)


@router.get("/users/{userId}", response_model=AdminUser, responses=problem_responses(404))
async def get_user(userId: uuid.UUID, _admin: AdminDep, session: SessionDep) -> AdminUser:
    """One account, as an admin sees it."""
    return admin_view(await users.get_or_raise(session, user_id=userId))


@router.delete(
    "/users/{userId}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404, 409),
)
async def delete_user(userId: uuid.UUID, admin: AdminDep, session: SessionDep) -> Response:
    """Erase a user's personal data and end their sessions; the row stays for finance."""
    await service.erase_user(session, actor=admin, user_id=userId)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/users/{userId}/role", response_model=AdminUser, responses=problem_responses(404, 409))
async def change_role(
    userId: uuid.UUID,
    body: RoleChange,
    admin: AdminDep,
    session: SessionDep,
) -> AdminUser:
    """Give a user another role."""
    user = await service.change_role(session, actor=admin, user_id=userId, role=body.role)
    return admin_view(user)


@router.put(
    "/users/{userId}/status", response_model=AdminUser, responses=problem_responses(404, 409)
)
async def change_status(
    userId: uuid.UUID,
    body: StatusChange,
    admin: AdminDep,
    session: SessionDep,
) -> AdminUser:
    """Suspend or reactivate an account; suspending ends its sessions."""
    user = await service.change_status(session, actor=admin, user_id=userId, status=body.status)
    return admin_view(user)


@router.get("/audit-log", response_model=AuditPage)
async def audit_log(
    _admin: AdminDep,
    session: SessionDep,
    page: PageNumber = 1,
    page_size: PageSize = 50,
    actor_id: uuid.UUID | None = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Instant | None = None,
) -> AuditPage:
    """What admins and the security machinery did, newest first."""
    rows, total = await audit.list_entries(
        session,
        page=page,
        page_size=page_size,
        actor_id=actor_id,
        action=action,
        target_id=target_id,
        since=since,
    )
    return AuditPage(
        items=[AuditEntryOut.model_validate(r) for r in rows],
        total=total,
        page=page,
        page_size=page_size,
    )
