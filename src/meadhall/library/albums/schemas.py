"""Request and response bodies of the albums API."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from meadhall.library.models import AlbumRole
from meadhall.library.tags.schemas import Input, clean_label

MAX_ALBUM_NAME = 200
MAX_DESCRIPTION = 5000
# One request adds or removes at most this many assets.
MAX_ASSETS_PER_REQUEST = 500

# Descriptions may have line breaks and tabs; other controls and direction overrides are refused.
_DESCRIPTION_FORBIDDEN = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)


def _album_name(value: str) -> str:
    return clean_label(value, max_length=MAX_ALBUM_NAME)


def _description(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if _DESCRIPTION_FORBIDDEN.search(value):
        raise ValueError("must not contain control, invisible or direction characters")
    return value or None


AlbumName = Annotated[
    str, Field(min_length=1, max_length=4 * MAX_ALBUM_NAME), AfterValidator(_album_name)
]
Description = Annotated[str | None, Field(max_length=MAX_DESCRIPTION), AfterValidator(_description)]
AssetIds = Annotated[list[uuid.UUID], Field(min_length=1, max_length=MAX_ASSETS_PER_REQUEST)]


class AlbumCreate(Input):
    name: AlbumName
    description: Description = None


class AlbumUpdate(Input):
    """Only the fields sent change; ``null`` clears the description or the explicit cover."""

    name: AlbumName | None = None
    description: Description = None
    cover_asset_id: uuid.UUID | None = Field(
        default=None, description="An asset in the album; null goes back to the newest one."
    )

    @model_validator(mode="after")
    def _name_not_null(self) -> AlbumUpdate:
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("name cannot be null")
        return self


class AlbumAssetsChange(Input):
    asset_ids: AssetIds = Field(description=f"1 to {MAX_ASSETS_PER_REQUEST} asset ids.")


class MemberRole(StrEnum):
    """The roles the owner can give; there is one owner, the album's creator."""

    CONTRIBUTOR = "contributor"
    VIEWER = "viewer"


class MemberUpdate(Input):
    role: MemberRole


class Person(BaseModel):
    """Someone with an account, as other signed-in users see them."""

    id: uuid.UUID
    display_name: str


class PeoplePage(BaseModel):
    items: list[Person]


class AlbumRead(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None
    owner: Person
    role: AlbumRole = Field(description="The caller's role in the album.")
    asset_count: int = Field(description="Assets in the album, not counting trashed ones.")
    cover_asset_id: uuid.UUID | None = Field(
        description="The chosen cover, else the newest asset; null for an empty album."
    )
    explicit_cover: bool = Field(description="True when the owner chose the cover.")
    cover_placeholder: str | None = Field(
        description="The cover's ThumbHash (base64), to paint while its thumbnail loads."
    )
    member_count: int = Field(description="People the album is shared with (not the owner).")
    created_at: datetime
    updated_at: datetime


class AlbumPage(BaseModel):
    """One page of albums, most recently changed first."""

    items: list[AlbumRead]
    total: int
    limit: int
    offset: int


class MemberRead(BaseModel):
    user: Person
    role: AlbumRole
    added_at: datetime


class AlbumDetail(AlbumRead):
    members: list[MemberRead] = Field(description="The owner first, then the members by name.")


class AlbumAssetItem(BaseModel):
    """One asset of an album, compact: enough to lay out a grid."""

    id: uuid.UUID
    name: str = Field(description="Shown as the tile's alternative text.")
    type: str
    media: str | None
    is_favourite: bool = Field(description="The owner's favourite mark.")
    width: int | None
    height: int | None
    placeholder: str | None
    local_at: datetime
    duration_ms: int | None
    added_by_id: uuid.UUID | None = Field(description="Who put it in the album.")
    added_at: datetime


class AlbumAssetPage(BaseModel):
    """One page of an album's assets, newest first."""

    items: list[AlbumAssetItem]
    total: int
    limit: int
    offset: int


AddResult = Literal["added", "already", "not_found"]
RemoveResult = Literal["removed", "not_in_album"]


class AssetAdded(BaseModel):
    asset_id: uuid.UUID
    result: AddResult


class AssetRemoved(BaseModel):
    asset_id: uuid.UUID
    result: RemoveResult


class AlbumAssetsAdded(BaseModel):
    results: list[AssetAdded] = Field(description="One entry per distinct requested id, in order.")
    asset_count: int


class AlbumAssetsRemoved(BaseModel):
    results: list[AssetRemoved] = Field(
        description="One entry per distinct requested id, in order."
    )
    asset_count: int
