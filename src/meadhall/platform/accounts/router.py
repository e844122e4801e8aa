"""HTTP API of accounts: onboarding, login and sessions, the own account, keys, invites, admin."""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from starlette.requests import HTTPConnection

from meadhall.platform import ratelimit
from meadhall.platform.accounts import service
from meadhall.platform.accounts.deps import (
    ACCESS_COOKIE,
    CSRF_COOKIE,
    CSRF_HEADER,
    REFRESH_COOKIE,
    AdminUser,
    CurrentUser,
)
from meadhall.platform.accounts.errors import (
    AccountDisabled,
    AlreadyOnboarded,
    ApiKeyNotFound,
    EmailTaken,
    InvalidCredentials,
    InvalidRefreshToken,
    InvalidResetToken,
    InviteExpired,
    InviteInvalid,
    InviteNotFound,
    LastAdmin,
    RefreshTokenReused,
    TooManyApiKeys,
    UserNotFound,
    WeakPassword,
    WrongPassword,
)
from meadhall.platform.accounts.models import Invite, User
from meadhall.platform.accounts.schemas import (
    Accepted,
    AdminUserCreate,
    AdminUserRead,
    AdminUserUpdate,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyRead,
    AuthStatus,
    DeleteAccount,
    DeletionQueued,
    InviteCreate,
    InviteCreated,
    InviteList,
    InviteRead,
    LoginRequest,
    OnboardingRequest,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    RefreshRequest,
    RegisterRequest,
    TokenResponse,
    UserPage,
    UserRead,
    UserUpdate,
)
from meadhall.platform.accounts.security import secrets_match
from meadhall.platform.deps import DbSession, RuntimeDep
from meadhall.platform.errors import (
    NotAllowed,
    NotAuthenticated,
    TooManyRequests,
    Unprocessable,
    error_responses,
)
from meadhall.platform.runtime import Runtime

router = APIRouter()
auth = APIRouter(prefix="/auth", tags=["auth"])
me = APIRouter(prefix="/me", tags=["me"])
invites = APIRouter(prefix="/invites", tags=["invites"])
admin = APIRouter(prefix="/admin/users", tags=["admin"])

REFRESH_COOKIE_PATH = "/api/auth"
TOKEN_ERRORS = error_responses(Unprocessable, TooManyRequests)


def client_address(conn: HTTPConnection) -> str:
    """The caller's address (uvicorn's proxy_headers puts a trusted proxy's client here)."""
    return conn.client.host if conn.client else "unknown"


def _set_session_cookies(
    response: Response, runtime: Runtime, tokens: service.IssuedTokens
) -> None:
    settings = runtime.settings
    secure = settings.secure_cookies
    refresh_age = settings.refresh_token_days * 24 * 3600
    response.set_cookie(
        ACCESS_COOKIE,
        tokens.access_token,
        max_age=settings.access_token_minutes * 60,
        path="/",
        httponly=True,
        secure=secure,
        samesite="lax",
    )
    response.set_cookie(
        REFRESH_COOKIE,
        tokens.refresh_token,
        max_age=refresh_age,
        path=REFRESH_COOKIE_PATH,
        httponly=True,
        secure=secure,
        samesite="lax",
    )
    # Readable by scripts on purpose: the page echoes it in X-CSRF-Token (double submit).
    response.set_cookie(
        CSRF_COOKIE,
        secrets.token_urlsafe(24),
        max_age=refresh_age,
        path="/",
        httponly=False,
        secure=secure,
        samesite="lax",
    )


def _clear_session_cookies(response: Response, runtime: Runtime) -> None:
    secure = runtime.settings.secure_cookies
    for name, path, httponly in (
        (ACCESS_COOKIE, "/", True),
        (REFRESH_COOKIE, REFRESH_COOKIE_PATH, True),
        (CSRF_COOKIE, "/", False),
    ):
        response.delete_cookie(name, path=path, secure=secure, httponly=httponly, samesite="lax")


def _token_response(
    response: Response, runtime: Runtime, tokens: service.IssuedTokens
) -> TokenResponse:
    _set_session_cookies(response, runtime, tokens)
    return TokenResponse(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=runtime.settings.access_token_minutes * 60,
        user=UserRead.model_validate(tokens.user),
    )


def _refresh_token_from(request: Request, body: RefreshRequest | None) -> str | None:
    """The refresh token from the body, or from the cookie (which then needs the CSRF header)."""
    if body is not None and body.refresh_token:
        return body.refresh_token
    cookie = request.cookies.get(REFRESH_COOKIE)
    if cookie is None:
        return None
    sent = request.headers.get(CSRF_HEADER, "")
    expected = request.cookies.get(CSRF_COOKIE, "")
    if not sent or not expected or not secrets_match(sent, expected):
        raise NotAllowed("missing or wrong CSRF token (send the X-CSRF-Token header)")
    return cookie


def _invite_read(invite: Invite) -> InviteRead:
    return InviteRead.model_validate(
        {**_invite_fields(invite), "status": service.invite_status(invite)}
    )


def _invite_fields(invite: Invite) -> dict[str, object]:
    return {
        "id": invite.id,
        "code_prefix": invite.code_prefix,
        "note": invite.note,
        "max_uses": invite.max_uses,
        "uses": invite.uses,
        "expires_at": invite.expires_at,
        "revoked_at": invite.revoked_at,
        "created_at": invite.created_at,
        "created_by_id": invite.created_by_id,
    }


# Authentication -----------------------------------------------------------------------------


@auth.get("/status", operation_id="auth_status", response_model=AuthStatus)
async def auth_status(session: DbSession, runtime: RuntimeDep) -> AuthStatus:
    """Whether the server has its admin yet, and whether password reset mails can be sent."""
    return AuthStatus(
        onboarded=await service.is_onboarded(session),
        smtp_enabled=runtime.settings.smtp_enabled,
    )


@auth.post(
    "/onboarding",
    operation_id="auth_onboarding",
    response_model=TokenResponse,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(AlreadyOnboarded, WeakPassword, TooManyRequests),
)
async def onboarding(
    body: OnboardingRequest,
    request: Request,
    response: Response,
    session: DbSession,
    runtime: RuntimeDep,
) -> TokenResponse:
    """Create the first account, which becomes admin. Only while the server has no account."""
    await ratelimit.enforce(runtime, "register", f"ip:{client_address(request)}")
    user = await service.onboard(
        session, email=body.email, password=body.password, display_name=body.display_name
    )
    service.tell_admins(session, runtime.bus, "account.changed", user.id)
    tokens = await service.issue_tokens(session, settings=runtime.settings, user=user)
    return _token_response(response, runtime, tokens)


@auth.post(
    "/register",
    operation_id="auth_register",
    response_model=TokenResponse,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        InviteInvalid, InviteExpired, EmailTaken, WeakPassword, TooManyRequests
    ),
)
async def register(
    body: RegisterRequest,
    request: Request,
    response: Response,
    session: DbSession,
    runtime: RuntimeDep,
) -> TokenResponse:
    """Create an account with an invite code."""
    await ratelimit.enforce(runtime, "register", f"ip:{client_address(request)}")
    user = await service.register(
        session,
        invite_code=body.invite_code,
        email=body.email,
        password=body.password,
        display_name=body.display_name,
    )
    service.tell_admins(session, runtime.bus, "account.changed", user.id)
    # The invite gained a use (and may be used up now).
    service.tell_admins(session, runtime.bus, "invite.changed")
    tokens = await service.issue_tokens(session, settings=runtime.settings, user=user)
    return _token_response(response, runtime, tokens)


@auth.post(
    "/login",
    operation_id="auth_login",
    response_model=TokenResponse,
    responses=error_responses(InvalidCredentials, AccountDisabled, TooManyRequests),
)
async def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    session: DbSession,
    runtime: RuntimeDep,
) -> TokenResponse:
    """Exchange e-mail and password for an access token, a refresh token and cookies."""
    await ratelimit.enforce(
        runtime,
        "login",
        f"ip:{client_address(request)}",
        f"email:{body.email.strip().lower()}",
    )
    user = await service.authenticate(session, email=body.email, password=body.password)
    tokens = await service.issue_tokens(session, settings=runtime.settings, user=user)
    return _token_response(response, runtime, tokens)


@auth.post(
    "/refresh",
    operation_id="auth_refresh",
    response_model=TokenResponse,
    responses=error_responses(InvalidRefreshToken, NotAllowed, TooManyRequests),
)
async def refresh(
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    body: RefreshRequest | None = None,
) -> TokenResponse:
    """Spend a refresh token (body or cookie) for a new pair; a reused one ends the session."""
    await ratelimit.enforce(runtime, "refresh", f"ip:{client_address(request)}")
    token = _refresh_token_from(request, body)
    if token is None:
        raise InvalidRefreshToken("no refresh token (send it in the body or the cookie)")
    # Its own transaction: a detected reuse must stay revoked although the answer is an error.
    async with runtime.db.transaction() as session:
        outcome = await service.rotate_refresh_token(
            session, settings=runtime.settings, refresh_token=token
        )
    if outcome.tokens is None:
        raise RefreshTokenReused("this refresh token was already used; the session is revoked")
    return _token_response(response, runtime, outcome.tokens)


@auth.post(
    "/logout",
    operation_id="auth_logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(InvalidRefreshToken, NotAllowed),
)
async def logout(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    body: RefreshRequest | None = None,
) -> Response:
    """End the session of the refresh token (body or cookie) and clear the cookies.

    A token that is already revoked or unknown still answers 204: logging out twice is fine.
    """
    token = _refresh_token_from(request, body)
    if token is None:
        raise InvalidRefreshToken("no session to end (send the refresh token or its cookie)")
    await service.revoke_session(session, refresh_token=token)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    _clear_session_cookies(response, runtime)
    return response


@auth.post(
    "/password-reset",
    operation_id="auth_password_reset",
    response_model=Accepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(Unprocessable, TooManyRequests),
)
async def password_reset(
    body: PasswordResetRequest, request: Request, session: DbSession, runtime: RuntimeDep
) -> Accepted:
    """Mail a reset link if the address has an account. The answer never says whether it has."""
    await ratelimit.enforce(
        runtime,
        "password_reset",
        f"ip:{client_address(request)}",
        f"email:{body.email.strip().lower()}",
    )
    await service.request_password_reset(session, runtime=runtime, email=body.email)
    return Accepted(detail="if the address belongs to an account, a reset link is on its way")


@auth.post(
    "/password-reset/confirm",
    operation_id="auth_password_reset_confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(InvalidResetToken, WeakPassword),
)
async def password_reset_confirm(body: PasswordResetConfirm, session: DbSession) -> Response:
    """Choose a new password with the token from a reset mail; every session ends."""
    await service.confirm_password_reset(session, token=body.token, new_password=body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# The own account ----------------------------------------------------------------------------


@me.get(
    "",
    operation_id="me_get",
    response_model=UserRead,
    responses=error_responses(NotAuthenticated),
)
async def get_me(principal: CurrentUser, session: DbSession) -> User:
    """The signed-in user."""
    return await service.get_user(session, user_id=principal.user_id)


@me.patch(
    "",
    operation_id="me_update",
    response_model=UserRead,
    responses=error_responses(NotAuthenticated, NotAllowed),
)
async def update_me(
    body: UserUpdate, principal: CurrentUser, session: DbSession, runtime: RuntimeDep
) -> User:
    """Change the own display name; the user's other clients hear "user.updated"."""
    return await service.update_profile(
        session, bus=runtime.bus, user_id=principal.user_id, display_name=body.display_name
    )


@me.post(
    "/password",
    operation_id="me_change_password",
    response_model=TokenResponse,
    responses=error_responses(NotAuthenticated, WrongPassword, WeakPassword),
)
async def change_password(
    body: PasswordChange,
    principal: CurrentUser,
    response: Response,
    session: DbSession,
    runtime: RuntimeDep,
) -> TokenResponse:
    """Change the password. Every other session ends; this one gets fresh tokens."""
    user = await service.change_password(
        session,
        user_id=principal.user_id,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    tokens = await service.issue_tokens(session, settings=runtime.settings, user=user)
    return _token_response(response, runtime, tokens)


@me.delete(
    "",
    operation_id="me_delete",
    response_model=DeletionQueued,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(NotAuthenticated, WrongPassword, LastAdmin),
)
async def delete_me(
    body: DeleteAccount, principal: CurrentUser, session: DbSession, runtime: RuntimeDep
) -> DeletionQueued:
    """Delete (or anonymise) the own account. Access ends now; a job removes the data."""
    job_id = await service.request_deletion(
        session,
        user_id=principal.user_id,
        mode=body.mode,
        requested_by=principal.user_id,
        password=body.password,
    )
    service.tell_admins(session, runtime.bus, "account.changed", principal.user_id)
    return DeletionQueued(job_id=job_id)


@me.post(
    "/api-keys",
    operation_id="api_keys_create",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(NotAuthenticated, TooManyApiKeys),
)
async def create_api_key(
    body: ApiKeyCreate, principal: CurrentUser, session: DbSession
) -> ApiKeyCreated:
    """A new API key for scripts. The key is shown in this answer only."""
    key, secret = await service.create_api_key(
        session,
        user_id=principal.user_id,
        name=body.name,
        scopes=body.scopes,
        expires_in_days=body.expires_in_days,
    )
    return ApiKeyCreated.model_validate(
        {**ApiKeyRead.model_validate(key).model_dump(), "key": secret}
    )


@me.get(
    "/api-keys",
    operation_id="api_keys_list",
    response_model=ApiKeyList,
    responses=error_responses(NotAuthenticated),
)
async def list_api_keys(principal: CurrentUser, session: DbSession) -> ApiKeyList:
    """The own API keys (without their secrets)."""
    keys = await service.list_api_keys(session, user_id=principal.user_id)
    return ApiKeyList(items=[ApiKeyRead.model_validate(k) for k in keys])


@me.delete(
    "/api-keys/{key_id}",
    operation_id="api_keys_revoke",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(NotAuthenticated, ApiKeyNotFound),
)
async def revoke_api_key(key_id: uuid.UUID, principal: CurrentUser, session: DbSession) -> Response:
    """Revoke one of the own API keys."""
    await service.revoke_api_key(session, user_id=principal.user_id, key_id=key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Invites (admin) ----------------------------------------------------------------------------


@invites.post(
    "",
    operation_id="invites_create",
    response_model=InviteCreated,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(NotAuthenticated, NotAllowed),
)
async def create_invite(
    body: InviteCreate, principal: AdminUser, session: DbSession, runtime: RuntimeDep
) -> InviteCreated:
    """A new invite. The code is shown in this answer only."""
    invite, code = await service.create_invite(
        session,
        created_by_id=principal.user_id,
        max_uses=body.max_uses,
        expires_in_hours=body.expires_in_hours,
        note=body.note,
    )
    service.tell_admins(session, runtime.bus, "invite.changed", invite.id)
    return InviteCreated.model_validate(
        {
            **_invite_read(invite).model_dump(),
            "code": code,
            "register_url": register_url(runtime, code),
        }
    )


def register_url(runtime: Runtime, code: str) -> str:
    """Where an invited person registers."""
    return f"{runtime.settings.base_url}/register?invite={code}"


@invites.get(
    "",
    operation_id="invites_list",
    response_model=InviteList,
    responses=error_responses(NotAuthenticated, NotAllowed),
)
async def list_invites(principal: AdminUser, session: DbSession) -> InviteList:
    """Every invite, with its uses, expiry and state (codes are not kept)."""
    return InviteList(items=[_invite_read(i) for i in await service.list_invites(session)])


@invites.delete(
    "/{invite_id}",
    operation_id="invites_revoke",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(NotAuthenticated, NotAllowed, InviteNotFound),
)
async def revoke_invite(
    invite_id: uuid.UUID, principal: AdminUser, session: DbSession, runtime: RuntimeDep
) -> Response:
    """Revoke an invite; its code stops working at once."""
    await service.revoke_invite(session, invite_id=invite_id)
    service.tell_admins(session, runtime.bus, "invite.changed", invite_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Users (admin) ------------------------------------------------------------------------------


@admin.get(
    "",
    operation_id="admin_users_list",
    response_model=UserPage,
    responses=error_responses(NotAuthenticated, NotAllowed),
)
async def admin_list_users(
    principal: AdminUser,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> UserPage:
    """All accounts, oldest first, a page at a time."""
    users, total = await service.list_users(session, limit=limit, offset=offset)
    return UserPage(
        items=[AdminUserRead.model_validate(u) for u in users],
        total=total,
        limit=limit,
        offset=offset,
    )


@admin.post(
    "",
    operation_id="admin_users_create",
    response_model=AdminUserRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(NotAuthenticated, NotAllowed, EmailTaken, WeakPassword),
)
async def admin_create_user(
    body: AdminUserCreate, principal: AdminUser, session: DbSession, runtime: RuntimeDep
) -> User:
    """Create an account without an invite."""
    user = await service.create_user(
        session,
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        is_admin=body.is_admin,
    )
    await session.refresh(user)
    service.tell_admins(session, runtime.bus, "account.changed", user.id)
    return user


@admin.patch(
    "/{user_id}",
    operation_id="admin_users_update",
    response_model=AdminUserRead,
    responses=error_responses(NotAuthenticated, NotAllowed, UserNotFound, LastAdmin),
)
async def admin_update_user(
    user_id: uuid.UUID,
    body: AdminUserUpdate,
    principal: AdminUser,
    session: DbSession,
    runtime: RuntimeDep,
) -> User:
    """Enable, disable, promote, demote or rename an account. Disabling ends its sessions."""
    return await service.admin_update_user(
        session,
        bus=runtime.bus,
        user_id=user_id,
        is_active=body.is_active,
        is_admin=body.is_admin,
        display_name=body.display_name,
    )


@admin.delete(
    "/{user_id}",
    operation_id="admin_users_delete",
    response_model=DeletionQueued,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(NotAuthenticated, NotAllowed, UserNotFound, LastAdmin),
)
async def admin_delete_user(
    user_id: uuid.UUID,
    principal: AdminUser,
    session: DbSession,
    runtime: RuntimeDep,
    mode: Literal["delete", "anonymise"] = "delete",
) -> DeletionQueued:
    """Delete or anonymise another account through a job."""
    job_id = await service.request_deletion(
        session, user_id=user_id, mode=mode, requested_by=principal.user_id
    )
    service.tell_admins(session, runtime.bus, "account.changed", user_id)
    return DeletionQueued(job_id=job_id)


router.include_router(auth)
router.include_router(me)
router.include_router(invites)
router.include_router(admin)
