"""Request and response bodies of the events API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class AnnouncementCreate(BaseModel):
    """A notice for everyone signed in (e.g. "the server restarts at ten")."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=2000)
    level: Literal["info", "warning"] = "info"


class AnnouncementRead(BaseModel):
    """Where the announcement went: the event's id and topic."""

    event_id: str
    topic: str
    at: datetime
