"""What every ``meadhall`` command shares: the consoles, the house, settings and a runtime.

The root command (``meadhall/cli.py``) names the :class:`House` of the invocation before any
command runs; commands of the platform and of the wings find it here, so no command module
imports the root command back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from meadhall.config import ConfigError, Settings

if TYPE_CHECKING:
    from meadhall.platform.house import House
    from meadhall.platform.runtime import Runtime

console = Console()
err_console = Console(stderr=True)

# Exit statuses shared by every command.
EXIT_CONFIG = 2
EXIT_UNAVAILABLE = 3

_house: ContextVar[House] = ContextVar("meadhall_house")


def use_house(house: House) -> None:
    """Name the house the commands of this invocation work on (the root command does)."""
    _house.set(house)


def current_house() -> House:
    """The house the running ``meadhall`` command was built from."""
    try:
        return _house.get()
    except LookupError:
        raise RuntimeError("no house for this command: run it through `meadhall`") from None


def settings_or_exit(**overrides: object) -> Settings:
    """Load settings; on a bad one print what is wrong and exit with status 2."""
    try:
        return current_house().load_settings(
            **{key: value for key, value in overrides.items() if value is not None}
        )
    except ConfigError as exc:
        err_console.print(f"[bold red]meadhall:[/] {exc}")
        raise typer.Exit(EXIT_CONFIG) from None


@asynccontextmanager
async def command_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """The whole runtime for one command (so its events reach the API processes too)."""
    async with current_house().open_runtime(settings) as runtime:
        yield runtime


def fail(message: str, code: int) -> typer.Exit:
    """Print ``message`` as an error; the caller raises the returned exit."""
    err_console.print(f"[bold red]meadhall:[/] {message}")
    return typer.Exit(code)
