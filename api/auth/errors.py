"""Errors of the auth domain."""

from api.errors import BadRequest, Forbidden, Unauthorized, Unprocessable


class InvalidCredentials(Unauthorized):
    code = "auth.invalid_credentials"


class InvalidToken(Unauthorized):
    code = "auth.invalid_token"


class TokenExpired(Unauthorized):
    code = "auth.token_expired"


class RefreshReused(Unauthorized):
    code = "auth.refresh_reused"


class InsufficientRole(Forbidden):
    code = "auth.insufficient_role"


class AccountInactive(Forbidden):
    code = "auth.account_inactive"


class WeakPassword(Unprocessable):
    code = "auth.weak_password"


class InvalidLinkToken(BadRequest):
    code = "auth.invalid_or_expired_token"


class InvalidPhoneCode(BadRequest):
    code = "auth.invalid_phone_code"


class NoPhoneNumber(BadRequest):
    code = "auth.no_phone_number"
