"""Errors of the albums API beyond the Library's shared ones (``library/errors.py``)."""

from __future__ import annotations

from meadhall.platform.errors import NotAllowed, NotFound, Unprocessable


class CoverNotInAlbum(Unprocessable):
    code = "cover_not_in_album"


class OwnerIsNotAMember(Unprocessable):
    """The owner has the album; they cannot also be a contributor or viewer of it."""

    code = "album_owner_not_member"


class MemberNotFound(NotFound):
    code = "album_member_not_found"


class AddedByOther(NotAllowed):
    """A contributor may only remove what they added (or what they own)."""

    code = "album_asset_added_by_other"
