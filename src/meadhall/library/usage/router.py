"""``/api/library/usage``: storage used per user, for admins."""

from __future__ import annotations

from fastapi import APIRouter

from meadhall.library.settings import library_settings
from meadhall.library.usage import service
from meadhall.library.usage.schemas import LibraryUsage
from meadhall.platform.accounts.deps import AdminUser
from meadhall.platform.deps import DbSession, RuntimeDep
from meadhall.platform.errors import NotAllowed, NotAuthenticated, error_responses

router = APIRouter(prefix="/library", tags=["admin"])


@router.get(
    "/usage",
    operation_id="library_usage",
    response_model=LibraryUsage,
    responses=error_responses(NotAuthenticated, NotAllowed),
)
async def library_usage(
    principal: AdminUser, session: DbSession, runtime: RuntimeDep
) -> LibraryUsage:
    """Each user's assets and bytes of originals — uploaded (stored by Meadhall) and indexed
    in place (not stored by it) — with the trashed part, their totals, and the total, used and
    free space of the disk holding the library folder."""
    return await service.library_usage(session, settings=library_settings(runtime.settings))
