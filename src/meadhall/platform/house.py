"""The house: the platform's own parts and the wings of this install, assembled once.

``meadhall/wings.py`` names the wings; a :class:`House` built from that list is what the app,
the workers and the CLI are made from. Everything that must know every wing (settings, the
schema, migrations, job kinds, topics, lifespans, commands, navigation, deletion steps) asks
the house, so adding a wing is its own folder plus one line in that list.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

from meadhall.config import Settings, load_settings
from meadhall.platform.runtime import Runtime
from meadhall.platform.wing import AdminSection, Command, DeletionStep, Lifespan, Wing


class House:
    """The platform's own parts and the wings, in the order they are listed.

    Build one with ``platform.core.house_of(wings)``, which puts the platform first.
    """

    def __init__(self, wings: Sequence[Wing]) -> None:
        self.wings: tuple[Wing, ...] = tuple(wings)
        names = [wing.name for wing in self.wings]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"wings listed twice: {', '.join(duplicates)}")

    def wing(self, name: str) -> Wing:
        for wing in self.wings:
            if wing.name == name:
                return wing
        raise KeyError(name)

    # Settings ----------------------------------------------------------------------------

    @cached_property
    def settings_class(self) -> type[Settings]:
        """One settings class with every wing's fields, so one pass validates them all."""
        sections = tuple(wing.settings for wing in self.wings if wing.settings is not None)
        if not sections:
            return Settings
        # Later wings first in the bases, so the order of the list decides nothing else.
        composed = type("HouseSettings", (*reversed(sections), Settings), {"__module__": __name__})
        return composed

    def load_settings(self, **overrides: Any) -> Settings:
        """Read and validate the settings of the platform and every wing."""
        return load_settings(settings_class=self.settings_class, **overrides)

    # The database ------------------------------------------------------------------------

    @property
    def migration_locations(self) -> list[Path]:
        return [wing.migrations for wing in self.wings if wing.migrations is not None]

    @asynccontextmanager
    async def open_runtime(
        self, settings: Settings, *, migrate: bool = True
    ) -> AsyncIterator[Runtime]:
        """Everything a process needs to serve requests or run jobs, opened and closed in order."""
        from meadhall.platform.accounts.service import close_accounts
        from meadhall.platform.db import Database
        from meadhall.platform.db.migrate import upgrade
        from meadhall.platform.db.server import release_embedded, resolve_database_url
        from meadhall.platform.events.bus import SESSION_BUS_KEY, create_bus

        url = await asyncio.to_thread(resolve_database_url, settings)
        if migrate:
            await asyncio.to_thread(upgrade, url, self.migration_locations)
        db = Database(url, pool_size=settings.database_pool_size)
        await db.detect_features()
        bus = create_bus(settings)
        await bus.start()
        db.share_with_sessions(**{SESSION_BUS_KEY: bus})
        runtime = Runtime(settings=settings, db=db, bus=bus, house=self)
        try:
            yield runtime
        finally:
            await close_accounts(runtime)
            await bus.stop()
            await db.dispose()
            if settings.database_url is None:
                await asyncio.to_thread(release_embedded, settings.resolved_data_dir)

    @asynccontextmanager
    async def serving(self, runtime: Runtime) -> AsyncIterator[None]:
        """The wings' lifespan hooks (the folder watcher, …) around a serving process."""
        async with AsyncExitStack() as stack:
            for hook in self.lifespans:
                await stack.enter_async_context(hook(runtime))
            yield

    # What the wings declare ---------------------------------------------------------------

    @property
    def lifespans(self) -> list[Lifespan]:
        return [hook for wing in self.wings for hook in wing.lifespans]

    @property
    def commands(self) -> list[Command]:
        return [command for wing in self.wings for command in wing.commands]

    @property
    def admin_sections(self) -> list[AdminSection]:
        return [section for wing in self.wings for section in wing.admin]

    @property
    def deletion_steps(self) -> list[DeletionStep]:
        return [step for wing in self.wings for step in wing.deletion_steps]
