"""Request and response bodies of the ingest API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Sha256Hex = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-fA-F]{64}$", to_lower=True),
]
Attribution = Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)]
MAX_EXISTS_HASHES = 1000


class IngestedAsset(BaseModel):
    """An asset as ingest created it (the pipeline fills in the rest later)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    owner_id: uuid.UUID
    origin: str
    status: str
    name: str
    original_filename: str
    mime_type: str
    size_bytes: int
    sha256: str
    attribution: str | None
    source_url: str | None
    folder_id: uuid.UUID | None
    created_at: datetime


class IngestError(BaseModel):
    code: str
    message: str
    # The HTTP status this error has when it is the answer to a whole request.
    status: int
    details: object = None


class FileOutcome(BaseModel):
    """What became of one file of an upload."""

    filename: str
    status: Literal["created", "duplicate", "failed"]
    asset: IngestedAsset | None = None
    duplicate_of: uuid.UUID | None = None
    error: IngestError | None = None


class UploadReport(BaseModel):
    """One entry per file part, in the order they were sent."""

    files: list[FileOutcome]
    created: int
    duplicates: int
    failed: int


class IngestOutcome(BaseModel):
    """A single ingested file: the new asset, or the owner's asset with the same bytes."""

    asset: IngestedAsset | None = None
    duplicate_of: uuid.UUID | None = None


class ExistsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sha256: list[Sha256Hex] = Field(max_length=MAX_EXISTS_HASHES)


class ExistsResponse(BaseModel):
    """``{sha256: asset id}`` for the hashes the caller already has."""

    existing: dict[str, uuid.UUID]


class LibraryLimits(BaseModel):
    """What a client needs to know before sending files, and how long the trash keeps them."""

    upload_max_bytes: int = Field(description="The largest file accepted.")
    upload_chunk_max_bytes: int = Field(description="The largest chunk of a resumable upload.")
    upload_max_files: int = Field(description="Most files in one multipart request.")
    upload_max_request_bytes: int = Field(description="Most bytes in one multipart request.")
    trash_retention_days: int = Field(
        description="Days an asset stays in the trash before it is deleted for good."
    )


class UploadCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    size_bytes: int = Field(ge=1)
    sha256: Sha256Hex | None = None
    attribution: Attribution | None = None


class UploadRead(BaseModel):
    """A resumable upload: how much of it has arrived."""

    id: uuid.UUID
    filename: str
    size_bytes: int
    offset: int
    expires_at: datetime
    chunk_max: int
    complete: bool
    asset_id: uuid.UUID | None


class ChunkResult(BaseModel):
    """After a chunk: the new offset; once complete, the asset (or the duplicate's id)."""

    offset: int
    complete: bool
    asset: IngestedAsset | None = None
    duplicate_of: uuid.UUID | None = None


class UrlImport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, StringConstraints(min_length=1, max_length=4096, strip_whitespace=True)]
    attribution: Attribution | None = None


class FolderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: Annotated[str, StringConstraints(min_length=1, max_length=4096)]
    owner_id: uuid.UUID
    watch: bool = True

    @field_validator("path")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class FolderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    owner_id: uuid.UUID
    path: str
    watch: bool
    last_scan_at: datetime | None
    created_at: datetime
    asset_count: int = 0


class FolderList(BaseModel):
    items: list[FolderRead]
