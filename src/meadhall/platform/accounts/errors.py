"""Errors of the accounts domain; each carries its HTTP status and a stable code."""

from __future__ import annotations

from meadhall.platform.errors import (
    BadRequest,
    Conflict,
    Gone,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    Unprocessable,
)


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"


class AccountDisabled(NotAllowed):
    code = "account_disabled"


class InvalidRefreshToken(NotAuthenticated):
    code = "invalid_refresh_token"


class RefreshTokenReused(NotAuthenticated):
    code = "refresh_token_reused"


class AlreadyOnboarded(Conflict):
    code = "already_onboarded"


class EmailTaken(Conflict):
    code = "email_taken"


class InviteInvalid(BadRequest):
    code = "invite_invalid"


class InviteExpired(Gone):
    code = "invite_expired"


class InviteRevoked(Gone):
    code = "invite_revoked"


class InviteUsedUp(Gone):
    code = "invite_used_up"


class InviteNotFound(NotFound):
    code = "invite_not_found"


class UserNotFound(NotFound):
    code = "user_not_found"


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"


class TooManyApiKeys(Conflict):
    code = "too_many_api_keys"


class WeakPassword(Unprocessable):
    code = "weak_password"


class WrongPassword(NotAllowed):
    code = "wrong_password"


class InvalidResetToken(BadRequest):
    code = "invalid_reset_token"


class LastAdmin(Conflict):
    code = "last_admin"


class DeletionPending(Conflict):
    code = "deletion_pending"
