"""Request and response bodies of the auth domain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from api.inputs import Input, example
from api.users import USER_PROFILE_EXAMPLE, Locale, Name, Phone, TimeZone, UserProfile

Password = Annotated[
    str, Field(min_length=1, max_length=256, json_schema_extra={"format": "password"})
]
OpaqueToken = Annotated[str, Field(min_length=16, max_length=128)]


class _Strict(Input):
    """A request body of the auth domain."""


class RegisterRequest(_Strict):
    model_config = example(
        {
            "email": "anna.schmidt@example.com",
            "password": "violet-kettle-harbour-42",
            "full_name": "Anna Schmidt",
            "locale": "de-DE",
            "timezone": "Europe/Berlin",
        }
    )

    email: EmailStr
    password: Password
    full_name: Name
    phone: Phone | None = None
    locale: Locale = "en"
    timezone: TimeZone = "UTC"


class Accepted(BaseModel):
    """The same answer whether or not an account exists, so nobody learns which emails do."""

    model_config = example(
        {
            "status": "accepted",
            "detail": (
                "If this address can be registered, a confirmation link is on its way to it."
            ),
        }
    )

    status: Literal["accepted"] = "accepted"
    detail: str


class LoginRequest(_Strict):
    model_config = example(
        {"email": "anna.schmidt@example.com", "password": "violet-kettle-harbour-42"}
    )

    email: EmailStr
    password: Password


class TokenPair(BaseModel):
    model_config = example(
        {
            "access_token": (
                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
                ".eyJzdWIiOiI1YzhkMmIxYS0zZTRmLTRhNmItOWM3ZC04ZTBmMWEyYjNjNGQifQ"
                ".3q2-7wHcY0mQpL8vR1nT5xKzB4aFjD6eGs9uWoIi2Ns"
            ),
            "token_type": "bearer",
            "expires_in": 900,
            "refresh_token": "rt_Q2hhbmdlTWVQbGVhc2VJdHNBVG9rZW4",
            "refresh_expires_in": 2592000,
            "user": USER_PROFILE_EXAMPLE,
        }
    )

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - OAuth 2 token type
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    user: UserProfile


class RefreshRequest(_Strict):
    model_config = example({"refresh_token": "rt_Q2hhbmdlTWVQbGVhc2VJdHNBVG9rZW4"})

    refresh_token: OpaqueToken


class LogoutRequest(_Strict):
    model_config = example({"everywhere": True})

    refresh_token: OpaqueToken | None = Field(
        default=None, description="End the session this token belongs to (default: the caller's)."
    )
    everywhere: bool = Field(default=False, description="End every session of the account.")


class ChangePasswordRequest(_Strict):
    model_config = example(
        {
            "current_password": "violet-kettle-harbour-42",
            "new_password": "amber-lantern-orchard-77",
        }
    )

    current_password: Password
    new_password: Password


class ResetPasswordRequest(_Strict):
    model_config = example({"email": "anna.schmidt@example.com"})

    email: EmailStr


class ConfirmResetRequest(_Strict):
    model_config = example(
        {
            "token": "Zx8kQ2rT7vLm4NpW9sYb3HcJ6dFg1AeU",
            "new_password": "amber-lantern-orchard-77",
        }
    )

    token: OpaqueToken
    new_password: Password


class VerifyEmailRequest(_Strict):
    model_config = example({"token": "Zx8kQ2rT7vLm4NpW9sYb3HcJ6dFg1AeU"})

    token: OpaqueToken


class SendPhoneCodeRequest(_Strict):
    model_config = example({"phone": "+4915112345678"})

    phone: Phone | None = Field(default=None, description="Defaults to the profile's phone.")


class VerifyPhoneRequest(_Strict):
    model_config = example({"code": "481516"})

    code: Annotated[str, Field(pattern=r"^\d{6}$")]


class Done(BaseModel):
    status: Literal["ok"] = "ok"


class OAuthProviderOut(BaseModel):
    name: str
    display_name: str
    login_url: str = Field(description="Send the browser here to sign in")


class AuthorizationUrl(BaseModel):
    authorization_url: str = Field(description="Send the browser here to link the account")


class IdentityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    provider: str
    email: str | None
    email_verified: bool
    display_name: str | None
    created_at: datetime
    last_login_at: datetime | None


class OAuthResult(BaseModel):
    tokens: TokenPair | None = Field(
        description="The same tokens as a password login; empty when an account was linked"
    )
    identity: IdentityOut
    created: bool = Field(description="A new Tessera account was made for this sign-in")
