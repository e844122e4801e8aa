"""The command line: help everywhere, migrations, clear errors."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg

from tests.conftest import meadhall_env


def _meadhall(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meadhall", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_help_lists_commands(tmp_path: Path) -> None:
    result = _meadhall("--help", env=meadhall_env("postgresql://unused/x", tmp_path))
    assert result.returncode == 0
    for command in ("serve", "worker", "db", "user", "invite", "jobs"):
        assert command in result.stdout


def test_db_upgrade_creates_schema(database_factory: Callable[[], str], tmp_path: Path) -> None:
    url = database_factory()
    result = _meadhall("db", "upgrade", env=meadhall_env(url, tmp_path))
    assert result.returncode == 0, result.stderr
    assert "database at revision" in result.stdout
    with psycopg.connect(url) as conn:
        tables = {
            r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")
        }
    assert {"users", "jobs", "procrastinate_jobs", "alembic_version"} <= tables
    # Running it again is a no-op, not an error.
    again = _meadhall("db", "upgrade", env=meadhall_env(url, tmp_path))
    assert again.returncode == 0, again.stderr


def test_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    env = meadhall_env("postgresql://nobody@127.0.0.1:1/nowhere", tmp_path)
    result = _meadhall("db", "upgrade", env=env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "database" in result.stderr.lower()
