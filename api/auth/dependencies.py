"""Who is calling: the bearer token's user, the roles a route requires, and the anonymous
visitor id behaviour events carry."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import service
from api.auth.errors import InsufficientRole
from api.auth.passwords import PasswordCheck
from api.deps import VISITOR_COOKIE, SessionDep, SettingsDep, declares_access, visitor_id
from api.errors import Unauthorized
from api.observability import set_actor
from api.users import Role, User

_bearer = HTTPBearer(auto_error=False, description="An access token from /auth/login")


@declares_access("any signed-in user")
async def current_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None:
        raise Unauthorized("Sign in and send the access token as a Bearer token.")
    user, session_id = await service.authenticate(
        session, settings, access_token=credentials.credentials
    )
    set_actor(user.id)
    request.state.auth_session_id = session_id
    return user


CurrentUser = Annotated[User, Depends(current_user)]


@declares_access("anyone; a signed-in caller may see more (their own drafts)")
async def optional_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User | None:
    """The caller when a valid token is sent, else None; a bad token is still refused."""
    if credentials is None:
        return None
    return await current_user(request, session, settings, credentials)


MaybeUser = Annotated[User | None, Depends(optional_user)]


def require_role(*roles: Role) -> Callable[..., Awaitable[User]]:
    """A dependency that lets only users with one of `roles` through."""
    allowed = ", ".join(role.value for role in roles)

    @declares_access(f"roles: {allowed}")
    async def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise InsufficientRole(f"This needs one of these roles: {allowed}.")
        return user

    return check


AdminDep = Annotated[User, Depends(require_role(Role.admin))]
OrganizerDep = Annotated[User, Depends(require_role(Role.organizer, Role.admin))]


async def get_password_check(request: Request) -> PasswordCheck:
    checker: PasswordCheck = request.app.state.passwords
    return checker


PasswordCheckDep = Annotated[PasswordCheck, Depends(get_password_check)]


def ensure_visitor(request: Request, response: Response) -> str:
    """The anonymous visitor id behaviour events carry; a new one is set as a year-long cookie."""
    visitor = visitor_id(request)
    if visitor is None:
        visitor = uuid.uuid4().hex
        response.set_cookie(
            VISITOR_COOKIE, visitor, max_age=365 * 86400, httponly=True, samesite="lax"
        )
    return visitor
