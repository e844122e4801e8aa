"""What a wing brings to the house, declared in one module of its own.

Each wing (the Library, and later the Table, Maps and the Hall) has a ``<wing>/wing.py`` whose
``wing`` is a :class:`Wing`: its routers, pages, tables, job kinds, gateway topics, lifespan
hooks, commands, settings, navigation, admin sections, account-deletion steps, migrations and
web assets. The platform describes its own parts the same way (``platform/core.py``). The app,
the job registry, the schema's metadata, the migrations and the CLI loop over the house's list
of wings (``meadhall/wings.py``); nothing in the platform imports a wing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter

    from meadhall.config import Settings
    from meadhall.platform.jobs.context import JobContext
    from meadhall.platform.runtime import Runtime

# A wing's name is a Python identifier: its package, its migration branch, its static prefix.
_WING_NAME = re.compile(r"[a-z][a-z0-9_]{1,30}")

# Opened around the life of a serving process, after the runtime and the job workers.
Lifespan = Callable[["Runtime"], AbstractAsyncContextManager[None]]
# Run inside the account-deletion job before the user's rows go, with the mode
# ("delete" or "anonymise"); must be idempotent (the job may run again).
DeletionStep = Callable[["JobContext", uuid.UUID, str], Awaitable[None]]


@dataclass(frozen=True)
class NavEntry:
    """One page of a wing in the second level of the navigation.

    ``icon`` names a symbol of the shared icon sprite.
    """

    key: str
    label: str
    href: str
    icon: str
    admin_only: bool = False


@dataclass(frozen=True)
class AdminSection:
    """A tab of the admin pages (``/admin/<key>``), rendered in the admin shell.

    ``template`` names the section's template (wing templates are named ``<wing>/…``),
    ``script`` its page module and ``styles`` its stylesheets, both as static asset paths.
    """

    key: str
    title: str
    icon: str
    template: str
    script: str
    styles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Command:
    """A ``meadhall`` sub-command (a function) or command group (a Typer app)."""

    name: str
    target: Callable[..., Any] | typer.Typer


@dataclass(frozen=True)
class Wing:
    """The manifest of one wing. Only ``name`` is required; a wing declares what it has."""

    name: str
    # How the top level of the navigation names it, its icon and its first page (None: the
    # wing has no pages of its own).
    label: str = ""
    icon: str = ""
    home: str | None = None
    # Routers of the JSON API, mounted under /api.
    api: Sequence[APIRouter] = ()
    # Routers of HTML pages, mounted at the root.
    pages: Sequence[APIRouter] = ()
    # Modules declaring tables (imported for the schema's metadata).
    models: Sequence[ModuleType] = ()
    # Modules declaring job kinds with ``@job_kind`` (each with its human label).
    tasks: Sequence[ModuleType] = ()
    # Modules declaring gateway topics and who may follow them with ``@topic_rule``.
    topics: Sequence[ModuleType] = ()
    lifespans: Sequence[Lifespan] = ()
    commands: Sequence[Command] = ()
    # The wing's settings: a subclass of the platform's ``Settings`` adding its own fields
    # (``MEADHALL_<FIELD>`` like every setting).
    settings: type[Settings] | None = None
    nav: Sequence[NavEntry] = ()
    admin: Sequence[AdminSection] = ()
    deletion_steps: Sequence[DeletionStep] = ()
    # The folder of the wing's Alembic revisions; its root revision carries the wing's name
    # as branch label.
    migrations: Path | None = None
    # The folder with the wing's ``templates/`` and ``static/``.
    web: Path | None = None

    def __post_init__(self) -> None:
        if not _WING_NAME.fullmatch(self.name):
            raise ValueError(f"wing name {self.name!r} must be a short lower-case identifier")
        if self.home is not None and not self.label:
            raise ValueError(f"wing {self.name!r} has pages but no label for the navigation")
