"""HTTP routes of a user's own profile and other users' public profiles."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from api.auth.dependencies import CurrentUser
from api.deps import SessionDep
from api.errors import problem_responses
from api.users import service
from api.users.schemas import ProfileUpdate, UserProfile, UserPublic, profile_view, public_view

router = APIRouter(tags=["users"], responses=problem_responses(401, 422))


@router.get("/users/profile", response_model=UserProfile)
async def get_profile(user: CurrentUser) -> UserProfile:
    """The signed-in user's own account."""
    return profile_view(user)


@router.put("/users/profile", response_model=UserProfile)
async def update_profile(
    body: ProfileUpdate, user: CurrentUser, session: SessionDep
) -> UserProfile:
    """Change one's own profile; role, status and email cannot be set here."""
    await service.update_profile(session, user=user, changes=body)
    return profile_view(user)


@router.get("/users/{userId}", response_model=UserPublic, responses=problem_responses(404))
async def get_user(userId: uuid.UUID, _viewer: CurrentUser, session: SessionDep) -> UserPublic:
    """Another user's public profile (never their email, phone or status)."""
    return public_view(await service.get_visible_or_raise(session, user_id=userId))
