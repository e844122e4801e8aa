"""Request and response bodies of the accounts API."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
MAX_EMAIL_LENGTH = 320

# The WHATWG "valid e-mail address" grammar (what browsers accept in <input type=email>),
# plus RFC 5321 length limits. ASCII only: internationalised addresses need IDNA handling
# that the stdlib does not do safely.
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def normalise_email(value: str) -> str:
    """Validate an e-mail address; return it stripped, with the domain in lower case."""
    value = value.strip()
    if len(value) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(value):
        raise ValueError("is not a valid e-mail address")
    local, _, domain = value.rpartition("@")
    if len(local) > 64:
        raise ValueError("is not a valid e-mail address (the part before @ is too long)")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise ValueError("is not a valid e-mail address (misplaced dot)")
    return f"{local}@{domain.lower()}"


def _display_name(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("must not be blank")
    if _CONTROL.search(value):
        raise ValueError("must not contain control or direction characters")
    return value


Email = Annotated[str, Field(max_length=MAX_EMAIL_LENGTH), AfterValidator(normalise_email)]
Password = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)]
# Login accepts any stored password; only its length is capped (hashing cost).
GivenPassword = Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]
DisplayName = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_display_name)]
OpaqueToken = Annotated[str, Field(min_length=1, max_length=512)]


class Input(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    display_name: str
    is_admin: bool
    is_active: bool
    created_at: datetime


class AdminUserRead(UserRead):
    last_login_at: datetime | None
    deletion_requested_at: datetime | None


class UserPage(BaseModel):
    items: list[AdminUserRead]
    total: int
    limit: int
    offset: int


class AuthStatus(BaseModel):
    onboarded: bool
    smtp_enabled: bool
    registration: Literal["invite"] = "invite"


class OnboardingRequest(Input):
    email: Email
    password: Password
    display_name: DisplayName


class RegisterRequest(Input):
    invite_code: OpaqueToken
    email: Email
    password: Password
    display_name: DisplayName


class LoginRequest(Input):
    email: Annotated[str, Field(min_length=1, max_length=MAX_EMAIL_LENGTH)]
    password: GivenPassword


class RefreshRequest(Input):
    # Optional: browsers send the refresh cookie instead.
    refresh_token: OpaqueToken | None = None


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    # Seconds until the access token expires.
    expires_in: int
    user: UserRead


class UserUpdate(Input):
    display_name: DisplayName | None = None


class PasswordChange(Input):
    current_password: GivenPassword
    new_password: Password


class PasswordResetRequest(Input):
    email: Annotated[str, Field(min_length=1, max_length=MAX_EMAIL_LENGTH)]


class PasswordResetConfirm(Input):
    token: OpaqueToken
    new_password: Password


class Accepted(BaseModel):
    detail: str


class DeleteAccount(Input):
    password: GivenPassword
    mode: Literal["delete", "anonymise"] = "delete"


class DeletionQueued(BaseModel):
    job_id: uuid.UUID


class InviteCreate(Input):
    max_uses: Annotated[int, Field(ge=1, le=1000)] = 1
    # At most one year.
    expires_in_hours: Annotated[int, Field(ge=1, le=24 * 366)] | None = None
    note: Annotated[str, Field(max_length=200)] | None = None


class InviteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code_prefix: str
    note: str | None
    max_uses: int
    uses: int
    expires_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime
    created_by_id: uuid.UUID | None
    status: Literal["active", "expired", "revoked", "used_up"]


class InviteCreated(InviteRead):
    # Shown once: only its hash is stored.
    code: str
    register_url: str


class InviteList(BaseModel):
    items: list[InviteRead]


Scopes = Literal["read", "write"]


class ApiKeyCreate(Input):
    name: DisplayName
    scopes: Annotated[list[Scopes], Field(min_length=1, max_length=2)] = ["read"]
    expires_in_days: Annotated[int, Field(ge=1, le=3650)] | None = None

    @field_validator("scopes")
    @classmethod
    def _read_is_included(cls, value: list[Scopes]) -> list[Scopes]:
        if set(value) not in ({"read"}, {"read", "write"}) or len(set(value)) != len(value):
            raise ValueError('must be ["read"] or ["read", "write"]')
        return sorted(value)


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    key_prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    # Shown once: only its hash is stored.
    key: str


class ApiKeyList(BaseModel):
    items: list[ApiKeyRead]


class AdminUserCreate(Input):
    email: Email
    password: Password
    display_name: DisplayName
    is_admin: bool = False


class AdminUserUpdate(Input):
    is_active: bool | None = None
    is_admin: bool | None = None
    display_name: DisplayName | None = None
