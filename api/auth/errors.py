"""Errors of the auth domain."""

from api.errors import (
    AppError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    Unprocessable,
)


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


class OAuthProviderUnknown(NotFound):
    code = "auth.oauth_provider_unknown"


class OAuthStateMissing(BadRequest):
    code = "auth.oauth_state_missing"


class OAuthStateInvalid(BadRequest):
    code = "auth.oauth_state_invalid"


class OAuthStateReused(BadRequest):
    code = "auth.oauth_state_reused"


class OAuthDenied(BadRequest):
    code = "auth.oauth_denied"


class OAuthProviderFailed(AppError):
    status, code, title = 502, "auth.oauth_provider_error", "Bad Gateway"


class OAuthIdTokenInvalid(Unauthorized):
    code = "auth.oauth_id_token_invalid"


class OAuthAccountExists(Conflict):
    code = "auth.oauth_account_exists"


class OAuthEmailMissing(Unprocessable):
    code = "auth.oauth_email_missing"


class OAuthIdentityTaken(Conflict):
    code = "auth.oauth_identity_taken"


class OAuthLastSignInMethod(Conflict):
    code = "auth.oauth_last_sign_in_method"


class OAuthNotLinked(NotFound):
    code = "auth.oauth_not_linked"
