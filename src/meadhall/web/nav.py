"""The main navigation, from the pages the house's wings declare (their manifest's ``nav``).

The header, its ordering and the "current page" marker follow from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from meadhall.platform.accounts.principal import Principal
from meadhall.platform.wing import NavEntry

if TYPE_CHECKING:
    from meadhall.platform.house import House


@dataclass(frozen=True)
class NavLink:
    """A :class:`NavEntry` as shown on one page."""

    key: str
    label: str
    href: str
    icon: str
    current: bool


ADMIN_ENTRY = NavEntry(key="admin", label="Admin", href="/admin", icon="shield", admin_only=True)


def nav_links(house: House, viewer: Principal, *, current: str | None) -> list[NavLink]:
    """The entries ``viewer`` may see, with the one for the current page marked."""
    entries = [entry for wing in house.wings for entry in wing.nav]
    entries.append(ADMIN_ENTRY)
    return [
        NavLink(
            key=entry.key,
            label=entry.label,
            href=entry.href,
            icon=entry.icon,
            current=entry.key == current,
        )
        for entry in entries
        if viewer.is_admin or not entry.admin_only
    ]
