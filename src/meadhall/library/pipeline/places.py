"""Where a photo was taken, offline: the nearest known city and the time zone of a point.

Both lookups load their data (a city table, zone polygons) on first use, once per process,
under a lock; later calls are fast and thread-safe.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

_lock = threading.Lock()
_zone_finder: Any = None
_zone_lock = threading.Lock()


@dataclass(frozen=True)
class Place:
    country: str | None
    country_code: str | None
    city: str | None


def reverse_geocode(latitude: float, longitude: float) -> Place:
    """The nearest city of at least some thousand people, and its country."""
    import reverse_geocode as geocoder

    with _lock:
        found: dict[str, Any] = geocoder.get((latitude, longitude))
    code = found.get("country_code")
    return Place(
        country=_bounded(found.get("country"), 100),
        country_code=code.upper() if isinstance(code, str) and len(code) == 2 else None,
        city=_bounded(found.get("city"), 200),
    )


def zone_at(latitude: float, longitude: float) -> str | None:
    """The IANA zone name at a point (the ocean's nautical zones included), or ``None``."""
    global _zone_finder
    with _zone_lock:
        if _zone_finder is None:
            from timezonefinder import TimezoneFinder

            _zone_finder = TimezoneFinder()
        name = _zone_finder.timezone_at(lng=longitude, lat=latitude)
    return name if isinstance(name, str) and name else None


def _bounded(value: Any, limit: int) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:limit]
