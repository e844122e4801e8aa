"""``meadhall db upgrade``: apply every wing's migrations."""

from __future__ import annotations

from typing import Annotated

import typer

from meadhall.platform.console import console, current_house, settings_or_exit

db_app = typer.Typer(help="Manage the database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "heads",
) -> None:
    """Apply database migrations up to REVISION (all by default)."""
    from meadhall.platform.db.migrate import current, upgrade
    from meadhall.platform.db.server import resolve_database_url

    settings = settings_or_exit()
    url = resolve_database_url(settings)
    upgrade(url, current_house().migration_locations, revision)
    console.print(f"database at revision [bold]{', '.join(current(url))}[/]")
