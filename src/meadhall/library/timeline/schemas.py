"""Response bodies of the timeline API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from meadhall.library.models import AssetType, MediaKind


class TimelineBucket(BaseModel):
    """How many assets one local month holds."""

    month: str = Field(description="YYYY-MM, by local capture time.", examples=["2024-05"])
    count: int


class TimelineItem(BaseModel):
    """The least a timeline grid needs to lay out and paint a tile."""

    id: uuid.UUID
    name: str = Field(description="The asset's name (alt text of its tile).")
    type: AssetType
    media: MediaKind | None
    local_at: datetime = Field(description="Local wall time of capture (no zone).")
    width: int | None
    height: int | None
    placeholder: str | None = Field(description="ThumbHash, base64.")
    duration_ms: int | None = Field(description="Videos only.")
    is_favourite: bool


class TimelineMonthItems(BaseModel):
    month: str = Field(description="YYYY-MM.")
    items: list[TimelineItem] = Field(description="Newest capture instant first.")


class TimelineMonths(BaseModel):
    """The requested months, in the order asked for."""

    months: list[TimelineMonthItems]
