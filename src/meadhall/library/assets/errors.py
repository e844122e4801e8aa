"""Errors of the assets API; each carries its HTTP status."""

from __future__ import annotations

from meadhall.platform.errors import Conflict, Gone, NotFound, Unprocessable


class AssetNotTrashed(Conflict):
    """Purging skips the trash only when asked to (``force``)."""

    code = "asset_not_trashed"


class AssetNotReady(Conflict):
    """The asset is still being processed; its derivatives are not there yet."""

    code = "asset_not_ready"
    headers = {"Retry-After": "2"}


class AssetUnreadable(Unprocessable):
    """The original could not be decoded; ``details`` carries the pipeline's reason."""

    code = "asset_unreadable"


class OriginalMissing(Gone):
    """The asset's original file is no longer on disk (an indexed folder changed, say)."""

    code = "original_missing"


class InvalidCursor(Unprocessable):
    code = "invalid_cursor"


class NoMatchingAsset(NotFound):
    code = "no_matching_asset"
