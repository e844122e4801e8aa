"""Who is asking: bearer access tokens, API keys and browser cookies (with CSRF checks)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends
from starlette.requests import HTTPConnection

from meadhall.platform.accounts import repository
from meadhall.platform.accounts.principal import ALL_SCOPES, API_KEY_PREFIX, Principal
from meadhall.platform.accounts.security import decode_access_token, secrets_match
from meadhall.platform.accounts.service import principal_for_api_key
from meadhall.platform.errors import NotAllowed, NotAuthenticated
from meadhall.platform.runtime import Runtime, get_runtime

ACCESS_COOKIE = "meadhall_access"
REFRESH_COOKIE = "meadhall_refresh"
CSRF_COOKIE = "meadhall_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def authenticate_access_token(
    runtime: Runtime, token: str, *, via: Literal["token", "cookie"]
) -> Principal:
    """The principal behind a JWT access token; :class:`NotAuthenticated` otherwise."""
    claims = decode_access_token(token, key=runtime.settings.signing_key())
    if claims is None:
        raise NotAuthenticated("the access token is invalid or expired")
    async with runtime.db.sessionmaker() as session:
        user = await repository.user_by_id(session, claims.user_id)
    if user is None or not user.is_active or user.token_version != claims.token_version:
        raise NotAuthenticated("the access token is no longer valid")
    return Principal(
        user_id=user.id,
        is_admin=user.is_admin,
        scopes=ALL_SCOPES,
        via=via,
        display_name=user.display_name,
    )


async def authenticate_api_key(runtime: Runtime, key: str) -> Principal:
    async with runtime.db.transaction() as session:
        principal = await principal_for_api_key(session, key=key)
    if principal is None:
        raise NotAuthenticated("the API key is invalid or revoked")
    return principal


async def authenticate_bearer(runtime: Runtime, token: str) -> Principal:
    """A bearer credential: an API key (``mhk_…``) or an access token."""
    if token.startswith(API_KEY_PREFIX):
        return await authenticate_api_key(runtime, token)
    return await authenticate_access_token(runtime, token, via="token")


def _bearer(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise NotAuthenticated("the Authorization header must be 'Bearer <token>'")
    return value.strip()


async def optional_principal(conn: HTTPConnection) -> Principal | None:
    """The caller, or ``None`` when the request carries no credentials at all.

    Cookie-authenticated requests that change state must echo the CSRF cookie in the
    ``X-CSRF-Token`` header (double submit); bearer requests are immune to CSRF.
    """
    runtime = get_runtime(conn)
    token = _bearer(conn)
    if token is not None:
        return await authenticate_bearer(runtime, token)
    cookie = conn.cookies.get(ACCESS_COOKIE)
    if cookie is None:
        return None
    method = conn.scope.get("method", "GET")
    if method not in SAFE_METHODS:
        sent = conn.headers.get(CSRF_HEADER, "")
        expected = conn.cookies.get(CSRF_COOKIE, "")
        if not sent or not expected or not secrets_match(sent, expected):
            raise NotAllowed("missing or wrong CSRF token (send the X-CSRF-Token header)")
    return await authenticate_access_token(runtime, cookie, via="cookie")


async def current_principal(conn: HTTPConnection) -> Principal:
    principal = await optional_principal(conn)
    if principal is None:
        raise NotAuthenticated("authentication required")
    method = conn.scope.get("method", "GET")
    if method not in SAFE_METHODS and not principal.can("write"):
        raise NotAllowed("this API key may only read")
    return principal


async def admin_principal(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if not principal.is_admin:
        raise NotAllowed("only an admin may do this")
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]
OptionalUser = Annotated[Principal | None, Depends(optional_principal)]
AdminUser = Annotated[Principal, Depends(admin_principal)]
