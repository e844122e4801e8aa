"""Library errors; each carries its HTTP status (see platform/errors.py)."""

from __future__ import annotations

from meadhall.platform.errors import (
    BadRequest,
    Conflict,
    Gone,
    NotAllowed,
    NotFound,
    PayloadTooLarge,
    Unprocessable,
    UnsupportedMediaType,
)


class AssetNotFound(NotFound):
    code = "asset_not_found"


class AlbumNotFound(NotFound):
    code = "album_not_found"


class TagNotFound(NotFound):
    code = "tag_not_found"


class UploadNotFound(NotFound):
    code = "upload_not_found"


class FolderNotFound(NotFound):
    code = "folder_not_found"


class NotAlbumOwner(NotAllowed):
    code = "album_role_required"


class NotAssetOwner(NotAllowed):
    code = "not_asset_owner"


class DuplicateAsset(Conflict):
    """The same bytes are already in this owner's library; ``details`` names the asset."""

    code = "duplicate_asset"


class TagNameTaken(Conflict):
    code = "tag_name_taken"


class UploadOffsetMismatch(Conflict):
    code = "upload_offset_mismatch"


class UploadExpired(Gone):
    code = "upload_expired"


class QuotaExceeded(PayloadTooLarge):
    code = "quota_exceeded"


class FileTooLarge(PayloadTooLarge):
    code = "file_too_large"


class UnsupportedFile(UnsupportedMediaType):
    code = "unsupported_file"


class InvalidFile(Unprocessable):
    """The file claims a format it is not in, is truncated, or is hostile."""

    code = "invalid_file"


class UnsafeUrl(BadRequest):
    """A URL import that would reach a private, loopback, link-local or metadata address."""

    code = "unsafe_url"


class UrlFetchFailed(BadRequest):
    code = "url_fetch_failed"


class UnsafeFolder(BadRequest):
    code = "unsafe_folder"
