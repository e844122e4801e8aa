"""The main navigation: one entry per wing of Meadhall that has pages.

A wing that lands (library, table, maps, hall) adds its entry to :data:`NAV_ENTRIES`; the
header, its ordering and the "current page" marker follow from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from meadhall.platform.accounts.deps import Principal


@dataclass(frozen=True)
class NavEntry:
    """A link in the header: ``icon`` names a symbol in ``partials/icons.html``."""

    key: str
    label: str
    href: str
    icon: str
    admin_only: bool = False


@dataclass(frozen=True)
class NavLink:
    """A :class:`NavEntry` as shown on one page."""

    key: str
    label: str
    href: str
    icon: str
    current: bool


NAV_ENTRIES: tuple[NavEntry, ...] = (
    NavEntry(key="photos", label="Photos", href="/", icon="images"),
    NavEntry(key="search", label="Search", href="/search", icon="search"),
    NavEntry(key="albums", label="Albums", href="/albums", icon="album"),
    NavEntry(key="tags", label="Tags", href="/tags", icon="tag"),
    NavEntry(key="trash", label="Trash", href="/trash", icon="trash"),
    NavEntry(key="admin", label="Admin", href="/admin", icon="shield", admin_only=True),
)


def nav_links(viewer: Principal, *, current: str | None) -> list[NavLink]:
    """The entries ``viewer`` may see, with the one for the current page marked."""
    return [
        NavLink(
            key=entry.key,
            label=entry.label,
            href=entry.href,
            icon=entry.icon,
            current=entry.key == current,
        )
        for entry in NAV_ENTRIES
        if viewer.is_admin or not entry.admin_only
    ]
