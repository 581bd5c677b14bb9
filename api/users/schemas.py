"""Request and response bodies of the users domain."""

from __future__ import annotations

import re
import uuid
import zoneinfo
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, HttpUrl
from pydantic.config import JsonDict

from api.inputs import Input, Patch, example
from api.users.models import Role, User, UserStatus

_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")


def _check_phone(value: str) -> str:
    value = re.sub(r"[\s().-]", "", value)
    if not _PHONE.match(value):
        raise ValueError("phone must be in international E.164 form, like +4915112345678")
    return value


def _check_timezone(value: str) -> str:
    if value not in zoneinfo.available_timezones():
        raise ValueError("timezone must be an IANA time zone name, like Europe/Berlin")
    return value


def _strip(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


Phone = Annotated[str, AfterValidator(_check_phone)]
TimeZone = Annotated[str, AfterValidator(_check_timezone)]
Locale = Annotated[str, Field(pattern=_LOCALE.pattern, examples=["en", "de-DE"])]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_strip)]

USER_PROFILE_EXAMPLE: JsonDict = {
    "id": "5c8d2b1a-3e4f-4a6b-9c7d-8e0f1a2b3c4d",
    "email": "anna.schmidt@example.com",
    "email_verified": True,
    "phone": "+4915112345678",
    "phone_verified": True,
    "full_name": "Anna Schmidt",
    "display_name": "Anna S.",
    "bio": "Jazz lover from Hamburg.",
    "avatar_url": "https://media.tessera.example/avatars/5c8d2b1a.webp",
    "locale": "de-DE",
    "timezone": "Europe/Berlin",
    "role": "attendee",
    "status": "active",
    "created_at": "2027-01-15T10:12:00+01:00",
    "updated_at": "2027-05-02T18:40:00+02:00",
    "last_login_at": "2027-06-01T09:05:00+02:00",
}


class UserPublic(BaseModel):
    """What anyone signed in may see of another user."""

    model_config = example(
        {
            "id": "7a2e9c41-5b3d-4f8e-a1c6-0d9b8e7f6a52",
            "display_name": "Elbe Live Events",
            "bio": "Concerts by the water in Hamburg since 2019.",
            "avatar_url": None,
            "role": "organizer",
            "created_at": "2026-11-03T14:20:00+01:00",
        },
        from_attributes=True,
    )

    id: uuid.UUID
    display_name: str
    bio: str | None
    avatar_url: str | None
    role: Role
    created_at: datetime


class UserProfile(BaseModel):
    """A user's own view of their account."""

    model_config = example(USER_PROFILE_EXAMPLE, from_attributes=True)

    id: uuid.UUID
    email: str
    email_verified: bool
    phone: str | None
    phone_verified: bool
    full_name: str
    display_name: str | None
    bio: str | None
    avatar_url: str | None
    locale: str
    timezone: str
    role: Role
    status: UserStatus
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None


class ProfileUpdate(Patch):
    """Fields a user may change; anything else (role, status, email) is refused."""

    model_config = example(
        {"display_name": "Anna S.", "bio": "Jazz lover from Hamburg.", "locale": "de-DE"}
    )

    clearable = frozenset({"display_name", "bio", "avatar_url", "phone"})

    full_name: Name | None = None
    display_name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    bio: Annotated[str, Field(max_length=2000)] | None = None
    avatar_url: HttpUrl | None = None
    locale: Locale | None = None
    timezone: TimeZone | None = None
    phone: Phone | None = None


class AdminUser(UserProfile):
    """An admin's view of an account."""

    model_config = example({**USER_PROFILE_EXAMPLE, "deleted_at": None})

    deleted_at: datetime | None


class UserPage(BaseModel):
    items: list[AdminUser]
    total: int
    page: int
    page_size: int


class RoleChange(Input):
    model_config = example({"role": "organizer"})

    role: Role


class StatusChange(Input):
    model_config = example({"status": "suspended"})

    status: Annotated[UserStatus, Field(description="active or suspended; deletion is DELETE")]


class DailyCount(BaseModel):
    day: date
    count: int


class UserStats(BaseModel):
    total: int
    by_role: dict[str, int]
    by_status: dict[str, int]
    email_verified: int
    signups_per_day: list[DailyCount]


def public_view(user: User) -> UserPublic:
    return UserPublic(
        id=user.id,
        display_name=user.public_name,
        bio=user.bio,
        avatar_url=user.avatar_url,
        role=user.role,
        created_at=user.created_at,
    )


def _profile_fields(user: User) -> dict[str, object]:
    return {
        "id": user.id,
        "email": user.email,
        "email_verified": user.email_verified_at is not None,
        "phone": user.phone,
        "phone_verified": user.phone_verified_at is not None,
        "full_name": user.full_name,
        "display_name": user.display_name,
        "bio": user.bio,
        "avatar_url": user.avatar_url,
        "locale": user.locale,
        "timezone": user.timezone,
        "role": user.role,
        "status": user.status,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "last_login_at": user.last_login_at,
    }


def profile_view(user: User) -> UserProfile:
    return UserProfile.model_validate(_profile_fields(user))


def admin_view(user: User) -> AdminUser:
    return AdminUser.model_validate({**_profile_fields(user), "deleted_at": user.deleted_at})
