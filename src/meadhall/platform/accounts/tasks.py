"""Account jobs: carrying out account deletion, and the periodic sweep of dead credentials."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from meadhall.platform.accounts import service
from meadhall.platform.jobs.registry import job_kind

if TYPE_CHECKING:
    from meadhall.platform.jobs.context import JobContext

logger = logging.getLogger("meadhall.accounts")


@job_kind(service.DELETE_USER_KIND, queue="default", max_attempts=5)
async def delete_user(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Delete or anonymise a user who asked for it (or whom an admin removed).

    First every wing's deletion step (its manifest's ``deletion_steps``: files in storage and
    the like), then the rows: those referencing the user go with it through
    ``ON DELETE CASCADE``. Running it again after it finished does nothing.
    """
    user_id = uuid.UUID(str(payload["user_id"]))
    mode = str(payload.get("mode", "delete"))
    if mode not in ("delete", "anonymise"):
        raise ValueError(f"unknown deletion mode {mode!r}")
    steps = ctx.runtime.house.deletion_steps
    total = len(steps) + 1
    for done, step in enumerate(steps):
        await ctx.progress(done / total, f"step {done + 1} of {total}")
        await step(ctx, user_id, mode)
    async with ctx.transaction() as session:
        changed = await service.delete_or_anonymise(session, user_id=user_id, mode=mode)
        if changed:
            service.tell_admins(session, ctx.runtime.bus, "account.changed", user_id)
    logger.info(
        "account deletion finished",
        extra={"user_id": str(user_id), "mode": mode, "changed": changed},
    )
    await ctx.progress(1.0, "deleted" if mode == "delete" else "anonymised")


@job_kind("accounts.cleanup", queue="default", max_attempts=3, cron="*/15 * * * *")
async def cleanup(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Delete refresh tokens, reset links and invites that can never be used again."""
    async with ctx.transaction() as session:
        report = await service.cleanup_expired(session)
    logger.info(
        "expired credentials removed",
        extra={
            "refresh_tokens": report.refresh_tokens,
            "reset_tokens": report.reset_tokens,
            "invites": report.invites,
        },
    )
