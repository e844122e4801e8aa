"""Deleting or anonymising an account: access ends at once, a job removes the data."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select, update

from meadhall.platform.accounts import tasks
from meadhall.platform.accounts.models import (
    ApiKey,
    Invite,
    PasswordResetToken,
    RefreshToken,
    User,
)
from meadhall.platform.jobs.context import JobContext
from meadhall.platform.jobs.models import Job
from meadhall.platform.jobs.worker import running_worker
from meadhall.platform.runtime import Runtime
from tests.platform.accounts.support import (
    PASSWORD,
    Session,
    assert_error,
    create_invite,
    login,
    onboard,
    register,
)


async def _job(runtime: Runtime, job_id: str) -> Job:
    async with runtime.db.sessionmaker() as session:
        job = await session.get(Job, uuid.UUID(job_id))
    assert job is not None
    return job


async def _run_handler(runtime: Runtime, job_id: str) -> None:
    """Run the job's handler directly, as a worker would, without the queue."""
    job = await _job(runtime, job_id)
    ctx = JobContext(
        runtime=runtime, job_id=job.id, kind=job.kind, owner_id=job.owner_id, attempt=1
    )
    handler = tasks.delete_user if job.kind == "accounts.delete_user" else tasks.cleanup
    await handler(ctx, job.payload)


async def _count(runtime: Runtime, model: type, user_id: str) -> int:
    async with runtime.db.sessionmaker() as session:
        value = await session.scalar(
            select(func.count()).select_from(model).where(model.user_id == uuid.UUID(user_id))  # type: ignore[attr-defined]
        )
    return int(value or 0)


async def _player_with_credentials(client: httpx.AsyncClient, admin: Session) -> Session:
    player = await register(client, admin)
    await login(client, player.email)
    key = await client.post(
        "/api/me/api-keys", json={"name": "k", "scopes": ["read", "write"]}, headers=player.headers
    )
    assert key.status_code == 201
    return player


async def test_delete_own_account(client: httpx.AsyncClient, runtime: Runtime) -> None:
    admin = await onboard(client)
    player = await _player_with_credentials(client, admin)
    wrong = await client.request(
        "DELETE", "/api/me", json={"password": "nope"}, headers=player.headers
    )
    assert_error(wrong, 403, "wrong_password")
    assert_error(
        await client.request(
            "DELETE",
            "/api/me",
            json={"password": PASSWORD, "mode": "shred"},
            headers=player.headers,
        ),
        422,
    )

    response = await client.request(
        "DELETE", "/api/me", json={"password": PASSWORD}, headers=player.headers
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    job = await _job(runtime, job_id)
    assert job.kind == "accounts.delete_user" and job.owner_id is None
    assert job.payload == {"user_id": player.id, "mode": "delete"}
    # Cut off before the job runs.
    assert_error(await client.get("/api/me", headers=player.headers), 401)
    assert_error(
        await client.post("/api/auth/login", json={"email": player.email, "password": PASSWORD}),
        403,
    )
    assert_error(
        await client.post("/api/auth/refresh", json={"refresh_token": player.refresh_token}), 401
    )

    await _run_handler(runtime, job_id)
    async with runtime.db.sessionmaker() as session:
        assert await session.get(User, uuid.UUID(player.id)) is None
    for model in (RefreshToken, ApiKey, PasswordResetToken):
        assert await _count(runtime, model, player.id) == 0
    # Idempotent: a second run finds nothing to do.
    await _run_handler(runtime, job_id)


async def test_anonymise_keeps_a_scrubbed_row(client: httpx.AsyncClient, runtime: Runtime) -> None:
    admin = await onboard(client)
    player = await _player_with_credentials(client, admin)
    response = await client.request(
        "DELETE",
        "/api/me",
        json={"password": PASSWORD, "mode": "anonymise"},
        headers=player.headers,
    )
    assert response.status_code == 202
    await _run_handler(runtime, response.json()["job_id"])
    await _run_handler(runtime, response.json()["job_id"])
    async with runtime.db.sessionmaker() as session:
        user = await session.get(User, uuid.UUID(player.id))
    assert user is not None
    assert player.email not in user.email and user.email.endswith("@deleted.invalid")
    assert user.display_name == "Deleted user"
    assert user.is_active is False and user.password_hash == "!"
    for model in (RefreshToken, ApiKey):
        assert await _count(runtime, model, player.id) == 0
    assert_error(
        await client.post("/api/auth/login", json={"email": user.email, "password": "!"}), 401
    )


async def test_admin_deletes_another_user(client: httpx.AsyncClient, runtime: Runtime) -> None:
    admin = await onboard(client)
    player = await register(client, admin)
    assert_error(await client.delete(f"/api/admin/users/{player.id}", headers=player.headers), 403)
    assert_error(
        await client.delete(f"/api/admin/users/{player.id}?mode=burn", headers=admin.headers), 422
    )
    response = await client.delete(
        f"/api/admin/users/{player.id}?mode=anonymise", headers=admin.headers
    )
    assert response.status_code == 202
    job = await _job(runtime, response.json()["job_id"])
    assert job.owner_id == uuid.UUID(admin.id)
    assert job.payload["mode"] == "anonymise"
    assert_error(
        await client.delete(
            "/api/admin/users/0190a0a0-0000-7000-8000-000000000000", headers=admin.headers
        ),
        404,
    )
    # Re-enabling an account that is being deleted is refused.
    assert_error(
        await client.patch(
            f"/api/admin/users/{player.id}", json={"is_active": True}, headers=admin.headers
        ),
        409,
        "deletion_pending",
    )


async def test_last_admin_cannot_delete_themself(client: httpx.AsyncClient) -> None:
    admin = await onboard(client)
    response = await client.request(
        "DELETE", "/api/me", json={"password": PASSWORD}, headers=admin.headers
    )
    assert_error(response, 409, "last_admin")
    assert (await client.get("/api/me", headers=admin.headers)).status_code == 200


async def test_handler_ignores_users_who_did_not_ask(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await onboard(client)
    player = await register(client, admin)
    ctx = JobContext(
        runtime=runtime, job_id=uuid.uuid4(), kind="accounts.delete_user", owner_id=None, attempt=1
    )
    await tasks.delete_user(ctx, {"user_id": player.id, "mode": "delete"})
    async with runtime.db.sessionmaker() as session:
        assert await session.get(User, uuid.UUID(player.id)) is not None


async def test_cleanup_removes_dead_credentials(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await onboard(client)
    live = await login(client, admin.email)
    # A family where the old token was used but the new one is live: both stay (reuse window).
    rotated = (
        await client.post("/api/auth/refresh", json={"refresh_token": live.refresh_token})
    ).json()
    dead = await login(client, admin.email)
    await client.post("/api/auth/logout", json={"refresh_token": dead.refresh_token})
    expired = await login(client, admin.email)
    past = datetime.now(UTC) - timedelta(minutes=1)
    async with runtime.db.transaction() as session:
        from meadhall.platform.accounts.security import hash_secret

        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == hash_secret(expired.refresh_token))
            .values(expires_at=past)
        )
        session.add(
            PasswordResetToken(user_id=uuid.UUID(admin.id), token_hash="a" * 64, expires_at=past)
        )
        session.add(
            PasswordResetToken(
                user_id=uuid.UUID(admin.id),
                token_hash="b" * 64,
                expires_at=past + timedelta(hours=1),
            )
        )
    keep = await create_invite(client, admin, max_uses=2)
    used_up = await create_invite(client, admin)
    await client.post(
        "/api/auth/register",
        json={
            "invite_code": used_up["code"],
            "email": "x@example.com",
            "password": PASSWORD,
            "display_name": "X",
        },
    )
    revoked = await create_invite(client, admin)
    await client.delete(f"/api/invites/{revoked['id']}", headers=admin.headers)

    ctx = JobContext(
        runtime=runtime, job_id=uuid.uuid4(), kind="accounts.cleanup", owner_id=None, attempt=1
    )
    await tasks.cleanup(ctx, {})

    async with runtime.db.sessionmaker() as session:
        families = (
            await session.execute(
                select(RefreshToken.family_id, func.count())
                .where(RefreshToken.user_id == uuid.UUID(admin.id))
                .group_by(RefreshToken.family_id)
            )
        ).all()
        resets = (await session.scalars(select(PasswordResetToken.token_hash))).all()
        invites = (await session.scalars(select(Invite.id))).all()
    # Onboarding's own session, and the rotated family with its used token.
    assert sorted(count for _, count in families) == [1, 2]
    assert resets == ["b" * 64]
    assert [str(i) for i in invites] == [keep["id"]]
    # The live family still detects reuse after the sweep (once past the retry grace).
    async with runtime.db.transaction() as session:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.used_at.is_not(None))
            .values(used_at=RefreshToken.used_at - timedelta(minutes=1))
        )
    assert_error(
        await client.post("/api/auth/refresh", json={"refresh_token": live.refresh_token}),
        401,
        "refresh_token_reused",
    )
    assert_error(
        await client.post("/api/auth/refresh", json={"refresh_token": rotated["refresh_token"]}),
        401,
    )


async def test_deletion_through_the_job_engine(client: httpx.AsyncClient, runtime: Runtime) -> None:
    admin = await onboard(client)
    player = await _player_with_credentials(client, admin)
    response = await client.request(
        "DELETE", "/api/me", json={"password": PASSWORD}, headers=player.headers
    )
    job_id = response.json()["job_id"]
    async with running_worker(runtime, name="accounts-test"):
        for _ in range(300):
            job = await _job(runtime, job_id)
            if job.status in ("succeeded", "failed"):
                break
            await asyncio.sleep(0.1)
    assert job.status == "succeeded", job.last_error
    async with runtime.db.sessionmaker() as session:
        assert await session.get(User, uuid.UUID(player.id)) is None
