"""Library tables: assets and their processing steps, tags, albums, uploads, folders, quotas.

An *asset* is one original file (a photo, an image, a video) owned by one user. Its original is
never modified; everything derived from it (metadata columns, thumbnails, previews) can be
rebuilt from the original by re-running its steps.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from meadhall.platform.db.base import Base, TimestampMixin, new_id


class Origin(StrEnum):
    """How an asset entered the library."""

    UPLOAD = "upload"
    URL = "url"
    SCAN = "scan"
    CLI = "cli"
    CHAT = "chat"
    GENERATED = "generated"


class AssetType(StrEnum):
    """What the picture is for at the table; the owner sets it."""

    PHOTO = "photo"
    BACKDROP = "backdrop"
    CHARACTER = "character"
    HANDOUT = "handout"
    MAP = "map"
    OTHER = "other"


class MediaKind(StrEnum):
    """What the file is, found by decoding it."""

    IMAGE = "image"
    ANIMATION = "animation"
    VIDEO = "video"


class AssetStatus(StrEnum):
    # Stored, its steps not all done yet.
    PENDING = "pending"
    READY = "ready"
    # A required step failed for good (the file cannot be decoded); the reason is in ``error``.
    FAILED = "failed"


class TimeSource(StrEnum):
    """Where an asset's capture time zone came from, most trusted first."""

    EXIF_OFFSET = "exif_offset"
    GPS = "gps"
    FILE_TIME = "file_time"
    SERVER_DEFAULT = "server_default"


class StepStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    # Does not apply to this file (e.g. no video decoder); never retried.
    SKIPPED = "skipped"


class AlbumRole(StrEnum):
    OWNER = "owner"
    CONTRIBUTOR = "contributor"
    VIEWER = "viewer"


class LibraryFolder(Base):
    """A folder on the server indexed in place, read-only, for one user (assigned by an admin)."""

    __tablename__ = "library_folders"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(Text, unique=True)
    watch: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    last_scan_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Asset(TimestampMixin, Base):
    __tablename__ = "assets"
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    origin: Mapped[str] = mapped_column(String(16))
    attribution: Mapped[str | None] = mapped_column(String(500), default=None)
    source_url: Mapped[str | None] = mapped_column(Text, default=None)

    # Content identity: hex SHA-256 of the original's bytes. One copy per owner.
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    mime_type: Mapped[str] = mapped_column(String(100))
    original_filename: Mapped[str] = mapped_column(String(255))
    # Managed files: a path relative to the library folder. Indexed folders: relative to the
    # folder (``folder_id`` set), never written to.
    storage_path: Mapped[str] = mapped_column(Text)
    folder_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("library_folders.id", ondelete="CASCADE"), default=None
    )
    # The original's modification time when it was read (indexed folders: change detection).
    file_mtime: Mapped[datetime | None] = mapped_column(default=None)

    # User-editable fields.
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    type: Mapped[str] = mapped_column(String(16), default=AssetType.PHOTO)
    focus_x: Mapped[float | None] = mapped_column(Float, default=None)
    focus_y: Mapped[float | None] = mapped_column(Float, default=None)
    is_favourite: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    trashed_at: Mapped[datetime | None] = mapped_column(default=None)

    # Filled by the pipeline.
    status: Mapped[str] = mapped_column(String(16), default=AssetStatus.PENDING)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    media: Mapped[str | None] = mapped_column(String(16), default=None)
    width: Mapped[int | None] = mapped_column(Integer, default=None)
    height: Mapped[int | None] = mapped_column(Integer, default=None)
    duration_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    frame_count: Mapped[int | None] = mapped_column(Integer, default=None)

    # Capture time: the wall clock where it was taken (timeline bins), the instant (sorting),
    # the zone and where that zone came from. Unknown capture time: the file or upload time.
    captured_local: Mapped[datetime | None] = mapped_column(DateTime(timezone=False), default=None)
    captured_at: Mapped[datetime | None] = mapped_column(default=None)
    capture_tz: Mapped[str | None] = mapped_column(String(64), default=None)
    capture_tz_source: Mapped[str | None] = mapped_column(String(16), default=None)
    # What the timeline uses: set at insert (upload time) and again once metadata is read.
    local_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    sort_at: Mapped[datetime] = mapped_column()

    camera_make: Mapped[str | None] = mapped_column(String(100), default=None)
    camera_model: Mapped[str | None] = mapped_column(String(100), default=None)
    lens: Mapped[str | None] = mapped_column(String(200), default=None)
    iso: Mapped[int | None] = mapped_column(Integer, default=None)
    f_number: Mapped[float | None] = mapped_column(Float, default=None)
    exposure_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    focal_length_mm: Mapped[float | None] = mapped_column(Float, default=None)
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    altitude: Mapped[float | None] = mapped_column(Float, default=None)
    country: Mapped[str | None] = mapped_column(String(100), default=None)
    country_code: Mapped[str | None] = mapped_column(String(2), default=None)
    city: Mapped[str | None] = mapped_column(String(200), default=None)

    # Hex colours, most dominant first.
    palette: Mapped[list[str] | None] = mapped_column(JSONB, default=None)
    # 64-bit perceptual hashes as signed bigints (PostgreSQL has no unsigned type).
    phash: Mapped[int | None] = mapped_column(BigInteger, default=None)
    dhash: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # 0 (unusable) .. 1 (sharp, well exposed), with its parts.
    quality: Mapped[float | None] = mapped_column(Float, default=None)
    sharpness: Mapped[float | None] = mapped_column(Float, default=None)
    exposure: Mapped[float | None] = mapped_column(Float, default=None)
    # ThumbHash, base64: a ~25-byte blurred placeholder the timeline shows while loading.
    placeholder: Mapped[str | None] = mapped_column(String(100), default=None)
    # Raw EXIF values worth keeping that have no column (shown read-only).
    exif: Mapped[dict[str, Any] | None] = mapped_column(JSONB, default=None)

    __table_args__ = (
        UniqueConstraint("owner_id", "sha256", name="uq_assets_owner_id_sha256"),
        Index(
            "uq_assets_folder_id_storage_path",
            "folder_id",
            "storage_path",
            unique=True,
            postgresql_where=text("folder_id IS NOT NULL"),
        ),
        # Timeline: bins by local wall time, pages sorted by the instant.
        Index("ix_assets_owner_id_local_at", "owner_id", "local_at"),
        Index("ix_assets_owner_id_sort_at", "owner_id", "sort_at"),
        Index(
            "ix_assets_trashed_at", "trashed_at", postgresql_where=text("trashed_at IS NOT NULL")
        ),
        CheckConstraint("focus_x IS NULL OR (focus_x >= 0 AND focus_x <= 1)", name="focus_x"),
        CheckConstraint("focus_y IS NULL OR (focus_y >= 0 AND focus_y <= 1)", name="focus_y"),
    )


class AssetStep(Base):
    """One processing step of one asset, so lost work can be found and queued again."""

    __tablename__ = "asset_steps"

    asset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=StepStatus.PENDING)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    # Runs that ended with this step failed; the missing-work sweep stops retrying at a limit.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    __table_args__ = (
        PrimaryKeyConstraint("asset_id", "step", name="pk_asset_steps"),
        Index("ix_asset_steps_failed", "updated_at", postgresql_where=text("status = 'failed'")),
        Index("ix_asset_steps_pending", "updated_at", postgresql_where=text("status = 'pending'")),
    )


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        # Unique per owner regardless of case; also serves prefix search on lower(name).
        Index("uq_tags_owner_id_lower_name", "owner_id", func.lower(name), unique=True),
    )


class AssetTag(Base):
    __tablename__ = "asset_tags"

    asset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    tag_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"))

    __table_args__ = (
        PrimaryKeyConstraint("asset_id", "tag_id", name="pk_asset_tags"),
        Index("ix_asset_tags_tag_id", "tag_id"),
    )


class Album(TimestampMixin, Base):
    __tablename__ = "albums"
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    cover_asset_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("assets.id", ondelete="SET NULL"), default=None
    )

    __table_args__ = (Index("ix_albums_owner_id", "owner_id"),)


class AlbumAsset(Base):
    __tablename__ = "album_assets"

    album_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("albums.id", ondelete="CASCADE"))
    asset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    added_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    added_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        PrimaryKeyConstraint("album_id", "asset_id", name="pk_album_assets"),
        Index("ix_album_assets_asset_id", "asset_id"),
    )


class AlbumMember(Base):
    """Someone other than the owner who may see (viewer) or also add to (contributor) an album."""

    __tablename__ = "album_members"

    album_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("albums.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    added_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        PrimaryKeyConstraint("album_id", "user_id", name="pk_album_members"),
        Index("ix_album_members_user_id", "user_id"),
        CheckConstraint("role IN ('contributor', 'viewer')", name="role"),
    )


class Upload(Base):
    """A resumable upload in progress: bytes land in a temp file until the last chunk."""

    __tablename__ = "uploads"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    received_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    # Optional: the client's hash of the whole file, checked when the upload completes.
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    attribution: Mapped[str | None] = mapped_column(String(500), default=None)
    asset_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("assets.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    expires_at: Mapped[datetime] = mapped_column()


class StorageQuota(Base):
    """A user's storage limit when it differs from the default (``library_quota_bytes``)."""

    __tablename__ = "storage_quotas"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    quota_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)


class TimelineMonth(Base):
    """How many of an owner's assets (neither trashed nor archived) fall in one local month.

    Kept exact by statement triggers on ``assets`` (migration 0007), per type and favourite
    flag so the timeline's filters can be summed from it; never written by Python code.
    """

    __tablename__ = "timeline_months"

    owner_id: Mapped[uuid.UUID] = mapped_column()
    month: Mapped[date] = mapped_column(Date)
    type: Mapped[str] = mapped_column(String(16))
    is_favourite: Mapped[bool] = mapped_column(Boolean)
    count: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        PrimaryKeyConstraint(
            "owner_id", "month", "type", "is_favourite", name="pk_timeline_months"
        ),
    )


_TIMELINE_COUNTED = text("trashed_at IS NULL AND NOT is_archived")
# A month page is an index-only scan of one owner's local month, in page order (migrations 0007
# and 0010).
Index(
    "ix_assets_timeline",
    Asset.owner_id,
    func.date_trunc(literal_column("'month'"), Asset.local_at),
    Asset.sort_at,
    Asset.id,
    postgresql_include=[
        "local_at",
        "type",
        "media",
        "is_favourite",
        "width",
        "height",
        "duration_ms",
        "placeholder",
        "name",
    ],
    postgresql_where=_TIMELINE_COUNTED,
)
# The order "random" picks read from: a hash of the id, per owner.
Index(
    "ix_assets_random", Asset.owner_id, func.uuid_hash(Asset.id), postgresql_where=_TIMELINE_COUNTED
)
Index(
    "ix_assets_trash",
    Asset.owner_id,
    Asset.trashed_at,
    postgresql_where=text("trashed_at IS NOT NULL"),
)
