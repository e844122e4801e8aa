"""Storage usage for admins: per-user figures, their totals, and the library's disk."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.library.settings import LibrarySettings
from meadhall.library.usage import repository
from meadhall.library.usage.schemas import DiskUsage, LibraryUsage, UsageCounts, UserUsage

_FIGURES = tuple(UsageCounts.model_fields)


def _existing(path: Path) -> Path:
    # Before the first upload the library folder may not exist yet; its nearest existing
    # parent sits on the same file system as the folder will.
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def disk_usage(path: Path) -> DiskUsage:
    """Total, used and free bytes of the file system holding ``path`` (blocking)."""
    usage = shutil.disk_usage(_existing(path))
    return DiskUsage(total_bytes=usage.total, used_bytes=usage.used, free_bytes=usage.free)


async def library_usage(session: AsyncSession, *, settings: LibrarySettings) -> LibraryUsage:
    """Every user's assets and bytes (largest first), their sum, and the disk's space.

    A user's quota is their own when an admin set one, else the server default.
    """
    users = [
        UserUsage(
            user_id=row.user_id,
            display_name=row.display_name,
            email=row.email,
            is_active=row.is_active,
            quota_bytes=row.quota_bytes
            if row.quota_row is not None
            else settings.library_quota_bytes,
            **{name: int(getattr(row, name)) for name in _FIGURES},
        )
        for row in await repository.usage_by_owner(session)
    ]
    totals = UsageCounts(**{name: sum(getattr(user, name) for user in users) for name in _FIGURES})
    disk = await asyncio.to_thread(disk_usage, settings.library_dir)
    return LibraryUsage(users=users, totals=totals, disk=disk)
