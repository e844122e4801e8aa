"""The ``meadhall`` command: serve, worker, database, users, invites, jobs."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.console import Console

from meadhall.config import ConfigError, Settings, load_settings
from meadhall.library.ingest.cli import import_files
from meadhall.platform.accounts.cli import invite_app, user_app
from meadhall.platform.jobs.cli import jobs_app, worker

app = typer.Typer(
    name="meadhall",
    help="Meadhall: a self-hosted home for a tabletop gaming group.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
db_app = typer.Typer(help="Manage the database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(jobs_app, name="jobs")
app.add_typer(user_app, name="user")
app.add_typer(invite_app, name="invite")
app.command()(worker)
app.command("import")(import_files)

console = Console()
err_console = Console(stderr=True)

EXIT_CONFIG = 2


def settings_or_exit(**overrides: object) -> Settings:
    """Load settings; on a bad one print what is wrong and exit with status 2."""
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ConfigError as exc:
        err_console.print(f"[bold red]meadhall:[/] {exc}")
        raise typer.Exit(EXIT_CONFIG) from None


def check_database(settings: Settings) -> None:
    """Fail fast, with a clear message, when the database cannot be reached."""
    import psycopg

    from meadhall.platform.db.server import resolve_database_url

    with psycopg.connect(resolve_database_url(settings), connect_timeout=10):
        pass


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[
        bool | None,
        typer.Option("--workers/--no-workers", help="Run job workers inside the server."),
    ] = None,
) -> None:
    """Start the server (and, by default, job workers) on the configured database."""
    import uvicorn

    from meadhall.app import create_app
    from meadhall.platform.observability.logs import configure_logging

    settings = settings_or_exit(host=host, port=port, workers_in_process=workers)
    configure_logging(settings.log_level, settings.log_format)
    check_database(settings)
    console.print(f"[bold]Meadhall[/] starting — open [link]{settings.base_url}[/link]")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        proxy_headers=True,
        ws_ping_interval=settings.websocket_heartbeat_seconds,
    )


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "heads",
) -> None:
    """Apply database migrations up to REVISION (all by default)."""
    from meadhall.platform.db.migrate import current, upgrade
    from meadhall.platform.db.server import resolve_database_url

    settings = settings_or_exit()
    url = resolve_database_url(settings)
    upgrade(url, revision)
    console.print(f"database at revision [bold]{', '.join(current(url))}[/]")


EXIT_UNAVAILABLE = 3


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
