"""``meadhall user`` and ``meadhall invite`` against the test database."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
from typer.testing import CliRunner

from meadhall.cli import app
from tests.conftest import meadhall_env

runner = CliRunner()


def _run(database_url: str, data_dir: Path, *args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    env = meadhall_env(database_url, data_dir, MEADHALL_LOG_LEVEL="warning", COLUMNS="200")
    return runner.invoke(app, list(args), env=env, input=stdin)


def test_user_create_list_disable(database_url: str, tmp_path: Path) -> None:
    created = _run(
        database_url,
        tmp_path,
        "user",
        "create",
        "Gm@Example.com",
        "--admin",
        "--name",
        "The GM",
        "--password",
        "a fine long password",
    )
    assert created.exit_code == 0, created.output
    assert "created admin Gm@example.com" in created.output

    prompted = _run(
        database_url,
        tmp_path,
        "user",
        "create",
        "player@example.com",
        stdin="another long password\nanother long password\n",
    )
    assert prompted.exit_code == 0, prompted.output

    duplicate = _run(
        database_url, tmp_path, "user", "create", "GM@example.com", "--password", "whatever long"
    )
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.output

    listed = _run(database_url, tmp_path, "user", "list")
    assert listed.exit_code == 0, listed.output
    assert "Gm@example.com" in listed.output and "player@example.com" in listed.output
    assert "Accounts (2 of 2)" in listed.output

    disabled = _run(database_url, tmp_path, "user", "disable", "PLAYER@example.com")
    assert disabled.exit_code == 0, disabled.output
    with psycopg.connect(database_url) as conn:
        rows = dict(conn.execute("SELECT email, is_active FROM users").fetchall())
    assert rows == {"Gm@example.com": True, "player@example.com": False}

    missing = _run(database_url, tmp_path, "user", "disable", "ghost@example.com")
    assert missing.exit_code == 1 and "no account" in missing.output
    # The last admin cannot be disabled from the command line either.
    last = _run(database_url, tmp_path, "user", "disable", "gm@example.com")
    assert last.exit_code == 1 and "last active admin" in last.output


def test_user_create_rejects_bad_input(database_url: str, tmp_path: Path) -> None:
    for args in (
        ("user", "create", "not-an-email", "--password", "long enough pw"),
        ("user", "create", "a@example.com", "--password", "short"),
        ("user", "create", "a@example.com", "--name", "   ", "--password", "long enough pw"),
    ):
        result = _run(database_url, tmp_path, *args)
        assert result.exit_code == 2, result.output
        assert "invalid" in result.output
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)


def test_invite_create_prints_a_working_code(database_url: str, tmp_path: Path) -> None:
    result = _run(
        database_url, tmp_path, "invite", "create", "--uses", "3", "--expires-hours", "24"
    )
    assert result.exit_code == 0, result.output
    match = re.search(r"invite code: (\S+)", result.output)
    assert match
    code = match.group(1)
    assert f"/register?invite={code}" in result.output
    assert "uses: 3" in result.output
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT max_uses, code_prefix, expires_at FROM invites").fetchone()
    assert row is not None and row[0] == 3 and code.startswith(row[1]) and row[2] is not None
    bad = _run(database_url, tmp_path, "invite", "create", "--uses", "0")
    assert bad.exit_code == 2
