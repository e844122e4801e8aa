"""Uploads: many files in one multipart request, or one large file in resumable chunks.

A multipart request (:func:`upload_files`) is read part by part into temp files while its
limits are enforced (``multipart.py``), then every file is ingested and reported on its own.

A resumable upload arrives in chunks, each appended at a stated offset. The bytes gather in
``tmp_dir/uploads/<id>.part``; the ``uploads`` row says how many of them count
(``received_bytes``). A chunk is written, fsynced, and only then counted, so after a
crash the row never claims bytes the file does not hold; bytes past the counted offset (a
chunk cut off before its commit) are cut away when the next chunk starts. A chunk that was
cut off by the client still counts what arrived, so the client resumes from there.

When the last byte arrives the file is checked against the client's SHA-256 (if it gave
one) and handed to :func:`~meadhall.library.ingest.service.ingest_file`. Uploads that stop
making progress expire and are removed by the ``library.clean_uploads`` job.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from sqlalchemy.ext.asyncio import AsyncSession

from meadhall.library.errors import (
    FileTooLarge,
    UploadExpired,
    UploadNotFound,
    UploadOffsetMismatch,
)
from meadhall.library.ingest import repository
from meadhall.library.ingest.multipart import MalformedUpload, RequestTooLarge, receive_multipart
from meadhall.library.ingest.schemas import (
    FileOutcome,
    IngestedAsset,
    IngestError,
    UploadCreate,
    UploadReport,
)
from meadhall.library.ingest.service import (
    BatchItem,
    IngestResult,
    check_quota,
    client_filename,
    ingest_batch,
    ingest_file,
    remove_on_rollback,
)
from meadhall.library.ingest.spool import FLUSH_BYTES
from meadhall.library.models import Origin, Upload
from meadhall.library.settings import LibrarySettings
from meadhall.library.storage import LibraryStorage
from meadhall.platform.db.database import on_commit
from meadhall.platform.errors import (
    MeadhallError,
    PayloadTooLarge,
    Unprocessable,
    UnsupportedMediaType,
)

logger = logging.getLogger("meadhall.library.uploads")

UPLOADS_FOLDER = "uploads"
MAX_ATTRIBUTION = 500
# Temp files nobody has touched for this long are leftovers of a crash.
STRAY_AFTER = timedelta(days=1)


class ChunkTooLarge(PayloadTooLarge):
    code = "chunk_too_large"


class InvalidAttribution(Unprocessable):
    code = "validation_error"


class ChecksumMismatch(Unprocessable):
    code = "checksum_mismatch"


@dataclass
class ChunkOutcome:
    """After a chunk: the new offset, and when complete what became of the file.

    ``failure`` is set when the finished upload was refused (checksum, format, quota): the
    upload is then discarded — a change that must be committed even though the client is
    answered with an error.
    """

    upload: Upload
    result: IngestResult | None = None
    failure: MeadhallError | None = None


@dataclass
class CleanReport:
    expired: int = 0
    stray_files: int = 0
    removed: list[str] = field(default_factory=list)


# Multipart uploads --------------------------------------------------------------------------


async def upload_files(
    session: AsyncSession,
    *,
    storage: LibraryStorage,
    settings: LibrarySettings,
    owner_id: uuid.UUID,
    content_type: str,
    declared_length: int | None,
    body: AsyncIterator[bytes],
) -> UploadReport:
    """Receive a ``multipart/form-data`` body (file parts ``files``, an optional
    ``attribution``) and ingest each file, in order, for ``owner_id``.

    Refused as a whole: another content type (415), a body over ``upload_max_request_bytes``
    (as announced or as it arrives) or with more than ``upload_max_files`` files (413), a
    malformed body or one without a file (400), an attribution over 500 characters (422).
    Otherwise every file is reported on its own, failures (too large, unsupported, invalid,
    over the quota) included.
    """
    if not content_type.startswith("multipart/form-data"):
        raise UnsupportedMediaType("send the files as multipart/form-data")
    if declared_length is not None and declared_length > settings.upload_max_request_bytes:
        raise RequestTooLarge(
            f"the request is larger than {settings.upload_max_request_bytes} bytes",
            details={"max_bytes": settings.upload_max_request_bytes},
        )
    form = await receive_multipart(
        body,
        content_type=content_type,
        storage=storage,
        max_file_bytes=settings.upload_max_bytes,
        max_files=settings.upload_max_files,
        max_total_bytes=settings.upload_max_request_bytes,
    )
    try:
        if not form.files:
            raise MalformedUpload("the request holds no file (send them in the 'files' part)")
        attribution = form.fields.get("attribution", "").strip() or None
        if attribution is not None and len(attribution) > MAX_ATTRIBUTION:
            raise InvalidAttribution(f"attribution: at most {MAX_ATTRIBUTION} characters")
        items = await ingest_batch(
            session,
            storage=storage,
            settings=settings,
            owner_id=owner_id,
            files=[(f.filename, f.path, f.sha256, f.error) for f in form.files],
            origin=Origin.UPLOAD,
            attribution=attribution,
        )
    finally:
        # Every temp file has been consumed by now, unless we stopped early.
        form.discard()
    outcomes = [outcome for item in items if (outcome := _file_outcome(item)) is not None]
    return UploadReport(
        files=outcomes,
        created=sum(1 for o in outcomes if o.status == "created"),
        duplicates=sum(1 for o in outcomes if o.status == "duplicate"),
        failed=sum(1 for o in outcomes if o.status == "failed"),
    )


def _file_outcome(item: BatchItem) -> FileOutcome | None:
    if item.error is not None:
        error = IngestError(
            code=item.error.code,
            message=item.error.message,
            status=item.error.status_code,
            details=item.error.details,
        )
        return FileOutcome(filename=item.filename, status="failed", error=error)
    if item.result is not None and item.result.asset is not None:
        asset = IngestedAsset.model_validate(item.result.asset)
        return FileOutcome(filename=item.filename, status="created", asset=asset)
    if item.result is not None:
        return FileOutcome(
            filename=item.filename, status="duplicate", duplicate_of=item.result.duplicate_of
        )
    return None


# Resumable uploads --------------------------------------------------------------------------


def uploads_dir(settings: LibrarySettings) -> Path:
    return settings.tmp_dir / UPLOADS_FOLDER


def part_path(settings: LibrarySettings, upload_id: uuid.UUID) -> Path:
    """Where the bytes of an upload gather."""
    return uploads_dir(settings) / f"{upload_id.hex}.part"


def _create_part(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("xb") as handle:
        os.fsync(handle.fileno())


async def _remove_after_commit(session: AsyncSession, path: Path) -> None:
    async def remove() -> None:
        await asyncio.to_thread(path.unlink, missing_ok=True)

    on_commit(session, remove)


async def create_upload(
    session: AsyncSession, *, settings: LibrarySettings, owner_id: uuid.UUID, data: UploadCreate
) -> Upload:
    """Start a resumable upload of ``data.size_bytes`` bytes; nothing has arrived yet.

    Refused at once when the file is larger than ``upload_max_bytes`` or would not fit the
    owner's quota (checked again when it completes).
    """
    if data.size_bytes > settings.upload_max_bytes:
        raise FileTooLarge(
            f"the file is larger than {settings.upload_max_bytes} bytes",
            details={"max_bytes": settings.upload_max_bytes},
        )
    await check_quota(session, owner_id=owner_id, settings=settings, adding=data.size_bytes)
    upload = Upload(
        owner_id=owner_id,
        filename=client_filename(data.filename),
        size_bytes=data.size_bytes,
        received_bytes=0,
        sha256=data.sha256,
        attribution=data.attribution or None,
        expires_at=datetime.now(UTC) + timedelta(hours=settings.upload_expiry_hours),
    )
    session.add(upload)
    await session.flush()
    path = part_path(settings, upload.id)
    await asyncio.to_thread(_create_part, path)
    remove_on_rollback(session, path)
    return upload


async def get_upload(
    session: AsyncSession, *, upload_id: uuid.UUID, owner_id: uuid.UUID, for_update: bool = False
) -> Upload:
    """The caller's upload; :class:`UploadNotFound` for anyone else's or a missing one."""
    upload = await repository.owned_upload(
        session, upload_id=upload_id, owner_id=owner_id, for_update=for_update
    )
    if upload is None:
        raise UploadNotFound("no such upload")
    return upload


def _open_at(path: Path, offset: int) -> IO[bytes]:
    handle = path.open("r+b")
    # Bytes past the counted offset belong to a chunk that was never acknowledged.
    handle.truncate(offset)
    handle.seek(offset)
    return handle


def _write(handle: IO[bytes], block: bytes) -> None:
    handle.write(block)


def _sync_close(handle: IO[bytes]) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()


def _truncate_close(handle: IO[bytes], offset: int) -> None:
    handle.truncate(offset)
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(FLUSH_BYTES):
            digest.update(block)
    return digest.hexdigest()


async def append_chunk(
    session: AsyncSession,
    *,
    storage: LibraryStorage,
    settings: LibrarySettings,
    upload: Upload,
    offset: int,
    chunks: AsyncIterator[bytes],
    declared_length: int | None,
) -> ChunkOutcome:
    """Append a chunk at ``offset`` (which must equal the bytes received so far).

    ``upload`` must have been loaded ``for_update``, so chunks of one upload never interleave.
    Errors: :class:`UploadOffsetMismatch` (details carry the current offset),
    :class:`UploadExpired`, :class:`ChunkTooLarge` (over ``upload_chunk_max_bytes`` or past
    the announced size; nothing of the chunk is kept).
    """
    now = datetime.now(UTC)
    if upload.expires_at <= now:
        raise UploadExpired("the upload has expired; start a new one")
    if upload.asset_id is not None or upload.received_bytes >= upload.size_bytes:
        raise UploadOffsetMismatch(
            "the upload is already complete",
            details={"offset": upload.received_bytes, "asset_id": _str(upload.asset_id)},
        )
    if offset != upload.received_bytes:
        raise UploadOffsetMismatch(
            f"the upload continues at offset {upload.received_bytes}, not {offset}",
            details={"offset": upload.received_bytes},
        )
    remaining = upload.size_bytes - offset
    limit = min(settings.upload_chunk_max_bytes, remaining)
    if declared_length is not None and declared_length > settings.upload_chunk_max_bytes:
        raise ChunkTooLarge(
            f"a chunk may hold at most {settings.upload_chunk_max_bytes} bytes",
            details={"chunk_max": settings.upload_chunk_max_bytes},
        )
    if declared_length is not None and declared_length > remaining:
        raise ChunkTooLarge(
            f"the chunk goes past the end of the file ({remaining} bytes remain)",
            details={"offset": offset, "remaining": remaining},
        )

    path = part_path(settings, upload.id)
    try:
        handle = await asyncio.to_thread(_open_at, path, offset)
    except FileNotFoundError:
        # The temp folder was emptied under us: what was counted is lost.
        raise UploadExpired("the upload's data is gone; start a new one") from None
    written = 0
    buffer = bytearray()
    try:
        async for chunk in chunks:
            if written + len(buffer) + len(chunk) > limit:
                raise ChunkTooLarge(
                    "the chunk is larger than allowed or goes past the end of the file",
                    details={"offset": offset, "limit": limit},
                )
            buffer += chunk
            if len(buffer) >= FLUSH_BYTES:
                block = bytes(buffer)
                buffer.clear()
                await asyncio.to_thread(_write, handle, block)
                written += len(block)
        if buffer:
            block = bytes(buffer)
            buffer.clear()
            await asyncio.to_thread(_write, handle, block)
            written += len(block)
        await asyncio.to_thread(_sync_close, handle)
    except BaseException:
        await asyncio.to_thread(_truncate_close, handle, offset)
        raise

    upload.received_bytes = offset + written
    upload.expires_at = now + timedelta(hours=settings.upload_expiry_hours)
    await session.flush()
    if upload.received_bytes < upload.size_bytes:
        return ChunkOutcome(upload=upload)
    return await _complete(session, storage=storage, settings=settings, upload=upload, path=path)


async def _complete(
    session: AsyncSession,
    *,
    storage: LibraryStorage,
    settings: LibrarySettings,
    upload: Upload,
    path: Path,
) -> ChunkOutcome:
    sha256 = await asyncio.to_thread(_sha256_of, path)
    if upload.sha256 is not None and sha256 != upload.sha256:
        await _discard(session, upload=upload, path=path)
        return ChunkOutcome(
            upload=upload,
            failure=ChecksumMismatch(
                "the received file does not match its SHA-256; the upload was discarded",
                details={"expected": upload.sha256, "received": sha256},
            ),
        )
    try:
        result = await ingest_file(
            session,
            storage=storage,
            settings=settings,
            owner_id=upload.owner_id,
            temp_path=path,
            filename=upload.filename,
            origin=Origin.UPLOAD,
            attribution=upload.attribution,
            sha256=sha256,
        )
    except MeadhallError as exc:
        await _discard(session, upload=upload, path=path)
        return ChunkOutcome(upload=upload, failure=exc)
    upload.asset_id = result.asset.id if result.asset is not None else result.duplicate_of
    await session.flush()
    return ChunkOutcome(upload=upload, result=result)


async def _discard(session: AsyncSession, *, upload: Upload, path: Path) -> None:
    await session.delete(upload)
    await session.flush()
    await _remove_after_commit(session, path)


async def cancel_upload(
    session: AsyncSession, *, settings: LibrarySettings, upload: Upload
) -> None:
    """Forget an upload and (after the commit) its bytes."""
    await _discard(session, upload=upload, path=part_path(settings, upload.id))


def _str(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None


def _stray_files(settings: LibrarySettings, live: set[str], older_than: float) -> list[Path]:
    found: list[Path] = []
    for folder, needs_row in ((settings.tmp_dir, False), (uploads_dir(settings), True)):
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            continue
        for entry in entries:
            if not entry.is_file(follow_symlinks=False):
                continue
            stem = entry.name.removesuffix(".part")
            if needs_row and stem in live:
                continue
            try:
                if entry.stat(follow_symlinks=False).st_mtime < older_than:
                    found.append(Path(entry.path))
            except FileNotFoundError:
                continue
    return found


def _unlink_all(paths: list[Path]) -> int:
    removed = 0
    for path in paths:
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            continue
    return removed


async def clean_uploads(session: AsyncSession, *, settings: LibrarySettings) -> CleanReport:
    """Remove uploads past their expiry (rows and bytes) and temp files left by crashes.

    A temp file counts as stray when nobody has written it for a day and, in the uploads
    folder, no upload row claims it.
    """
    now = datetime.now(UTC)
    report = CleanReport()
    expired = await repository.expired_uploads_for_update(session, now=now)
    paths = [part_path(settings, upload.id) for upload in expired]
    if expired:
        await repository.delete_uploads(session, upload_ids=[u.id for u in expired])
        await session.flush()
    report.expired = len(expired)
    report.removed = [str(u.id) for u in expired]
    live = {upload_id.hex for upload_id in await repository.upload_ids(session)}
    older_than = time.time() - STRAY_AFTER.total_seconds()
    strays = await asyncio.to_thread(_stray_files, settings, live, older_than)

    async def remove() -> None:
        await asyncio.to_thread(_unlink_all, paths)

    on_commit(session, remove)
    report.stray_files = await asyncio.to_thread(_unlink_all, strays)
    if report.expired or report.stray_files:
        logger.info(
            "cleaned uploads",
            extra={"expired": report.expired, "stray_files": report.stray_files},
        )
    return report
