"""The one way a file becomes an asset: sniff, hash, deduplicate, check the quota, store, insert.

Every ingest path (multipart upload, resumable upload, URL import, folder scan, CLI, and later
chat attachments) hands a complete file to :func:`ingest_file`. It only flushes; the caller's
transaction decides. Managed originals that were stored for a transaction that then rolls
back are removed again, so a failed request leaves no file behind.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePath

from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from meadhall.library.errors import InvalidFile, QuotaExceeded, UnsupportedFile
from meadhall.library.events import ASSET_ADDED, announce_asset
from meadhall.library.ingest import repository
from meadhall.library.ingest.sniff import EXTENSIONS, read_head, sniff_bytes
from meadhall.library.ingest.spool import hash_file
from meadhall.library.models import Asset, AssetStatus, AssetType, Origin, StorageQuota
from meadhall.library.pipeline.service import queue_processing
from meadhall.library.settings import LibrarySettings
from meadhall.library.storage import LibraryStorage, UnsafePath
from meadhall.platform.errors import MeadhallError

MAX_FILENAME = 255
UNIQUE_OWNER_SHA = "uq_assets_owner_id_sha256"
UNIQUE_FOLDER_PATH = "uq_assets_folder_id_storage_path"

# session.info keys: managed originals stored in the current transaction, and a marker that
# the session's commit/rollback listeners are in place.
_STORED = "meadhall.library.stored_originals"
_LISTENING = "meadhall.library.stored_listeners"


@dataclass(frozen=True)
class IngestResult:
    """Either a new asset, or the id of the owner's asset with the same bytes."""

    asset: Asset | None = None
    duplicate_of: uuid.UUID | None = None

    @property
    def created(self) -> bool:
        return self.asset is not None


def client_filename(name: str | None) -> str:
    """A client's file name reduced to its last component, without control characters.

    ``../../etc/passwd.jpg`` becomes ``passwd.jpg``. This is what is recorded as the
    original name; the stored file's name is further reduced by :func:`safe_filename`.
    """
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    if base in {"", ".", ".."}:
        base = "file"
    return base[:MAX_FILENAME]


def _display_name(filename: str) -> str:
    stem = PurePath(filename).stem.strip()
    return (stem or filename)[:MAX_FILENAME]


def _stored_name(filename: str, mime_type: str) -> str:
    # A name without an extension gets the one its content calls for, so the file opens
    # with the right program when someone browses the library folder.
    if PurePath(filename).suffix:
        return filename
    return f"{filename}.{EXTENSIONS[mime_type]}"


async def owner_quota(
    session: AsyncSession, *, owner_id: uuid.UUID, settings: LibrarySettings
) -> int | None:
    """Bytes the owner may store in the managed library (``None``: no limit).

    A :class:`StorageQuota` row overrides the default; its ``quota_bytes`` may be ``None``
    (this user has no limit).
    """
    row = await session.get(StorageQuota, owner_id)
    if row is not None:
        return row.quota_bytes
    return settings.library_quota_bytes


async def check_quota(
    session: AsyncSession, *, owner_id: uuid.UUID, settings: LibrarySettings, adding: int
) -> None:
    """:class:`QuotaExceeded` if ``adding`` more bytes would pass the owner's quota.

    With a quota in force, the check takes a transaction-level lock per owner, so two
    uploads of one user cannot both pass on the same free space.
    """
    quota = await owner_quota(session, owner_id=owner_id, settings=settings)
    if quota is None:
        return
    await repository.lock_quota(session, owner_id=owner_id)
    # Indexed folders are not copied, so their files take no room of the quota.
    used = await repository.managed_bytes(session, owner_id=owner_id)
    if used + adding > quota:
        raise QuotaExceeded(
            "this file would take the library past its storage quota",
            details={"quota_bytes": quota, "used_bytes": used, "file_bytes": adding},
        )


async def existing_by_sha(
    session: AsyncSession, *, owner_id: uuid.UUID, hashes: Iterable[str]
) -> dict[str, uuid.UUID]:
    """Which of ``hashes`` (lowercase hex) the owner already has: ``{sha256: asset id}``."""
    wanted = sorted(set(hashes))
    if not wanted:
        return {}
    return await repository.asset_ids_by_sha(session, owner_id=owner_id, hashes=wanted)


def _remove_quietly(path: Path) -> None:
    path.unlink(missing_ok=True)


def _after_commit(sync_session: Session) -> None:
    # Savepoint releases fire this too; only the real commit hands the files to their rows.
    if not sync_session.in_nested_transaction():
        sync_session.info.pop(_STORED, None)


def _after_transaction_end(sync_session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended without a commit clearing the list: rolled back or
    # closed. Its rows are gone, so their files go too.
    if transaction.parent is None:
        for path in sync_session.info.pop(_STORED, []):
            _remove_quietly(path)


def remove_on_rollback(session: AsyncSession, path: Path) -> None:
    """Remove ``path`` if the session's transaction ends without committing.

    For files written on behalf of rows of this transaction: a rollback (or a session
    closed without commit) takes the rows away, and so the files.
    """
    sync = session.sync_session
    if not sync.info.get(_LISTENING):
        event.listen(sync, "after_commit", _after_commit)
        event.listen(sync, "after_transaction_end", _after_transaction_end)
        sync.info[_LISTENING] = True
    sync.info.setdefault(_STORED, []).append(path)


def _inspect(path: Path) -> tuple[int, str | None]:
    size = path.stat().st_size
    return size, sniff_bytes(read_head(path)) if size else None


async def ingest_file(
    session: AsyncSession,
    *,
    storage: LibraryStorage,
    settings: LibrarySettings,
    owner_id: uuid.UUID,
    temp_path: Path,
    filename: str,
    origin: Origin | str,
    attribution: str | None = None,
    source_url: str | None = None,
    folder_id: uuid.UUID | None = None,
    storage_path: str | None = None,
    mtime: datetime | None = None,
    sha256: str | None = None,
) -> IngestResult:
    """Turn a complete file into an asset of ``owner_id`` (or report the duplicate).

    Managed ingest (no ``folder_id``): ``temp_path`` is a temp file in ``settings.tmp_dir``
    that this function consumes — moved into the library, or removed whatever happens.
    Indexed folders (``folder_id`` and ``storage_path`` relative to the folder given):
    ``temp_path`` is the original itself; it is only read, never moved or removed.

    ``sha256`` may be passed when the caller hashed the bytes while receiving them;
    otherwise the file is hashed here (in a thread). Raises :class:`InvalidFile` (empty),
    :class:`UnsupportedFile` (not a known image or video format) or :class:`QuotaExceeded`;
    a duplicate (same owner and bytes, trashed assets included) is reported, not raised.
    """
    in_place = folder_id is not None
    if in_place and not storage_path:
        raise ValueError("an indexed file needs its storage_path relative to the folder")
    stored: Path | None = None
    try:
        size, mime_type = await asyncio.to_thread(_inspect, temp_path)
        if size == 0:
            raise InvalidFile("the file is empty")
        if mime_type is None:
            raise UnsupportedFile(
                "the file is not an image or video in a supported format "
                "(JPEG, PNG, GIF, WebP, AVIF, HEIC/HEIF, TIFF, MP4, MOV, WebM, MKV)"
            )
        if sha256 is None:
            digest, size = await asyncio.to_thread(hash_file, temp_path)
        else:
            digest = sha256

        duplicate = await repository.asset_id_by_sha(session, owner_id=owner_id, sha256=digest)
        if duplicate is not None:
            return IngestResult(duplicate_of=duplicate)
        if not in_place:
            await check_quota(session, owner_id=owner_id, settings=settings, adding=size)

        now = datetime.now(UTC)
        taken = mtime.astimezone(UTC) if mtime is not None else now
        original_name = client_filename(filename)
        if in_place:
            assert storage_path is not None
            relative = storage_path
        else:
            planned = storage.planned_path(
                user=str(owner_id), when=now, filename=_stored_name(original_name, mime_type)
            )
            try:
                relative = await asyncio.to_thread(
                    storage.store_original, temp_path, planned=planned
                )
            except UnsafePath as exc:  # pragma: no cover - planned paths are built safe
                raise InvalidFile(f"cannot store the file: {exc}") from None
            stored = storage.original_path(relative)

        asset = Asset(
            owner_id=owner_id,
            origin=str(origin),
            attribution=attribution,
            source_url=source_url,
            sha256=digest,
            size_bytes=size,
            mime_type=mime_type,
            original_filename=original_name,
            storage_path=relative,
            folder_id=folder_id,
            file_mtime=mtime.astimezone(UTC) if mtime is not None else None,
            name=_display_name(original_name),
            type=AssetType.PHOTO,
            status=AssetStatus.PENDING,
            local_at=taken.replace(tzinfo=None),
            sort_at=taken,
        )
        try:
            # A savepoint: losing a race to an identical upload must not spoil the rest of
            # the caller's transaction (other files of the same batch).
            async with session.begin_nested():
                session.add(asset)
                await session.flush()
        except IntegrityError as exc:
            constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
            if constraint not in {UNIQUE_OWNER_SHA, UNIQUE_FOLDER_PATH}:
                raise
            if constraint == UNIQUE_OWNER_SHA:
                winner = await repository.asset_id_by_sha(session, owner_id=owner_id, sha256=digest)
            else:
                winner = await repository.asset_id_by_folder_path(
                    session, folder_id=folder_id, storage_path=storage_path
                )
            if winner is None:  # pragma: no cover - the winner rolled back meanwhile
                raise
            return IngestResult(duplicate_of=winner)

        if stored is not None:
            remove_on_rollback(session, stored)
            stored = None
        await queue_processing(session, asset=asset)
        await announce_asset(session, asset, ASSET_ADDED)
        return IngestResult(asset=asset)
    finally:
        if not in_place:
            # Whatever did not become an asset leaves nothing behind: the temp file (still
            # there unless it was stored) and a stored copy whose row lost a race.
            await asyncio.to_thread(_remove_quietly, temp_path)
            if stored is not None:
                await asyncio.to_thread(_remove_quietly, stored)


@dataclass(frozen=True)
class BatchItem:
    """One file of an upload batch: what became of it, or why it failed."""

    filename: str
    result: IngestResult | None = None
    error: MeadhallError | None = None


async def ingest_batch(
    session: AsyncSession,
    *,
    storage: LibraryStorage,
    settings: LibrarySettings,
    owner_id: uuid.UUID,
    files: Iterable[tuple[str, Path | None, str | None, MeadhallError | None]],
    origin: Origin | str,
    attribution: str | None = None,
) -> list[BatchItem]:
    """Ingest received files one by one, in order: ``(filename, temp path, sha256, error)``.

    A file that failed to arrive (``error`` set) or fails to ingest is reported and the
    rest go on; a later copy of the same bytes in the batch is reported as a duplicate.
    """
    items: list[BatchItem] = []
    for filename, path, sha256, error in files:
        if error is not None or path is None:
            items.append(BatchItem(filename=filename, error=error or InvalidFile("no file")))
            continue
        try:
            result = await ingest_file(
                session,
                storage=storage,
                settings=settings,
                owner_id=owner_id,
                temp_path=path,
                filename=filename,
                origin=origin,
                attribution=attribution,
                sha256=sha256,
            )
        except MeadhallError as exc:
            items.append(BatchItem(filename=filename, error=exc))
            continue
        items.append(BatchItem(filename=filename, result=result))
    return items
