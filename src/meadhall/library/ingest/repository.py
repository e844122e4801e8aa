"""SQL of ingest: duplicates by hash, the quota's figures and lock, indexed folders and their
files, resumable uploads, and the default owner of a command-line import."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.library.models import Asset, LibraryFolder, Upload
from meadhall.platform.accounts.models import User

# Assets -------------------------------------------------------------------------------------


async def asset_id_by_sha(
    session: AsyncSession, *, owner_id: uuid.UUID, sha256: str
) -> uuid.UUID | None:
    """The owner's asset with these bytes, trashed ones included."""
    return await session.scalar(
        select(Asset.id).where(Asset.owner_id == owner_id, Asset.sha256 == sha256)
    )


async def asset_ids_by_sha(
    session: AsyncSession, *, owner_id: uuid.UUID, hashes: Collection[str]
) -> dict[str, uuid.UUID]:
    """``{sha256: asset id}`` for those of ``hashes`` the owner has, trashed ones included."""
    rows = await session.execute(
        select(Asset.sha256, Asset.id).where(Asset.owner_id == owner_id, Asset.sha256.in_(hashes))
    )
    return {sha: asset_id for sha, asset_id in rows.all()}


async def asset_id_by_folder_path(
    session: AsyncSession, *, folder_id: uuid.UUID | None, storage_path: str | None
) -> uuid.UUID | None:
    """The asset of an indexed folder's file."""
    return await session.scalar(
        select(Asset.id).where(Asset.folder_id == folder_id, Asset.storage_path == storage_path)
    )


async def managed_bytes(session: AsyncSession, *, owner_id: uuid.UUID) -> int:
    """Bytes of the owner's managed originals (files of indexed folders are not counted)."""
    total = await session.scalar(
        select(func.coalesce(func.sum(Asset.size_bytes), 0)).where(
            Asset.owner_id == owner_id, Asset.folder_id.is_(None)
        )
    )
    return int(total or 0)


async def lock_quota(session: AsyncSession, *, owner_id: uuid.UUID) -> None:
    """Hold the owner's quota lock until the transaction ends."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"meadhall.library.quota:{owner_id}"},
    )


# Indexed folders ----------------------------------------------------------------------------


async def folder_paths(session: AsyncSession) -> list[str]:
    """The path of every indexed folder."""
    return list((await session.scalars(select(LibraryFolder.path))).all())


async def all_folders(session: AsyncSession) -> list[LibraryFolder]:
    return list((await session.scalars(select(LibraryFolder))).all())


async def watched_folders(session: AsyncSession) -> list[tuple[str, uuid.UUID]]:
    """``(path, id)`` of the folders with ``watch`` on."""
    rows = await session.execute(
        select(LibraryFolder.path, LibraryFolder.id).where(LibraryFolder.watch.is_(True))
    )
    return [(path, folder_id) for path, folder_id in rows.all()]


async def folders_with_counts(session: AsyncSession) -> list[tuple[LibraryFolder, int]]:
    """Every indexed folder with how many assets it holds, oldest first."""
    counts = (
        select(Asset.folder_id, func.count().label("n"))
        .where(Asset.folder_id.is_not(None))
        .group_by(Asset.folder_id)
        .subquery()
    )
    rows = await session.execute(
        select(LibraryFolder, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.folder_id == LibraryFolder.id)
        .order_by(LibraryFolder.created_at, LibraryFolder.id)
    )
    return [(folder, int(count)) for folder, count in rows.all()]


async def folder_assets(session: AsyncSession, *, folder_id: uuid.UUID) -> list[Asset]:
    return list((await session.scalars(select(Asset).where(Asset.folder_id == folder_id))).all())


async def folder_files(
    session: AsyncSession, *, folder_id: uuid.UUID
) -> dict[str, tuple[uuid.UUID, int, datetime | None]]:
    """``{path in the folder: (asset id, size, file time)}`` of the folder's assets."""
    rows = await session.execute(
        select(Asset.storage_path, Asset.id, Asset.size_bytes, Asset.file_mtime).where(
            Asset.folder_id == folder_id
        )
    )
    return {path: (asset_id, size, mtime) for path, asset_id, size, mtime in rows.all()}


async def delete_folder_assets(session: AsyncSession, *, asset_ids: Sequence[uuid.UUID]) -> None:
    """Delete asset rows (their tag and album links cascade)."""
    await session.execute(delete(Asset).where(Asset.id.in_(asset_ids)))


# Resumable uploads --------------------------------------------------------------------------


async def owned_upload(
    session: AsyncSession, *, upload_id: uuid.UUID, owner_id: uuid.UUID, for_update: bool
) -> Upload | None:
    query = select(Upload).where(Upload.id == upload_id, Upload.owner_id == owner_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def expired_uploads_for_update(session: AsyncSession, *, now: datetime) -> list[Upload]:
    """Uploads expired by ``now``, locked; those another transaction holds are left out."""
    found = await session.scalars(
        select(Upload).where(Upload.expires_at <= now).with_for_update(skip_locked=True)
    )
    return list(found.all())


async def delete_uploads(session: AsyncSession, *, upload_ids: Sequence[uuid.UUID]) -> None:
    await session.execute(delete(Upload).where(Upload.id.in_(upload_ids)))


async def upload_ids(session: AsyncSession) -> list[uuid.UUID]:
    """The id of every upload still in progress."""
    return list((await session.scalars(select(Upload.id))).all())


# Import owner ----------------------------------------------------------------------------------


async def first_admin_id(session: AsyncSession) -> uuid.UUID | None:
    """The admin whose account is the oldest."""
    return await session.scalar(
        select(User.id).where(User.is_admin.is_(True)).order_by(User.created_at).limit(1)
    )
