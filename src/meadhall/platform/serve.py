"""``meadhall serve``: the API, the pages, the gateway and (by default) job workers."""

from __future__ import annotations

from typing import Annotated

import typer

from meadhall.config import Settings
from meadhall.platform.console import console, current_house, settings_or_exit


def check_database(settings: Settings) -> None:
    """Fail fast, with a clear message, when the database cannot be reached."""
    import psycopg

    from meadhall.platform.db.server import resolve_database_url

    with psycopg.connect(resolve_database_url(settings), connect_timeout=10):
        pass


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

    from meadhall.platform.app import create_app
    from meadhall.platform.observability.logs import configure_logging

    settings = settings_or_exit(host=host, port=port, workers_in_process=workers)
    configure_logging(settings.log_level, settings.log_format)
    check_database(settings)
    console.print(f"[bold]Meadhall[/] starting — open [link]{settings.base_url}[/link]")
    uvicorn.run(
        create_app(current_house(), settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        proxy_headers=True,
        ws_ping_interval=settings.websocket_heartbeat_seconds,
    )
