"""SQL of the accounts domain. Functions take the caller's session and never commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, exists, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.platform.accounts.models import (
    ApiKey,
    Invite,
    PasswordResetToken,
    RefreshToken,
    User,
)

# Advisory lock keys (pg_advisory_xact_lock): serialise onboarding and last-admin checks.
ONBOARDING_LOCK = 0x4D48_0001
ADMINS_LOCK = 0x4D48_0002


async def advisory_lock(session: AsyncSession, key: int) -> None:
    """Hold a transaction-scoped lock: concurrent holders wait until this transaction ends."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def any_user_exists(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(exists().where(User.id.is_not(None)))))


async def user_by_id(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def user_by_id_for_update(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.scalar(
        select(User)
        .where(User.id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(func.lower(User.email) == email.lower()))


async def count_other_active_admins(session: AsyncSession, user_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.is_admin, User.is_active, User.id != user_id)
    )
    return int(count or 0)


async def list_users(
    session: AsyncSession, *, limit: int, offset: int
) -> tuple[Sequence[User], int]:
    total = int(await session.scalar(select(func.count()).select_from(User)) or 0)
    rows = await session.scalars(
        select(User).order_by(User.created_at, User.id).limit(limit).offset(offset)
    )
    return rows.all(), total


# Invites ------------------------------------------------------------------------------------


async def invite_by_hash(session: AsyncSession, code_hash: str) -> Invite | None:
    return await session.scalar(select(Invite).where(Invite.code_hash == code_hash))


async def consume_invite(session: AsyncSession, code_hash: str, now: datetime) -> bool:
    """Take one use of a valid invite in a single statement.

    The row lock of the UPDATE makes concurrent registrations queue up, and each re-checks
    ``uses < max_uses`` after the one before it, so an invite can never be over-used.
    """
    result = await session.execute(
        update(Invite)
        .where(
            Invite.code_hash == code_hash,
            Invite.uses < Invite.max_uses,
            Invite.revoked_at.is_(None),
            or_(Invite.expires_at.is_(None), Invite.expires_at > now),
        )
        .values(uses=Invite.uses + 1)
        .returning(Invite.id)
    )
    return result.scalar_one_or_none() is not None


async def list_invites(session: AsyncSession) -> Sequence[Invite]:
    return (await session.scalars(select(Invite).order_by(Invite.created_at.desc()))).all()


# Refresh tokens -----------------------------------------------------------------------------


async def refresh_token_for_update(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    return await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
    )


async def refresh_token_by_hash(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    return await session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash))


async def family_used_since(session: AsyncSession, family_id: uuid.UUID, when: datetime) -> bool:
    """Whether a token of the family was spent after ``when`` (the chain moved on)."""
    found = await session.scalar(
        select(RefreshToken.id)
        .where(RefreshToken.family_id == family_id, RefreshToken.used_at > when)
        .limit(1)
    )
    return found is not None


async def revoke_family(session: AsyncSession, family_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_user_refresh_tokens(
    session: AsyncSession, user_id: uuid.UUID, now: datetime
) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def delete_dead_refresh_families(session: AsyncSession, now: datetime) -> int:
    """Delete every family with no usable token left.

    Used tokens of a live family stay: they are what lets reuse be detected.
    """
    live = select(RefreshToken.family_id).where(
        RefreshToken.used_at.is_(None),
        RefreshToken.revoked_at.is_(None),
        RefreshToken.expires_at > now,
    )
    result = await session.execute(delete(RefreshToken).where(RefreshToken.family_id.not_in(live)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# Password reset -----------------------------------------------------------------------------


async def reset_token_for_update(
    session: AsyncSession, token_hash: str
) -> PasswordResetToken | None:
    return await session.scalar(
        select(PasswordResetToken)
        .where(PasswordResetToken.token_hash == token_hash)
        .with_for_update()
    )


async def spend_reset_tokens(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )


async def delete_spent_reset_tokens(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(
        delete(PasswordResetToken).where(
            or_(PasswordResetToken.used_at.is_not(None), PasswordResetToken.expires_at <= now)
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def delete_finished_invites(session: AsyncSession, now: datetime) -> int:
    """Delete invites that can never be used again: expired, revoked or used up."""
    result = await session.execute(
        delete(Invite).where(
            or_(
                Invite.expires_at <= now,
                Invite.revoked_at.is_not(None),
                Invite.uses >= Invite.max_uses,
            )
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# API keys -----------------------------------------------------------------------------------


async def api_key_by_hash(session: AsyncSession, key_hash: str) -> ApiKey | None:
    return await session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))


async def user_api_keys(session: AsyncSession, user_id: uuid.UUID) -> Sequence[ApiKey]:
    return (
        await session.scalars(
            select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.created_at.desc())
        )
    ).all()


async def count_usable_api_keys(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(ApiKey)
        .where(
            ApiKey.user_id == user_id,
            ApiKey.revoked_at.is_(None),
            or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
        )
    )
    return int(count or 0)


async def delete_user_credentials(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Remove every credential of a user: refresh tokens, reset links and API keys."""
    for model in (RefreshToken, PasswordResetToken, ApiKey):
        await session.execute(delete(model).where(model.user_id == user_id))
