"""Request and response bodies of the tags API."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

MAX_TAG_NAME = 100
# One request attaches, detaches or replaces at most this many tags (ids and names together).
MAX_TAGS_PER_REQUEST = 100
MAX_ASSETS_PER_REQUEST = 500

# C0/C1 controls, zero-width and direction-changing characters, line/paragraph separators:
# invisible in a tag chip, and direction overrides can make one name look like another.
# Zero-width joiners stay allowed: emoji sequences need them.
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def clean_label(value: str, *, max_length: int) -> str:
    """Normalise a short human label: NFC, whitespace runs collapsed, no control characters."""
    value = " ".join(unicodedata.normalize("NFC", value).split())
    if not value:
        raise ValueError("must not be blank")
    if _FORBIDDEN.search(value):
        raise ValueError("must not contain control, invisible or direction characters")
    if len(value) > max_length:
        raise ValueError(f"must be at most {max_length} characters")
    return value


def _tag_name(value: str) -> str:
    return clean_label(value, max_length=MAX_TAG_NAME)


# The raw length cap is looser than the clean one: surrounding spaces are trimmed first.
TagName = Annotated[
    str, Field(min_length=1, max_length=4 * MAX_TAG_NAME), AfterValidator(_tag_name)
]


class Input(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class TagCreate(Input):
    name: TagName = Field(description="1-100 characters; unique per owner regardless of case.")


class TagUpdate(Input):
    name: TagName = Field(description="The new name; may change only the case of the old one.")


class TagMerge(Input):
    into: uuid.UUID = Field(description="The tag that receives every asset of the merged one.")


class AssetTagsChange(Input):
    """Tags to attach, detach or set on one asset: by id, and/or by name for convenience.

    On attach and replace, a name matches an existing tag regardless of case, and a missing
    one is created. On detach, a name that matches no tag is ignored (nothing to remove).
    """

    tag_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_TAGS_PER_REQUEST)
    names: list[TagName] = Field(default_factory=list, max_length=MAX_TAGS_PER_REQUEST)

    @model_validator(mode="after")
    def _not_too_many(self) -> AssetTagsChange:
        if len(self.tag_ids) + len(self.names) > MAX_TAGS_PER_REQUEST:
            raise ValueError(f"at most {MAX_TAGS_PER_REQUEST} tags per request (ids and names)")
        return self


class TagsAttachMany(AssetTagsChange):
    """Tags to attach to many of the caller's assets at once (a selection in the grid)."""

    asset_ids: list[uuid.UUID] = Field(
        min_length=1,
        max_length=MAX_ASSETS_PER_REQUEST,
        description=f"1 to {MAX_ASSETS_PER_REQUEST} asset ids.",
    )


class TagRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    created_at: datetime


class TagWithCount(TagRead):
    asset_count: int = Field(description="Assets carrying the tag, trashed ones included.")


class TagPage(BaseModel):
    """One page of tags, by name."""

    items: list[TagWithCount]
    total: int
    limit: int
    offset: int


class AssetTags(BaseModel):
    """The tags of one asset after a change, by name."""

    asset_id: uuid.UUID
    tags: list[TagRead]


class OrphansDeleted(BaseModel):
    deleted: int = Field(description="How many tags without assets were deleted.")
