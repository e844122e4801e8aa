"""The garden's own setting, read as ``MEADHALL_GARDEN_NAME`` like every other."""

from __future__ import annotations

from meadhall.config import Settings


class GardenSettings(Settings):
    garden_name: str = "The meadhall garden"
