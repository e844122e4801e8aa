"""Folders indexed in place: an admin assigns a server folder to a user; it is only ever read.

A scan walks the folder and reconciles it with the folder's assets:

- a file with no asset is ingested (origin ``scan``, its path relative to the folder);
- a file whose size or modification time changed is read again; new bytes update the asset
  (hash, size, type) and queue its processing again;
- an asset whose file is gone is forgotten (never a file deleted: the folder is read-only);
- a file whose size and time are unchanged is not opened at all.

Hidden files and folders are skipped, and so are links that lead out of the folder (links to
folders are not followed, which also rules out cycles). A subfolder that cannot be read is
logged and its assets are kept: "cannot see" is not "gone". When the folder itself is
missing (an unmounted disk) the scan stops without forgetting anything.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.library import repository as library_repository
from meadhall.library.errors import FolderNotFound, UnsafeFolder
from meadhall.library.events import ASSET_CHANGED, ASSET_DELETED, announce_asset, asset_summary
from meadhall.library.ingest import repository
from meadhall.library.ingest.schemas import FolderCreate, FolderRead
from meadhall.library.ingest.service import ingest_file
from meadhall.library.ingest.sniff import MEDIA_SUFFIXES, sniff_file
from meadhall.library.ingest.spool import hash_file
from meadhall.library.models import Asset, AssetStatus, LibraryFolder, Origin
from meadhall.library.pipeline.service import queue_processing
from meadhall.library.settings import LibrarySettings, library_settings
from meadhall.library.storage import LibraryStorage
from meadhall.library.topics import album_topic, library_topic
from meadhall.platform.accounts.errors import UserNotFound
from meadhall.platform.accounts.models import User
from meadhall.platform.db.database import on_commit
from meadhall.platform.errors import MeadhallError
from meadhall.platform.events.bus import publish_after_commit, session_bus
from meadhall.platform.jobs.models import Job
from meadhall.platform.jobs.service import enqueue
from meadhall.platform.runtime import Runtime

logger = logging.getLogger("meadhall.library.folders")

SCAN_KIND = "library.scan_folder"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Progress = Callable[[float, str | None], Awaitable[None]]


class FolderUnavailable(MeadhallError):
    status_code = 503
    code = "folder_unavailable"


class UnsupportedChange(MeadhallError):
    code = "unsupported_change"


@dataclass(frozen=True)
class FileState:
    """What a scan knows of a file without opening it."""

    size: int
    mtime: datetime


@dataclass
class FolderListing:
    files: dict[str, FileState] = field(default_factory=dict)
    # Relative folders that could not be read: their assets are left alone.
    unreadable: list[str] = field(default_factory=list)


@dataclass
class ScanReport:
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    duplicates: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.added} new, {self.changed} changed, {self.removed} removed, "
            f"{self.unchanged} unchanged, {self.duplicates} duplicates, {len(self.failed)} failed"
        )


def mtime_of(ns: int) -> datetime:
    """A file time in nanoseconds as an exact, microsecond datetime (what the database keeps)."""
    return _EPOCH + timedelta(microseconds=ns // 1000)


def scan_dedup_key(folder_id: uuid.UUID) -> str:
    return f"{SCAN_KIND}:{folder_id}"


# Admin operations ---------------------------------------------------------------------------


def _checked_folder_path(raw: str, settings: LibrarySettings) -> Path:
    if not os.path.isabs(raw):
        raise UnsafeFolder("the folder must be an absolute path")
    resolved = Path(os.path.realpath(raw))
    if not resolved.is_dir():
        raise UnsafeFolder("no such directory on the server")
    if not os.access(resolved, os.R_OK | os.X_OK):
        raise UnsafeFolder("the server cannot read this directory")
    data_dir = settings.resolved_data_dir
    if resolved == data_dir or data_dir in resolved.parents or resolved in data_dir.parents:
        raise UnsafeFolder("the folder overlaps Meadhall's own data folder")
    return resolved


def _overlaps(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


async def create_folder(
    session: AsyncSession, *, settings: LibrarySettings, data: FolderCreate
) -> LibraryFolder:
    """Index ``data.path`` for ``data.owner_id`` and queue its first scan.

    The path must be an existing, readable, absolute directory, outside the data folder and
    not inside or around another indexed folder.
    """
    path = await asyncio.to_thread(_checked_folder_path, data.path, settings)
    if await session.get(User, data.owner_id) is None:
        raise UserNotFound("no such user")
    for other in await repository.folder_paths(session):
        if _overlaps(path, Path(other)):
            raise UnsafeFolder(
                "the folder overlaps a folder that is already indexed", details={"path": other}
            )
    folder = LibraryFolder(owner_id=data.owner_id, path=str(path), watch=data.watch)
    session.add(folder)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise UnsafeFolder("the folder is already indexed") from None
    await queue_scan(session, folder=folder)
    return folder


async def queue_scan(session: AsyncSession, *, folder: LibraryFolder) -> Job:
    """Queue a scan of ``folder`` (one pending scan per folder)."""
    return await enqueue(
        session,
        kind=SCAN_KIND,
        payload={"folder_id": str(folder.id)},
        owner_id=folder.owner_id,
        dedup_key=scan_dedup_key(folder.id),
    )


async def get_folder(session: AsyncSession, *, folder_id: uuid.UUID) -> LibraryFolder:
    folder = await session.get(LibraryFolder, folder_id)
    if folder is None:
        raise FolderNotFound("no such folder")
    return folder


async def list_folders(session: AsyncSession) -> list[FolderRead]:
    """Every indexed folder with how many assets it holds."""
    items = []
    for folder, count in await repository.folders_with_counts(session):
        read = FolderRead.model_validate(folder)
        read.asset_count = count
        items.append(read)
    return items


async def forget_assets(
    session: AsyncSession, *, storage: LibraryStorage, assets: list[Asset]
) -> None:
    """Delete asset rows of indexed folders (never their files) and, after commit, their
    cached derivatives; announce each as deleted."""
    if not assets:
        return
    ids = [asset.id for asset in assets]
    bus = session_bus(session)
    if bus is not None:
        albums = await library_repository.album_ids_by_asset(session, asset_ids=ids)
        for asset in assets:
            data = asset_summary(asset)
            publish_after_commit(session, bus, library_topic(asset.owner_id), ASSET_DELETED, data)
            for album_id in albums.get(asset.id, []):
                publish_after_commit(session, bus, album_topic(album_id), ASSET_DELETED, data)
    await repository.delete_folder_assets(session, asset_ids=ids)

    async def remove_cache() -> None:
        def remove() -> None:
            for asset_id in ids:
                storage.remove_derivatives(asset_id)

        await asyncio.to_thread(remove)

    on_commit(session, remove_cache)


async def delete_folder(
    session: AsyncSession, *, storage: LibraryStorage, folder_id: uuid.UUID
) -> None:
    """Stop indexing a folder: its assets are forgotten, its files are not touched."""
    folder = await get_folder(session, folder_id=folder_id)
    assets = await repository.folder_assets(session, folder_id=folder.id)
    await forget_assets(session, storage=storage, assets=assets)
    await session.delete(folder)
    await session.flush()


# Scanning -----------------------------------------------------------------------------------


def list_folder(root: Path) -> FolderListing:
    """Every media file under ``root`` with its size and time (blocking: use a thread)."""
    listing = FolderListing()
    resolved_root = root.resolve()
    stack = [""]
    while stack:
        relative_dir = stack.pop()
        directory = resolved_root / relative_dir if relative_dir else resolved_root
        try:
            with os.scandir(directory) as entries:
                found = list(entries)
        except OSError as exc:
            logger.warning("cannot read folder %s: %s", directory, exc)
            listing.unreadable.append(relative_dir)
            continue
        for entry in found:
            if entry.name.startswith("."):
                continue
            relative = f"{relative_dir}/{entry.name}" if relative_dir else entry.name
            try:
                if entry.is_symlink():
                    target = Path(os.path.realpath(entry.path))
                    if resolved_root not in target.parents or not target.is_file():
                        continue  # Leads out of the folder, or to a folder (no cycles).
                    stat = target.stat()
                elif entry.is_dir(follow_symlinks=False):
                    stack.append(relative)
                    continue
                elif entry.is_file(follow_symlinks=False):
                    stat = entry.stat(follow_symlinks=False)
                else:
                    continue
            except OSError as exc:
                logger.warning("cannot read %s: %s", entry.path, exc)
                continue
            if Path(entry.name).suffix.lower() not in MEDIA_SUFFIXES:
                continue
            listing.files[relative] = FileState(size=stat.st_size, mtime=mtime_of(stat.st_mtime_ns))
    return listing


def _under(path: str, folders: list[str]) -> bool:
    return any(folder == "" or path.startswith(f"{folder}/") for folder in folders)


async def scan_folder(
    runtime: Runtime, *, folder_id: uuid.UUID, progress: Progress | None = None
) -> ScanReport | None:
    """Reconcile a folder with its assets (see the module docstring); ``None`` if the folder
    is no longer indexed. Each file is handled in a transaction of its own, so one bad file
    costs nothing but itself."""
    settings = library_settings(runtime.settings)
    storage = LibraryStorage(settings)
    async with runtime.db.transaction() as session:
        folder = await session.get(LibraryFolder, folder_id)
        if folder is None:
            return None
        root, owner_id = Path(folder.path), folder.owner_id
        known = await repository.folder_files(session, folder_id=folder_id)
    if not await asyncio.to_thread(root.is_dir):
        raise FolderUnavailable(f"the folder {root} is missing or not a directory")
    listing = await asyncio.to_thread(list_folder, root)
    report = ScanReport(unreadable=listing.unreadable)
    total = max(len(listing.files), 1)

    for index, (relative, state) in enumerate(sorted(listing.files.items())):
        if progress is not None and index % 50 == 0:
            await progress(index / total, f"{index} of {len(listing.files)} files")
        existing = known.get(relative)
        if existing is not None and existing[1] == state.size and existing[2] == state.mtime:
            report.unchanged += 1
            continue
        path = root / relative
        try:
            if existing is None:
                await _scan_new(
                    runtime, storage, report, folder_id, owner_id, path, relative, state
                )
            else:
                await _scan_changed(runtime, report, existing[0], path, state)
        except (MeadhallError, OSError) as exc:
            reason = exc.message if isinstance(exc, MeadhallError) else str(exc)
            report.failed.append((relative, reason))

    gone = [
        asset_id
        for relative, (asset_id, _, _) in known.items()
        if relative not in listing.files and not _under(relative, listing.unreadable)
    ]
    if gone:
        async with runtime.db.transaction() as session:
            assets = await library_repository.assets_by_ids(session, asset_ids=gone)
            await forget_assets(session, storage=storage, assets=assets)
        report.removed = len(gone)
    async with runtime.db.transaction() as session:
        folder = await session.get(LibraryFolder, folder_id)
        if folder is not None:
            folder.last_scan_at = datetime.now(UTC)
    if progress is not None:
        await progress(1.0, report.summary())
    logger.info("folder scanned", extra={"folder": str(root), "report": report.summary()})
    return report


async def _scan_new(
    runtime: Runtime,
    storage: LibraryStorage,
    report: ScanReport,
    folder_id: uuid.UUID,
    owner_id: uuid.UUID,
    path: Path,
    relative: str,
    state: FileState,
) -> None:
    async with runtime.db.transaction() as session:
        result = await ingest_file(
            session,
            storage=storage,
            settings=library_settings(runtime.settings),
            owner_id=owner_id,
            temp_path=path,
            filename=path.name,
            origin=Origin.SCAN,
            folder_id=folder_id,
            storage_path=relative,
            mtime=state.mtime,
        )
    if result.created:
        report.added += 1
    else:
        report.duplicates += 1


async def _scan_changed(
    runtime: Runtime, report: ScanReport, asset_id: uuid.UUID, path: Path, state: FileState
) -> None:
    mime_type = await asyncio.to_thread(sniff_file, path)
    if mime_type is None:
        raise UnsupportedChange("the file is no longer an image or video in a supported format")
    sha256, size = await asyncio.to_thread(hash_file, path)
    async with runtime.db.transaction() as session:
        asset = await library_repository.asset_for_update(session, asset_id=asset_id)
        if asset is None:
            return
        same_bytes = asset.sha256 == sha256
        asset.size_bytes = size
        asset.file_mtime = state.mtime
        if same_bytes:
            # Touched, not changed: remember the new time so the next scan skips it.
            await session.flush()
            report.unchanged += 1
            return
        asset.sha256 = sha256
        asset.mime_type = mime_type
        asset.status = AssetStatus.PENDING
        asset.error = None
        try:
            async with session.begin_nested():
                await session.flush()
        except IntegrityError:
            raise UnsupportedChange(
                "the file now holds the same bytes as another asset of its owner"
            ) from None
        # New bytes: every step must run again, even those recorded as done.
        await queue_processing(session, asset=asset, force=True)
        await announce_asset(session, asset, ASSET_CHANGED)
    report.changed += 1
