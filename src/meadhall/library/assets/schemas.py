"""Request and response bodies of the assets API."""

from __future__ import annotations

import math
import re
import unicodedata
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from meadhall.library.models import AssetStatus, AssetType, MediaKind, Origin, TimeSource

MAX_NAME = 255
MAX_DESCRIPTION = 10_000
MAX_ATTRIBUTION = 500
MAX_BULK = 500

# Control characters (tabs and newlines aside, which descriptions may hold) and direction
# overrides: invisible in the UI, and overrides can make one name look like another.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _clean_text(value: str, *, single_line: bool) -> str:
    value = unicodedata.normalize("NFC", value).strip()
    if _FORBIDDEN.search(value) or (single_line and ("\n" in value or "\r" in value)):
        raise ValueError("must not contain control or direction characters")
    return value


def _name(value: str) -> str:
    value = _clean_text(value, single_line=True)
    if not value:
        raise ValueError("must not be blank")
    if len(value) > MAX_NAME:
        raise ValueError(f"must be at most {MAX_NAME} characters")
    return value


def _line(value: str) -> str:
    return _clean_text(value, single_line=True)


def _text(value: str) -> str:
    return _clean_text(value, single_line=False)


AssetName = Annotated[str, Field(min_length=1, max_length=MAX_NAME), AfterValidator(_name)]
Description = Annotated[str, Field(max_length=MAX_DESCRIPTION), AfterValidator(_text)]
Attribution = Annotated[str, Field(max_length=MAX_ATTRIBUTION), AfterValidator(_line)]


def hash_hex(value: int | None) -> str | None:
    """A signed 64-bit perceptual hash as the 16 hex digits of its unsigned bits."""
    return None if value is None else f"{value & 0xFFFF_FFFF_FFFF_FFFF:016x}"


class Input(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class FocusPoint(Input):
    """Where the subject is, as fractions of the width and height (0,0 is the top left)."""

    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)

    @field_validator("x", "y")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value


class AssetUpdate(Input):
    """User fields of an asset; only the fields sent change. ``null`` clears an optional one."""

    name: AssetName | None = Field(default=None, description="1-255 characters; not null.")
    description: Description | None = None
    attribution: Attribution | None = Field(default=None, description="Who made it, a licence.")
    type: AssetType | None = Field(default=None, description="What it is for at the table.")
    focus: FocusPoint | None = Field(default=None, description="Null clears the focus point.")

    @field_validator("name", "type", mode="after")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Only reached for values that were sent: an explicit null is refused.
        if value is None:
            raise ValueError("may not be null")
        return value


class AssetRead(BaseModel):
    """An asset as lists show it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    owner_id: uuid.UUID
    name: str
    type: AssetType
    media: MediaKind | None
    status: AssetStatus
    mime_type: str
    size_bytes: int
    width: int | None
    height: int | None
    duration_ms: int | None
    local_at: datetime = Field(description="Local wall time of capture (no zone).")
    sort_at: datetime = Field(description="The capture instant (UTC); lists sort by it.")
    placeholder: str | None = Field(description="ThumbHash (base64) to show while loading.")
    is_favourite: bool
    is_archived: bool
    trashed_at: datetime | None
    created_at: datetime


class AssetPage(BaseModel):
    """One page of assets; pass ``next_cursor`` back as ``cursor`` for the next one."""

    items: list[AssetRead]
    next_cursor: str | None


class CaptureTime(BaseModel):
    local: datetime | None = Field(description="Wall time where it was taken.")
    at: datetime | None = Field(description="The instant, UTC.")
    timezone: str | None
    source: TimeSource | None = Field(description="Where the time zone came from.")


class Camera(BaseModel):
    make: str | None
    model: str | None
    lens: str | None
    iso: int | None
    f_number: float | None
    exposure_seconds: float | None
    focal_length_mm: float | None


class Place(BaseModel):
    latitude: float | None
    longitude: float | None
    altitude: float | None
    country: str | None
    country_code: str | None
    city: str | None


class Quality(BaseModel):
    score: float | None = Field(description="0 (unusable) .. 1 (sharp, well exposed).")
    sharpness: float | None
    exposure: float | None


class Hashes(BaseModel):
    sha256: str
    phash: str | None = Field(description="64-bit perceptual hash, 16 hex digits.")
    dhash: str | None = Field(description="64-bit difference hash, 16 hex digits.")


class NamedRef(BaseModel):
    id: uuid.UUID
    name: str


class StepRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    step: str
    status: str
    error: str | None
    updated_at: datetime


class FocusRead(BaseModel):
    x: float
    y: float


class AssetDetail(AssetRead):
    """An asset with everything known about it."""

    description: str | None
    attribution: str | None
    origin: Origin
    source_url: str | None
    original_filename: str
    indexed: bool = Field(description="True when the original lives in an indexed folder.")
    file_mtime: datetime | None
    frame_count: int | None
    focus: FocusRead | None
    capture: CaptureTime
    camera: Camera
    place: Place
    palette: list[str] | None = Field(description="Hex colours, most dominant first.")
    hashes: Hashes
    quality: Quality
    exif: dict[str, Any] | None
    error: str | None = Field(description="Why processing failed, when it did.")
    steps: list[StepRead]
    tags: list[NamedRef] = Field(description="The caller's tags on it (owner only).")
    albums: list[NamedRef] = Field(description="Albums holding it that the caller can see.")
    updated_at: datetime


class BulkAction(StrEnum):
    FAVOURITE = "favourite"
    UNFAVOURITE = "unfavourite"
    ARCHIVE = "archive"
    UNARCHIVE = "unarchive"
    TRASH = "trash"
    RESTORE = "restore"
    PURGE = "purge"


class BulkRequest(Input):
    ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_BULK)
    action: BulkAction


class BulkError(BaseModel):
    code: str
    message: str


class BulkItem(BaseModel):
    id: uuid.UUID
    ok: bool
    error: BulkError | None = None


class BulkResult(BaseModel):
    """What happened to each id, in the order given (repeated ids are reported once)."""

    done: int
    failed: int
    results: list[BulkItem]


class TrashEmptied(BaseModel):
    purged: int


class RandomAssets(BaseModel):
    items: list[AssetRead]


class ImageFormat(StrEnum):
    WEBP = "webp"
    JPEG = "jpeg"
    PNG = "png"


class ImageData(BaseModel):
    """A rendered image inline, for clients that cannot fetch binary responses."""

    mime_type: str
    width: int
    height: int
    data: str = Field(description="The encoded image, base64.")


class AssetSort(StrEnum):
    CAPTURED = "captured"
    CREATED = "created"
    NAME = "name"
    SIZE = "size"


class SortOrder(StrEnum):
    DESC = "desc"
    ASC = "asc"
