"""The ``meadhall`` command: the commands of the platform and of every wing."""

from __future__ import annotations

import os
import sys

import typer

from meadhall.config import ConfigError
from meadhall.platform.console import EXIT_CONFIG, EXIT_UNAVAILABLE, err_console, use_house
from meadhall.platform.house import House
from meadhall.wings import HOUSE


def build_cli(house: House) -> typer.Typer:
    """The root command with every command the house's wings declare."""
    app = typer.Typer(
        name="meadhall",
        help="Meadhall: a self-hosted home for a tabletop gaming group.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def root() -> None:
        use_house(house)

    for command in house.commands:
        if isinstance(command.target, typer.Typer):
            app.add_typer(command.target, name=command.name)
        else:
            app.command(command.name)(command.target)
    return app


app = build_cli(HOUSE)


def _is_connection_error(exc: BaseException) -> bool:
    import psycopg
    from sqlalchemy.exc import OperationalError

    return isinstance(exc, OperationalError | psycopg.OperationalError)


def main() -> None:
    # Typer's rich tracebacks would print secrets from locals; keep them plain.
    os.environ.setdefault("_TYPER_STANDARD_TRACEBACK", "1")
    try:
        app()
    except ConfigError as exc:
        err_console.print(f"[bold red]meadhall:[/] {exc}")
        sys.exit(EXIT_CONFIG)
    except Exception as exc:
        if not _is_connection_error(exc):
            raise
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        err_console.print(f"[bold red]meadhall:[/] cannot reach the database: {reason}")
        sys.exit(EXIT_UNAVAILABLE)
