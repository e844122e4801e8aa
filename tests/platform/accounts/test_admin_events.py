"""The "admin" topic: admins' pages hear about account and invite changes, and nobody else."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from meadhall.platform.accounts import tasks
from meadhall.platform.events.bus import Event, Subscription
from meadhall.platform.jobs.context import JobContext
from meadhall.platform.runtime import Runtime
from tests.platform.accounts.support import PASSWORD, create_invite, onboard, unique_email


async def _heard(subscription: Subscription) -> list[tuple[str, str | None]]:
    """Every event that arrives until the topic has been quiet for a moment."""
    heard: list[tuple[str, str | None]] = []
    while True:
        try:
            item = await asyncio.wait_for(subscription.next(), 0.5)
        except TimeoutError:
            return heard
        assert isinstance(item, Event)
        heard.append((item.type, item.data["id"]))


async def test_account_and_invite_changes_reach_the_admin_topic(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await onboard(client)
    subscription = runtime.bus.subscribe(["admin"])
    try:
        invite = await create_invite(client, admin, max_uses=2)
        assert await _heard(subscription) == [("invite.changed", invite["id"])]

        joined = await client.post(
            "/api/auth/register",
            json={
                "invite_code": invite["code"],
                "email": unique_email(),
                "password": PASSWORD,
                "display_name": "Sigrid",
            },
        )
        assert joined.status_code == 201
        sigrid = joined.json()["user"]["id"]
        assert await _heard(subscription) == [
            ("account.changed", sigrid),
            ("invite.changed", None),
        ]

        created = await client.post(
            "/api/admin/users",
            json={"email": unique_email(), "password": PASSWORD, "display_name": "Ulf"},
            headers=admin.headers,
        )
        assert created.status_code == 201
        ulf = created.json()["id"]
        assert await _heard(subscription) == [("account.changed", ulf)]

        disabled = await client.patch(
            f"/api/admin/users/{ulf}", json={"is_active": False}, headers=admin.headers
        )
        assert disabled.status_code == 200
        assert await _heard(subscription) == [("account.changed", ulf)]

        revoked = await client.delete(f"/api/invites/{invite['id']}", headers=admin.headers)
        assert revoked.status_code == 204
        assert await _heard(subscription) == [("invite.changed", invite["id"])]

        # A deletion is heard when it is asked for and again when the job has done it.
        queued = await client.delete(f"/api/admin/users/{ulf}", headers=admin.headers)
        assert queued.status_code == 202
        assert await _heard(subscription) == [("account.changed", ulf)]
        ctx = JobContext(
            runtime=runtime,
            job_id=uuid.UUID(queued.json()["job_id"]),
            kind="accounts.delete_user",
            owner_id=uuid.UUID(admin.id),
            attempt=1,
        )
        await tasks.delete_user(ctx, {"user_id": ulf, "mode": "delete"})
        assert await _heard(subscription) == [("account.changed", ulf)]

        # Refused changes say nothing.
        refused = await client.patch(
            f"/api/admin/users/{uuid.uuid4()}", json={"is_active": False}, headers=admin.headers
        )
        assert refused.status_code == 404
        taken = await client.post(
            "/api/admin/users",
            json={"email": admin.email, "password": PASSWORD, "display_name": "Again"},
            headers=admin.headers,
        )
        assert taken.status_code == 409
        assert await _heard(subscription) == []
    finally:
        subscription.close()
