"""Response bodies of the storage usage API."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


class UsageCounts(BaseModel):
    """Assets and bytes of originals, split by where the original lives.

    ``uploaded`` originals are files Meadhall stores (uploads, URL imports, ``meadhall
    import``); ``indexed`` ones stay in folders indexed in place and take no space of
    Meadhall's own. ``trashed`` is the part of both that sits in the trash (its files are
    still on disk until the trash is emptied).
    """

    assets: int = Field(description="Every asset, trashed ones included.")
    uploaded_assets: int
    uploaded_bytes: int = Field(description="Bytes of originals stored by Meadhall.")
    indexed_assets: int
    indexed_bytes: int = Field(description="Bytes of originals read from indexed folders.")
    trashed_assets: int
    trashed_bytes: int


class UserUsage(UsageCounts):
    """One user's share of the Library."""

    user_id: uuid.UUID
    display_name: str
    email: str
    is_active: bool
    quota_bytes: int | None = Field(
        description="How many uploaded bytes the user may store; null when there is no limit."
    )


class DiskUsage(BaseModel):
    """The file system holding the library folder (``shutil.disk_usage``)."""

    total_bytes: int
    used_bytes: int
    free_bytes: int


class LibraryUsage(BaseModel):
    """Per-user usage (largest first), their sum, and the disk under the library."""

    users: list[UserUsage]
    totals: UsageCounts
    disk: DiskUsage
