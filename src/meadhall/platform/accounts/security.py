"""Passwords (Argon2id), access tokens (JWT) and opaque secrets stored only as hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

JWT_ALGORITHM = "HS256"
JWT_AUDIENCE = "meadhall"
ACCESS_TOKEN_TYPE = "access"

# argon2-cffi's defaults are RFC 9106's low-memory Argon2id profile.
_hasher = PasswordHasher()
# Verified against when the user does not exist, so timing does not reveal who has an account.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_secret(prefix: str = "") -> str:
    """A random token of 256 bits, optionally prefixed so leaked keys are recognisable."""
    return f"{prefix}{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> str:
    """Opaque tokens are high-entropy, so a plain SHA-256 is the right stored form."""
    return hashlib.sha256(secret.encode()).hexdigest()


def secrets_match(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    token_version: int
    expires_at: datetime


def create_access_token(
    *, key: str, user_id: uuid.UUID, token_version: int, minutes: int
) -> tuple[str, datetime]:
    now = datetime.now(UTC)
    expires = now + timedelta(minutes=minutes)
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "ver": token_version,
        "typ": ACCESS_TOKEN_TYPE,
        "aud": JWT_AUDIENCE,
        "iat": now,
        "exp": expires,
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, key, algorithm=JWT_ALGORITHM), expires


def decode_access_token(token: str, *, key: str) -> AccessClaims | None:
    """The claims of a valid, unexpired access token; ``None`` for anything else."""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[JWT_ALGORITHM],
            audience=JWT_AUDIENCE,
            options={"require": ["sub", "exp", "aud", "ver", "typ"]},
        )
        if claims.get("typ") != ACCESS_TOKEN_TYPE:
            return None
        return AccessClaims(
            user_id=uuid.UUID(claims["sub"]),
            token_version=int(claims["ver"]),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
