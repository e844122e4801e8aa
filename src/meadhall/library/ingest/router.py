"""Ingest endpoints: uploads (multipart and resumable), the hash check, URL import, folders."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import ClientDisconnect

from meadhall.library.errors import (
    FileTooLarge,
    FolderNotFound,
    InvalidFile,
    QuotaExceeded,
    UnsafeFolder,
    UnsafeUrl,
    UnsupportedFile,
    UploadExpired,
    UploadNotFound,
    UploadOffsetMismatch,
    UrlFetchFailed,
)
from meadhall.library.ingest import folders as folder_service
from meadhall.library.ingest import uploads as upload_service
from meadhall.library.ingest.multipart import MalformedUpload, RequestTooLarge
from meadhall.library.ingest.schemas import (
    ChunkResult,
    ExistsRequest,
    ExistsResponse,
    FolderCreate,
    FolderList,
    FolderRead,
    IngestedAsset,
    IngestOutcome,
    LibraryLimits,
    UploadCreate,
    UploadRead,
    UploadReport,
    UrlImport,
)
from meadhall.library.ingest.service import IngestResult, existing_by_sha
from meadhall.library.ingest.urls import import_url, url_policy
from meadhall.library.ingest.watch import folders_changed
from meadhall.library.models import Upload
from meadhall.library.settings import library_settings
from meadhall.library.storage import LibraryStorage
from meadhall.platform.accounts.deps import AdminUser, CurrentUser
from meadhall.platform.accounts.errors import UserNotFound
from meadhall.platform.db.database import on_commit
from meadhall.platform.deps import DbSession, RuntimeDep
from meadhall.platform.errors import (
    NotAllowed,
    NotAuthenticated,
    UnsupportedMediaType,
    error_response,
    error_responses,
)
from meadhall.platform.jobs.schemas import JobRead
from meadhall.platform.runtime import Runtime

router = APIRouter(prefix="/library", tags=["library"])

UploadId = Annotated[uuid.UUID, Path(description="The upload's id.")]
FolderId = Annotated[uuid.UUID, Path(description="The indexed folder's id.")]
OCTET_STREAM = "application/octet-stream"

_MULTIPART_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["files"],
                    "properties": {
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "One or more files (repeat the part).",
                        },
                        "attribution": {"type": "string", "maxLength": 500},
                    },
                }
            }
        },
    }
}
_CHUNK_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {OCTET_STREAM: {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _outcome(result: IngestResult) -> IngestOutcome:
    asset = IngestedAsset.model_validate(result.asset) if result.asset is not None else None
    return IngestOutcome(asset=asset, duplicate_of=result.duplicate_of)


def _upload_read(upload: Upload, runtime: Runtime) -> UploadRead:
    return UploadRead(
        id=upload.id,
        filename=upload.filename,
        size_bytes=upload.size_bytes,
        offset=upload.received_bytes,
        expires_at=upload.expires_at,
        chunk_max=library_settings(runtime.settings).upload_chunk_max_bytes,
        complete=upload.received_bytes >= upload.size_bytes,
        asset_id=upload.asset_id,
    )


def _declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    return int(value) if value is not None and value.isdigit() else None


@router.post(
    "/assets",
    operation_id="upload_assets",
    status_code=201,
    response_model=UploadReport,
    openapi_extra=_MULTIPART_BODY,
    responses={
        200: {"model": UploadReport, "description": "Nothing new was created (see each file)."},
        **error_responses(
            NotAuthenticated, NotAllowed, MalformedUpload, RequestTooLarge, UnsupportedMediaType
        ),
    },
)
async def upload_assets(
    request: Request,
    response: Response,
    principal: CurrentUser,
    session: DbSession,
    runtime: RuntimeDep,
) -> UploadReport:
    """Upload one or many files (multipart part ``files``, optional ``attribution``).

    Each file is reported on its own — ``created`` (with the asset), ``duplicate`` (with the
    id of the asset that has the same bytes) or ``failed`` (with the error, e.g.
    ``file_too_large``, ``unsupported_file``, ``invalid_file``, ``quota_exceeded``). The
    answer is 201 when at least one asset was created, 200 otherwise.
    """
    settings = library_settings(runtime.settings)
    report = await upload_service.upload_files(
        session,
        storage=LibraryStorage(settings),
        settings=settings,
        owner_id=principal.user_id,
        content_type=request.headers.get("content-type", ""),
        declared_length=_declared_length(request),
        body=request.stream(),
    )
    response.status_code = 201 if report.created else 200
    return report


@router.post(
    "/assets/exists",
    operation_id="check_existing_assets",
    response_model=ExistsResponse,
    responses=error_responses(NotAuthenticated, NotAllowed),
)
async def check_existing_assets(
    body: ExistsRequest, principal: CurrentUser, session: DbSession
) -> ExistsResponse:
    """Which of these SHA-256 hashes (hex, up to 1000) the caller already has.

    Lets a client skip uploading files the library holds already (trashed ones included).
    """
    found = await existing_by_sha(session, owner_id=principal.user_id, hashes=body.sha256)
    return ExistsResponse(existing=found)


@router.get(
    "/limits",
    operation_id="library_limits",
    response_model=LibraryLimits,
    responses=error_responses(NotAuthenticated),
)
async def library_limits(principal: CurrentUser, runtime: RuntimeDep) -> LibraryLimits:
    """The upload size limits and the trash's retention, so a client can refuse a file that
    is too large before sending it and say when trashed assets go for good."""
    settings = library_settings(runtime.settings)
    return LibraryLimits(
        upload_max_bytes=settings.upload_max_bytes,
        upload_chunk_max_bytes=settings.upload_chunk_max_bytes,
        upload_max_files=settings.upload_max_files,
        upload_max_request_bytes=settings.upload_max_request_bytes,
        trash_retention_days=settings.trash_retention_days,
    )


# Resumable uploads ------------------------------------------------------------------------


@router.post(
    "/uploads",
    operation_id="create_upload",
    status_code=201,
    response_model=UploadRead,
    responses=error_responses(NotAuthenticated, NotAllowed, FileTooLarge, QuotaExceeded),
)
async def create_upload(
    body: UploadCreate, principal: CurrentUser, session: DbSession, runtime: RuntimeDep
) -> UploadRead:
    """Start a resumable upload; then send the bytes in chunks with ``PATCH``."""
    upload = await upload_service.create_upload(
        session, settings=library_settings(runtime.settings), owner_id=principal.user_id, data=body
    )
    return _upload_read(upload, runtime)


@router.get(
    "/uploads/{upload_id}",
    operation_id="get_upload",
    response_model=UploadRead,
    responses=error_responses(NotAuthenticated, UploadNotFound),
)
async def get_upload(
    upload_id: UploadId, principal: CurrentUser, session: DbSession, runtime: RuntimeDep
) -> UploadRead:
    """How much of the upload has arrived: resume by sending from ``offset``."""
    upload = await upload_service.get_upload(
        session, upload_id=upload_id, owner_id=principal.user_id
    )
    return _upload_read(upload, runtime)


@router.head(
    "/uploads/{upload_id}",
    operation_id="head_upload",
    response_class=Response,
    responses={
        200: {"description": "Upload-Offset and Upload-Length headers."},
        **error_responses(NotAuthenticated, UploadNotFound),
    },
)
async def head_upload(
    upload_id: UploadId, principal: CurrentUser, session: DbSession, runtime: RuntimeDep
) -> Response:
    """The current offset in the ``Upload-Offset`` header (and the size in ``Upload-Length``)."""
    upload = await upload_service.get_upload(
        session, upload_id=upload_id, owner_id=principal.user_id
    )
    return Response(
        status_code=200,
        headers={
            "Upload-Offset": str(upload.received_bytes),
            "Upload-Length": str(upload.size_bytes),
            "Upload-Expires": upload.expires_at.isoformat(),
            "Cache-Control": "no-store",
        },
    )


async def _body(request: Request) -> AsyncIterator[bytes]:
    # A client that drops the connection mid-chunk ends the chunk: what arrived counts.
    try:
        async for chunk in request.stream():
            if chunk:
                yield chunk
    except ClientDisconnect:
        return


@router.patch(
    "/uploads/{upload_id}",
    operation_id="append_upload_chunk",
    response_model=ChunkResult,
    openapi_extra=_CHUNK_BODY,
    responses=error_responses(
        NotAuthenticated,
        NotAllowed,
        UploadNotFound,
        UploadOffsetMismatch,
        UploadExpired,
        upload_service.ChunkTooLarge,
        UnsupportedFile,
        upload_service.ChecksumMismatch,
    ),
)
async def append_upload_chunk(
    request: Request,
    upload_id: UploadId,
    principal: CurrentUser,
    session: DbSession,
    runtime: RuntimeDep,
    upload_offset: Annotated[
        int, Header(alias="Upload-Offset", ge=0, description="Where this chunk starts.")
    ],
) -> Any:
    """Append an ``application/octet-stream`` chunk at ``Upload-Offset``.

    The offset must be the current one (409 with the current offset otherwise). When the
    last byte arrives the file is checked against its SHA-256 (if one was given; 422 and the
    upload is discarded on a mismatch) and ingested: the answer then carries the asset or
    the id of the asset with the same bytes.
    """
    if request.headers.get("content-type", "").split(";")[0].strip() != OCTET_STREAM:
        raise UnsupportedMediaType(f"send the chunk as {OCTET_STREAM}")
    settings = library_settings(runtime.settings)
    upload = await upload_service.get_upload(
        session, upload_id=upload_id, owner_id=principal.user_id, for_update=True
    )
    outcome = await upload_service.append_chunk(
        session,
        storage=LibraryStorage(settings),
        settings=settings,
        upload=upload,
        offset=upload_offset,
        chunks=_body(request),
        declared_length=_declared_length(request),
    )
    if outcome.failure is not None:
        # The upload was discarded: that must be committed, and the client told why.
        failure = outcome.failure
        return error_response(
            request, failure.status_code, failure.code, failure.message, details=failure.details
        )
    result = outcome.result
    return ChunkResult(
        offset=outcome.upload.received_bytes,
        complete=outcome.upload.received_bytes >= outcome.upload.size_bytes,
        asset=IngestedAsset.model_validate(result.asset)
        if result is not None and result.asset is not None
        else None,
        duplicate_of=result.duplicate_of if result is not None else None,
    )


@router.delete(
    "/uploads/{upload_id}",
    operation_id="cancel_upload",
    status_code=204,
    responses=error_responses(NotAuthenticated, NotAllowed, UploadNotFound),
)
async def cancel_upload(
    upload_id: UploadId, principal: CurrentUser, session: DbSession, runtime: RuntimeDep
) -> Response:
    """Cancel an upload and drop what arrived of it."""
    upload = await upload_service.get_upload(
        session, upload_id=upload_id, owner_id=principal.user_id, for_update=True
    )
    await upload_service.cancel_upload(
        session, settings=library_settings(runtime.settings), upload=upload
    )
    return Response(status_code=204)


# URL import -------------------------------------------------------------------------------


@router.post(
    "/imports/url",
    operation_id="import_from_url",
    status_code=201,
    response_model=IngestOutcome,
    responses={
        200: {"model": IngestOutcome, "description": "The library already had these bytes."},
        **error_responses(
            NotAuthenticated,
            NotAllowed,
            UnsafeUrl,
            UrlFetchFailed,
            FileTooLarge,
            UnsupportedFile,
            InvalidFile,
            QuotaExceeded,
        ),
    },
)
async def import_from_url(
    body: UrlImport,
    principal: CurrentUser,
    session: DbSession,
    runtime: RuntimeDep,
    response: Response,
) -> IngestOutcome:
    """Fetch a picture from a public ``http(s)`` URL into the caller's library.

    Private, loopback, link-local and metadata addresses are refused (``unsafe_url``), after
    every redirect too; size and time are capped (``url_import_max_bytes``,
    ``url_import_timeout_seconds``). ``url_fetch_failed`` (400) when the server cannot be
    reached or does not answer 200.
    """
    result = await import_url(
        session,
        storage=LibraryStorage(library_settings(runtime.settings)),
        settings=library_settings(runtime.settings),
        owner_id=principal.user_id,
        url=body.url,
        attribution=body.attribution or None,
        policy=url_policy(runtime.extras),
    )
    response.status_code = 201 if result.created else 200
    return _outcome(result)


# Indexed folders (admin) ------------------------------------------------------------------


def _notify_watcher(session: AsyncSession, runtime: Runtime) -> None:
    async def notify() -> None:
        folders_changed(runtime)

    on_commit(session, notify)


@router.post(
    "/folders",
    operation_id="create_library_folder",
    status_code=201,
    response_model=FolderRead,
    tags=["admin"],
    responses=error_responses(NotAuthenticated, NotAllowed, UnsafeFolder, UserNotFound),
)
async def create_library_folder(
    body: FolderCreate, principal: AdminUser, session: DbSession, runtime: RuntimeDep
) -> FolderRead:
    """Index a server folder in place, read-only, for a user; its first scan is queued."""
    folder = await folder_service.create_folder(
        session, settings=library_settings(runtime.settings), data=body
    )
    _notify_watcher(session, runtime)
    return FolderRead.model_validate(folder)


@router.get(
    "/folders",
    operation_id="list_library_folders",
    response_model=FolderList,
    tags=["admin"],
    responses=error_responses(NotAuthenticated, NotAllowed),
)
async def list_library_folders(principal: AdminUser, session: DbSession) -> FolderList:
    """Every indexed folder with its owner and how many assets it holds."""
    return FolderList(items=await folder_service.list_folders(session))


@router.delete(
    "/folders/{folder_id}",
    operation_id="delete_library_folder",
    status_code=204,
    tags=["admin"],
    responses=error_responses(NotAuthenticated, NotAllowed, FolderNotFound),
)
async def delete_library_folder(
    folder_id: FolderId, principal: AdminUser, session: DbSession, runtime: RuntimeDep
) -> Response:
    """Stop indexing a folder: its assets leave the library; its files are not touched."""
    await folder_service.delete_folder(
        session, storage=LibraryStorage(library_settings(runtime.settings)), folder_id=folder_id
    )
    _notify_watcher(session, runtime)
    return Response(status_code=204)


@router.post(
    "/folders/{folder_id}/rescan",
    operation_id="rescan_library_folder",
    status_code=202,
    response_model=JobRead,
    tags=["admin"],
    responses=error_responses(NotAuthenticated, NotAllowed, FolderNotFound),
)
async def rescan_library_folder(
    folder_id: FolderId, principal: AdminUser, session: DbSession
) -> JobRead:
    """Queue a scan of the folder (or return the one already pending)."""
    folder = await folder_service.get_folder(session, folder_id=folder_id)
    job = await folder_service.queue_scan(session, folder=folder)
    return JobRead.model_validate(job)
