"""Users: accounts and profiles.

What other domains may use of it: the principal (`User`) with its `Role` and `UserStatus`, the
`EmailTaken` error, `profile_view`, and the profile's field types (`TimeZone`, `Locale`, `Name`,
`Phone`, `UserProfile`, `USER_PROFILE_EXAMPLE`). They call its functions through
`api.users.service`. Its models, schemas and errors modules are its own (`.importlinter`).
"""

from api.users.errors import EmailTaken
from api.users.models import Role, User, UserStatus
from api.users.schemas import (
    USER_PROFILE_EXAMPLE,
    Locale,
    Name,
    Phone,
    TimeZone,
    UserProfile,
    profile_view,
)

__all__ = [
    "USER_PROFILE_EXAMPLE",
    "EmailTaken",
    "Locale",
    "Name",
    "Phone",
    "Role",
    "TimeZone",
    "User",
    "UserProfile",
    "UserStatus",
    "profile_view",
]
