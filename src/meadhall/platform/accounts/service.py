"""Account rules: onboarding, invites, sessions, passwords, API keys, admin and deletion.

Functions take the caller's session, flush but never commit, and raise the errors of
:mod:`meadhall.platform.accounts.errors`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.config import Settings
from meadhall.platform.accounts import repository as repo
from meadhall.platform.accounts.errors import (
    AccountDisabled,
    AlreadyOnboarded,
    ApiKeyNotFound,
    DeletionPending,
    EmailTaken,
    InvalidCredentials,
    InvalidRefreshToken,
    InvalidResetToken,
    InviteExpired,
    InviteInvalid,
    InviteNotFound,
    InviteRevoked,
    InviteUsedUp,
    LastAdmin,
    TooManyApiKeys,
    UserNotFound,
    WeakPassword,
    WrongPassword,
)
from meadhall.platform.accounts.models import (
    ApiKey,
    Invite,
    PasswordResetToken,
    RefreshToken,
    User,
)
from meadhall.platform.accounts.principal import ALL_SCOPES, API_KEY_PREFIX, Principal
from meadhall.platform.accounts.schemas import UserRead
from meadhall.platform.accounts.security import (
    create_access_token,
    hash_password,
    hash_secret,
    new_secret,
    password_needs_rehash,
    verify_password,
)
from meadhall.platform.db import on_commit
from meadhall.platform.events.bus import EventBus, publish_after_commit
from meadhall.platform.events.topics import ADMIN_TOPIC
from meadhall.platform.mail import send_mail
from meadhall.platform.runtime import Runtime

logger = logging.getLogger("meadhall.accounts")

DeletionMode = Literal["delete", "anonymise"]

MAX_API_KEYS_PER_USER = 50
API_KEY_PREFIX_LENGTH = len(API_KEY_PREFIX) + 8
INVITE_PREFIX_LENGTH = 6
# last_used_at is a hint for people, not an audit log: write it at most this often.
API_KEY_TOUCH_INTERVAL = timedelta(minutes=1)
_MAIL_TASKS = "accounts.mail_tasks"


def utcnow() -> datetime:
    return datetime.now(UTC)


# Passwords ----------------------------------------------------------------------------------


def check_password_policy(password: str, *, email: str) -> None:
    """Length is checked by the schemas; here the rules that need more than the password."""
    if password.strip().lower() == email.strip().lower():
        raise WeakPassword("the password must not be the e-mail address")
    if not password.strip():
        raise WeakPassword("the password must not be only spaces")


async def _hash(password: str) -> str:
    # Argon2 takes tens of milliseconds of CPU: keep it off the event loop.
    return await asyncio.to_thread(hash_password, password)


async def _verify(password_hash: str | None, password: str) -> bool:
    return await asyncio.to_thread(verify_password, password_hash, password)


# Users --------------------------------------------------------------------------------------


async def get_user(session: AsyncSession, *, user_id: uuid.UUID) -> User:
    user = await repo.user_by_id(session, user_id)
    if user is None:
        raise UserNotFound("no such user")
    return user


async def is_onboarded(session: AsyncSession) -> bool:
    """Whether the first account (the admin) exists."""
    return await repo.any_user_exists(session)


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    display_name: str,
    is_admin: bool = False,
) -> User:
    """Create an active account; :class:`EmailTaken` if the address is in use (any case)."""
    check_password_policy(password, email=email)
    if await repo.user_by_email(session, email) is not None:
        raise EmailTaken("an account with this e-mail address already exists")
    user = User(
        email=email,
        display_name=display_name,
        password_hash=await _hash(password),
        is_admin=is_admin,
    )
    # A concurrent registration may take the address between the check and the insert;
    # the unique index decides, inside a savepoint so the outer transaction survives.
    try:
        async with session.begin_nested():
            session.add(user)
            await session.flush()
    except IntegrityError:
        raise EmailTaken("an account with this e-mail address already exists") from None
    return user


async def onboard(session: AsyncSession, *, email: str, password: str, display_name: str) -> User:
    """Create the first account, as admin. Only possible while no account exists."""
    # Two onboarding requests at once: the second waits here and then sees the first user.
    await repo.advisory_lock(session, repo.ONBOARDING_LOCK)
    if await repo.any_user_exists(session):
        raise AlreadyOnboarded("this server already has an admin; ask them for an invite")
    return await create_user(
        session, email=email, password=password, display_name=display_name, is_admin=True
    )


async def register(
    session: AsyncSession, *, invite_code: str, email: str, password: str, display_name: str
) -> User:
    """Create an account with an invite, taking one of its uses."""
    code_hash = hash_secret(invite_code.strip())
    now = utcnow()
    if not await repo.consume_invite(session, code_hash, now):
        invite = await repo.invite_by_hash(session, code_hash)
        if invite is None:
            raise InviteInvalid("the invite code is not valid")
        if invite.revoked_at is not None:
            raise InviteRevoked("this invite was revoked")
        if invite.expires_at is not None and invite.expires_at <= now:
            raise InviteExpired("this invite has expired")
        raise InviteUsedUp("this invite has been used up")
    return await create_user(session, email=email, password=password, display_name=display_name)


async def authenticate(session: AsyncSession, *, email: str, password: str) -> User:
    """The user with this e-mail and password; rehashes the password if parameters changed."""
    user = await repo.user_by_email(session, email.strip())
    # Verified even for unknown users (against a dummy hash) so timing reveals nothing.
    ok = await _verify(user.password_hash if user else None, password)
    if user is None or not ok:
        raise InvalidCredentials("wrong e-mail address or password")
    if not user.is_active:
        raise AccountDisabled("this account is disabled")
    if password_needs_rehash(user.password_hash):
        user.password_hash = await _hash(password)
    user.last_login_at = utcnow()
    await session.flush()
    return user


async def update_profile(
    session: AsyncSession, *, bus: EventBus, user_id: uuid.UUID, display_name: str | None
) -> User:
    """Change what a user may change about themselves; tells their clients after commit."""
    user = await get_user(session, user_id=user_id)
    if display_name is not None:
        user.display_name = display_name
    await session.flush()
    await session.refresh(user)
    _publish_user(session, bus, user)
    return user


def tell_admins(
    session: AsyncSession,
    bus: EventBus,
    event: Literal["account.changed", "invite.changed"],
    subject_id: uuid.UUID | None = None,
) -> None:
    """After commit, tell the admins' pages that an account or an invite changed.

    Only the id travels (the page reads the lists again), so nothing private reaches the
    admin topic that an admin could not read through the API anyway.
    """
    data = {"id": str(subject_id) if subject_id else None}
    publish_after_commit(session, bus, ADMIN_TOPIC, event, data)


def _publish_user(session: AsyncSession, bus: EventBus, user: User) -> None:
    """Tell the user's own clients (the whole profile) and the admins' pages (a signal)."""
    data = UserRead.model_validate(user).model_dump(mode="json")
    publish_after_commit(session, bus, f"user:{user.id}", "user.updated", data)
    tell_admins(session, bus, "account.changed", user.id)


async def change_password(
    session: AsyncSession, *, user_id: uuid.UUID, current_password: str, new_password: str
) -> User:
    """Set a new password; every existing access and refresh token stops working."""
    user = await get_user(session, user_id=user_id)
    if not await _verify(user.password_hash, current_password):
        raise WrongPassword("the current password is wrong")
    check_password_policy(new_password, email=user.email)
    user.password_hash = await _hash(new_password)
    user.token_version += 1
    await repo.revoke_user_refresh_tokens(session, user.id, utcnow())
    await session.flush()
    return user


# Tokens -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedTokens:
    """What a login, registration or refresh hands to the client."""

    user: User
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime


async def issue_tokens(
    session: AsyncSession,
    *,
    settings: Settings,
    user: User,
    family_id: uuid.UUID | None = None,
) -> IssuedTokens:
    """A fresh access token and a refresh token (new family unless one is given)."""
    access, access_expires = create_access_token(
        key=settings.signing_key(),
        user_id=user.id,
        token_version=user.token_version,
        minutes=settings.access_token_minutes,
    )
    refresh = new_secret()
    refresh_expires = utcnow() + timedelta(days=settings.refresh_token_days)
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id or uuid.uuid4(),
            token_hash=hash_secret(refresh),
            expires_at=refresh_expires,
        )
    )
    await session.flush()
    return IssuedTokens(
        user=user,
        access_token=access,
        access_expires_at=access_expires,
        refresh_token=refresh,
        refresh_expires_at=refresh_expires,
    )


@dataclass(frozen=True)
class RefreshOutcome:
    """A rotation's result: new tokens, or ``reused`` when a spent token came back."""

    tokens: IssuedTokens | None
    reused: bool = False


async def rotate_refresh_token(
    session: AsyncSession, *, settings: Settings, refresh_token: str
) -> RefreshOutcome:
    """Spend ``refresh_token`` for a new pair in the same family.

    A token that was already spent means two parties hold the chain (one of them a thief):
    the whole family is revoked and ``reused`` is returned, so the caller commits the
    revocation before refusing. The one exception is a token spent within the last
    ``refresh_reuse_grace_seconds`` while no later token of its family has been spent: the
    response to the first refresh was lost (the page was left, two tabs refreshed at once),
    so another pair is issued in the same family.
    """
    now = utcnow()
    # The row lock makes two refreshes with one token run one after the other.
    token = await repo.refresh_token_for_update(session, hash_secret(refresh_token))
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        raise InvalidRefreshToken("the refresh token is invalid or expired")
    if token.used_at is not None and not await _lost_response(session, settings, token, now):
        await repo.revoke_family(session, token.family_id, now)
        logger.warning(
            "refresh token reused; session revoked",
            extra={"user_id": str(token.user_id), "family_id": str(token.family_id)},
        )
        return RefreshOutcome(tokens=None, reused=True)
    user = await repo.user_by_id(session, token.user_id)
    if user is None or not user.is_active:
        raise InvalidRefreshToken("the account is disabled")
    if token.used_at is None:
        token.used_at = now
    tokens = await issue_tokens(session, settings=settings, user=user, family_id=token.family_id)
    return RefreshOutcome(tokens=tokens)


async def _lost_response(
    session: AsyncSession, settings: Settings, token: RefreshToken, now: datetime
) -> bool:
    """Whether a spent ``token`` is being retried by its owner rather than replayed."""
    assert token.used_at is not None
    grace = timedelta(seconds=settings.refresh_reuse_grace_seconds)
    if now - token.used_at > grace:
        return False
    return not await repo.family_used_since(session, token.family_id, token.used_at)


async def revoke_session(session: AsyncSession, *, refresh_token: str) -> None:
    """Log out: revoke the whole family of ``refresh_token`` (unknown tokens are ignored)."""
    token = await repo.refresh_token_by_hash(session, hash_secret(refresh_token))
    if token is not None:
        await repo.revoke_family(session, token.family_id, utcnow())


# Password reset -----------------------------------------------------------------------------


def _reset_mail_body(settings: Settings, user: User, link: str) -> str:
    return (
        f"Hello {user.display_name},\n\n"
        "Someone (hopefully you) asked to reset the password of your Meadhall account.\n"
        f"Open this link within {settings.password_reset_minutes} minutes to choose a new one:\n\n"
        f"{link}\n\n"
        "If you did not ask for this, ignore this mail; your password stays as it is.\n"
    )


def _send_in_background(runtime: Runtime, *, to: str, subject: str, body: str) -> None:
    """Send without making the request wait, so timing does not reveal who has an account."""
    tasks: set[asyncio.Task[None]] = runtime.extras.setdefault(_MAIL_TASKS, set())

    async def send() -> None:
        try:
            await send_mail(runtime.settings, to=to, subject=subject, body=body)
        except Exception:
            logger.exception("could not send mail", extra={"subject": subject})

    task = asyncio.get_running_loop().create_task(send())
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def wait_for_mail(runtime: Runtime) -> None:
    """Wait until every mail being sent in the background is done (shutdown, tests)."""
    tasks: set[asyncio.Task[None]] = runtime.extras.get(_MAIL_TASKS, set())
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)


async def request_password_reset(session: AsyncSession, *, runtime: Runtime, email: str) -> None:
    """Mail a reset link to the account's address, if there is such an active account.

    The caller always answers the same way, so nobody learns which addresses have accounts.
    """
    settings = runtime.settings
    if not settings.smtp_enabled:
        logger.warning("password reset requested, but mail is off (set MEADHALL_SMTP_HOST)")
        return
    user = await repo.user_by_email(session, email.strip())
    if user is None or not user.is_active:
        return
    token = new_secret()
    session.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=hash_secret(token),
            expires_at=utcnow() + timedelta(minutes=settings.password_reset_minutes),
        )
    )
    await session.flush()
    link = f"{settings.base_url}/reset-password?token={token}"
    body = _reset_mail_body(settings, user, link)
    to = user.email

    async def after_commit() -> None:
        _send_in_background(runtime, to=to, subject="Reset your Meadhall password", body=body)

    # The link must work by the time the mail arrives: send only once the token is stored.
    on_commit(session, after_commit)


async def confirm_password_reset(session: AsyncSession, *, token: str, new_password: str) -> User:
    """Set the password from a reset link; the link and every session of the user die."""
    now = utcnow()
    reset = await repo.reset_token_for_update(session, hash_secret(token))
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        raise InvalidResetToken("the reset link is invalid, used or expired")
    user = await repo.user_by_id(session, reset.user_id)
    if user is None or not user.is_active:
        raise InvalidResetToken("the reset link is invalid, used or expired")
    check_password_policy(new_password, email=user.email)
    user.password_hash = await _hash(new_password)
    user.token_version += 1
    await repo.spend_reset_tokens(session, user.id, now)
    await repo.revoke_user_refresh_tokens(session, user.id, now)
    await session.flush()
    return user


# Invites ------------------------------------------------------------------------------------


def invite_status(invite: Invite, now: datetime | None = None) -> str:
    now = now or utcnow()
    if invite.revoked_at is not None:
        return "revoked"
    if invite.expires_at is not None and invite.expires_at <= now:
        return "expired"
    if invite.uses >= invite.max_uses:
        return "used_up"
    return "active"


async def create_invite(
    session: AsyncSession,
    *,
    created_by_id: uuid.UUID | None,
    max_uses: int,
    expires_in_hours: int | None,
    note: str | None,
) -> tuple[Invite, str]:
    """A new invite and its code (the only time the code exists outside a hash)."""
    code = new_secret()
    invite = Invite(
        code_hash=hash_secret(code),
        code_prefix=code[:INVITE_PREFIX_LENGTH],
        note=note.strip() if note else None,
        max_uses=max_uses,
        uses=0,
        expires_at=utcnow() + timedelta(hours=expires_in_hours) if expires_in_hours else None,
        created_by_id=created_by_id,
    )
    session.add(invite)
    await session.flush()
    await session.refresh(invite)
    return invite, code


async def list_invites(session: AsyncSession) -> Sequence[Invite]:
    return await repo.list_invites(session)


async def revoke_invite(session: AsyncSession, *, invite_id: uuid.UUID) -> Invite:
    invite = await session.get(Invite, invite_id)
    if invite is None:
        raise InviteNotFound("no such invite")
    if invite.revoked_at is None:
        invite.revoked_at = utcnow()
        await session.flush()
    return invite


# API keys -----------------------------------------------------------------------------------


async def create_api_key(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    name: str,
    scopes: Sequence[str],
    expires_in_days: int | None,
) -> tuple[ApiKey, str]:
    """A new API key and its secret (shown once; only the hash is kept)."""
    now = utcnow()
    if await repo.count_usable_api_keys(session, user_id, now) >= MAX_API_KEYS_PER_USER:
        raise TooManyApiKeys(
            f"at most {MAX_API_KEYS_PER_USER} API keys per account; revoke one first"
        )
    secret = new_secret(API_KEY_PREFIX)
    key = ApiKey(
        user_id=user_id,
        name=name,
        key_prefix=secret[:API_KEY_PREFIX_LENGTH],
        key_hash=hash_secret(secret),
        scopes=sorted(set(scopes)),
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(key)
    await session.flush()
    await session.refresh(key)
    return key, secret


async def list_api_keys(session: AsyncSession, *, user_id: uuid.UUID) -> Sequence[ApiKey]:
    return await repo.user_api_keys(session, user_id)


async def revoke_api_key(session: AsyncSession, *, user_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
    key = await session.get(ApiKey, key_id)
    # Someone else's key is "not found": ids of others' things are not confirmed.
    if key is None or key.user_id != user_id:
        raise ApiKeyNotFound("no such API key")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        await session.flush()
    return key


async def principal_for_api_key(session: AsyncSession, *, key: str) -> Principal | None:
    """The principal an API key stands for, or ``None`` if it is unknown or unusable."""
    if not key.startswith(API_KEY_PREFIX) or len(key) > 256:
        return None
    api_key = await repo.api_key_by_hash(session, hash_secret(key))
    if api_key is None or api_key.revoked_at is not None:
        return None
    now = utcnow()
    if api_key.expires_at is not None and api_key.expires_at <= now:
        return None
    user = await repo.user_by_id(session, api_key.user_id)
    if user is None or not user.is_active:
        return None
    if api_key.last_used_at is None or now - api_key.last_used_at >= API_KEY_TOUCH_INTERVAL:
        api_key.last_used_at = now
        await session.flush()
    return Principal(
        user_id=user.id,
        is_admin=user.is_admin,
        scopes=frozenset(api_key.scopes) & ALL_SCOPES,
        via="api_key",
        display_name=user.display_name,
    )


# Admin --------------------------------------------------------------------------------------


async def list_users(
    session: AsyncSession, *, limit: int, offset: int
) -> tuple[Sequence[User], int]:
    return await repo.list_users(session, limit=limit, offset=offset)


async def _ensure_not_last_admin(session: AsyncSession, user: User, action: str) -> None:
    """Refuse to take the last active admin away (the server would be unmanageable)."""
    # Serialised: two admins demoting each other at once must not both succeed.
    await repo.advisory_lock(session, repo.ADMINS_LOCK)
    if (
        user.is_admin
        and user.is_active
        and await repo.count_other_active_admins(session, user.id) == 0
    ):
        raise LastAdmin(f"cannot {action} the last active admin; make another admin first")


async def _cut_off(session: AsyncSession, user: User) -> None:
    """Make every token of ``user`` useless right now."""
    user.token_version += 1
    await repo.revoke_user_refresh_tokens(session, user.id, utcnow())


async def admin_update_user(
    session: AsyncSession,
    *,
    bus: EventBus,
    user_id: uuid.UUID,
    is_active: bool | None,
    is_admin: bool | None,
    display_name: str | None,
) -> User:
    """Enable, disable, promote, demote or rename a user."""
    user = await repo.user_by_id_for_update(session, user_id)
    if user is None:
        raise UserNotFound("no such user")
    if is_active is False and user.is_active:
        await _ensure_not_last_admin(session, user, "disable")
        user.is_active = False
        await _cut_off(session, user)
    elif is_active is True and not user.is_active:
        if user.deletion_requested_at is not None:
            raise DeletionPending("this account is being deleted")
        user.is_active = True
    if is_admin is False and user.is_admin:
        await _ensure_not_last_admin(session, user, "demote")
        user.is_admin = False
    elif is_admin is True:
        user.is_admin = True
    if display_name is not None:
        user.display_name = display_name
    await session.flush()
    await session.refresh(user)
    _publish_user(session, bus, user)
    return user


async def disable_user_by_email(session: AsyncSession, *, bus: EventBus, email: str) -> User:
    """Disable the account with this address (the CLI's ``user disable``)."""
    user = await repo.user_by_email(session, email)
    if user is None:
        raise UserNotFound(f"no account with the e-mail address {email}")
    return await admin_update_user(
        session, bus=bus, user_id=user.id, is_active=False, is_admin=None, display_name=None
    )


# Deletion -----------------------------------------------------------------------------------


DELETE_USER_KIND = "accounts.delete_user"


async def request_deletion(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    mode: DeletionMode,
    requested_by: uuid.UUID,
    password: str | None = None,
) -> uuid.UUID:
    """Cut the account off now and queue the job that deletes or anonymises it.

    ``password`` is required when people delete their own account. Returns the job id.
    """
    from meadhall.platform.jobs.service import enqueue

    user = await repo.user_by_id_for_update(session, user_id)
    if user is None:
        raise UserNotFound("no such user")
    if password is not None and not await _verify(user.password_hash, password):
        raise WrongPassword("the password is wrong")
    await _ensure_not_last_admin(session, user, "delete")
    if user.deletion_requested_at is None:
        user.deletion_requested_at = utcnow()
    user.is_active = False
    await _cut_off(session, user)
    await session.flush()
    payload: dict[str, Any] = {"user_id": str(user.id), "mode": mode}
    job = await enqueue(
        session,
        kind=DELETE_USER_KIND,
        payload=payload,
        # Not the user being deleted: their jobs go with them.
        owner_id=requested_by if requested_by != user.id else None,
        dedup_key=f"{DELETE_USER_KIND}:{user.id}",
    )
    return job.id


async def delete_or_anonymise(session: AsyncSession, *, user_id: uuid.UUID, mode: str) -> bool:
    """Carry out a requested deletion. Idempotent; ``False`` when there was nothing to do."""
    user = await repo.user_by_id_for_update(session, user_id)
    if user is None:
        return False
    if user.deletion_requested_at is None:
        # Only a deletion that was asked for (and cut the account off) may run.
        logger.warning(
            "deletion job for a user who did not ask for it", extra={"user_id": str(user_id)}
        )
        return False
    if mode == "delete":
        await session.delete(user)
        await session.flush()
        return True
    await repo.delete_user_credentials(session, user.id)
    user.email = f"{user.id}@deleted.invalid"
    user.display_name = "Deleted user"
    # Not a valid Argon2 hash: no password can ever match it.
    user.password_hash = "!"
    user.is_active = False
    user.is_admin = False
    await session.flush()
    return True


@dataclass(frozen=True)
class CleanupReport:
    refresh_tokens: int
    reset_tokens: int
    invites: int


async def cleanup_expired(session: AsyncSession) -> CleanupReport:
    """Delete credentials that can never be used again."""
    now = utcnow()
    return CleanupReport(
        refresh_tokens=await repo.delete_dead_refresh_families(session, now),
        reset_tokens=await repo.delete_spent_reset_tokens(session, now),
        invites=await repo.delete_finished_invites(session, now),
    )


MAIL_SHUTDOWN_GRACE_SECONDS = 10.0


async def close_accounts(runtime: Runtime) -> None:
    """At shutdown: let mails being sent finish (for a while), release the rate limiter."""
    from meadhall.platform.ratelimit import close_rate_limits

    try:
        async with asyncio.timeout(MAIL_SHUTDOWN_GRACE_SECONDS):
            await wait_for_mail(runtime)
    except TimeoutError:
        logger.warning("shutting down with mail still being sent")
    await close_rate_limits(runtime)
