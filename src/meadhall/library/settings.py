"""The Library's settings: quotas, the filing of uploads, upload and image limits, the trash.

They are read like every setting, from ``MEADHALL_<FIELD>`` variables and the config file; the
house adds them to the platform's settings (the Library's manifest names this class).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import Field

from meadhall.config import Settings


class LibrarySettings(Settings):
    """The platform's settings plus the Library's own fields."""

    # How many bytes each user may store (unset: no limit; per-user overrides exist).
    library_quota_bytes: Annotated[int, Field(ge=0)] | None = None
    # Where uploads are filed inside the library folder; see library/storage.py.
    library_path_template: str = "{user}/{year}/{month}/{name}"
    # The zone of capture times that carry none (no EXIF offset, no GPS).
    default_timezone: str = "UTC"
    upload_max_bytes: Annotated[int, Field(ge=1024)] = 512 * 1024 * 1024
    upload_chunk_max_bytes: Annotated[int, Field(ge=1024, le=1024 * 1024 * 1024)] = 16 * 1024 * 1024
    upload_expiry_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 24
    # One multipart upload request: at most this many files and this many bytes in all.
    upload_max_files: Annotated[int, Field(ge=1, le=10_000)] = 200
    upload_max_request_bytes: Annotated[int, Field(ge=1024)] = 4 * 1024 * 1024 * 1024
    # Decoding refuses images with more pixels than this (decompression bombs).
    max_image_pixels: Annotated[int, Field(ge=1_000_000)] = 250_000_000
    url_import_max_bytes: Annotated[int, Field(ge=1024)] = 100 * 1024 * 1024
    url_import_timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 30.0
    trash_retention_days: Annotated[int, Field(ge=1, le=3650)] = 30
    # A file in a watched folder is read once it has not changed for this long.
    folder_stability_seconds: Annotated[float, Field(ge=0, le=3600)] = 5.0

    @cached_property
    def library_dir(self) -> Path:
        """Managed originals (uploads); never modified once written."""
        return self.resolved_data_dir / "library"

    @cached_property
    def cache_dir(self) -> Path:
        """Derivatives (thumbnails, previews); can be deleted and rebuilt from originals."""
        return self.resolved_data_dir / "cache"

    @cached_property
    def tmp_dir(self) -> Path:
        """Uploads in progress and files being written; on the same disk as the library."""
        return self.resolved_data_dir / "tmp"


def library_settings(settings: Settings) -> LibrarySettings:
    """The Library's view of the process's settings (loaded by a house that has the Library)."""
    if not isinstance(settings, LibrarySettings):
        raise TypeError("these settings were loaded without the Library's fields")
    return settings
