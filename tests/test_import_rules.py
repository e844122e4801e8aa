"""The import rules of ``ARCHITECTURE.md`` hold for Meadhall, and each of them can fail.

Every rule runs twice: on a small package written to ``tmp_path`` that breaks it (and also
does what the rule allows, so the rule is not simply against everything), and on the real
``meadhall`` package.
"""

from __future__ import annotations

import importlib
import itertools
import textwrap
from collections.abc import Callable
from pathlib import Path

import grimp
import pytest

from tests.import_rules import (
    Layout,
    Violation,
    build_graph,
    framework_in_services,
    import_cycles,
    is_service,
    platform_imports_wing,
    report,
    source_modules,
    sql_outside_repositories,
    wing_internals,
)

_names = itertools.count()
Package = Callable[[dict[str, str]], str]


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Package:
    """Write a package (``{"library/service.py": source}``) and make it importable.

    Every folder gets an ``__init__.py``; the package gets a fresh name, so nothing cached
    from another test is found instead.
    """

    def write(files: dict[str, str]) -> str:
        name = f"rulesdemo{next(_names)}"
        root = tmp_path / name
        for relative, source in {"__init__.py": "", **files}.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            for folder in [path.parent, *path.parent.parents]:
                if folder == tmp_path:
                    break
                (folder / "__init__.py").touch()
            path.write_text(textwrap.dedent(source).replace("PKG", name))
        monkeypatch.syspath_prepend(str(tmp_path))
        importlib.invalidate_caches()
        return name

    return write


def _where(violations: list[Violation]) -> set[tuple[str, str]]:
    return {(v.module.split(".", 1)[1], v.rule) for v in violations}


# Each rule can fail -------------------------------------------------------------------------


def test_a_service_importing_the_framework_is_caught(package: Package) -> None:
    name = package(
        {
            "library/assets/service.py": "from fastapi import Request\n",
            "library/assets/router.py": "from fastapi import APIRouter\n",
            "table/service/rolls.py": "import starlette.requests\n",
            "table/service/dice.py": """
                from typing import TYPE_CHECKING

                if TYPE_CHECKING:
                    from starlette.responses import Response
            """,
            "table/service/clean.py": "import json\n",
        }
    )
    found = framework_in_services(name)
    assert _where(found) == {
        ("library.assets.service", "framework-in-service"),
        ("table.service.rolls", "framework-in-service"),
        ("table.service.dice", "framework-in-service"),
    }
    by_module = {v.module: v for v in found}
    message = str(by_module[f"{name}.library.assets.service"])
    assert message.startswith(f"{name}.library.assets.service breaks framework-in-service:")
    assert "imports fastapi.Request (line 1)" in message
    assert "imports starlette.responses.Response (line 5)" in str(
        by_module[f"{name}.table.service.dice"]
    )


def test_sql_outside_a_repository_is_caught(package: Package) -> None:
    name = package(
        {
            "library/tags/service.py": """
                from sqlalchemy import select as pick

                async def tags(session, owner):
                    return await session.scalars(pick(Tag).where(Tag.owner_id == owner))
            """,
            "library/tags/repository.py": """
                from sqlalchemy import select

                async def tags(session, owner):
                    return await session.scalars(select(Tag))
            """,
            "library/search/service.py": """
                import sqlalchemy as sa

                def count():
                    return sa.func.count()
            """,
            "library/timeline/service.py": """
                class Pages:
                    async def read(self, statement):
                        return await self._session.execute(statement)
            """,
            "library/ingest/service.py": """
                from sqlalchemy.dialects.postgresql import insert

                def upsert(table):
                    return insert(table).on_conflict_do_nothing()
            """,
            "library/albums/service.py": """
                from sqlalchemy import and_

                async def rename(session, album, pipe, name):
                    # The unit of work and other objects' execute() are not SQL here.
                    album.name = name
                    session.add(album)
                    await session.delete(album)
                    await session.flush()
                    await pipe.execute()
                    return and_(True, True)
            """,
            "library/models.py": """
                from sqlalchemy import text
                DEFAULT = text("now()")
            """,
            "library/migrations/versions/0001_first.py": """
                from sqlalchemy import text
                def upgrade(op):
                    op.execute(text("CREATE TABLE t ()"))
            """,
            "platform/db/engine.py": """
                from sqlalchemy import text
                async def ping(conn):
                    await conn.execute(text("SELECT 1"))
            """,
            "platform/health.py": """
                from sqlalchemy import text
                async def ping(conn):
                    await conn.execute(text("SELECT 1"))
            """,
        }
    )
    found = sql_outside_repositories(name)
    assert _where(found) == {
        ("library.tags.service", "sql-outside-repository"),
        ("library.search.service", "sql-outside-repository"),
        ("library.timeline.service", "sql-outside-repository"),
        ("library.ingest.service", "sql-outside-repository"),
        ("platform.health", "sql-outside-repository"),
    }
    by_module = {v.module: v for v in found}
    assert str(by_module[f"{name}.library.tags.service"]) == (
        f"{name}.library.tags.service breaks sql-outside-repository: pick() (sqlalchemy.select) "
        "at line 5, session.scalars() at line 5; move the queries into a repository module"
    )
    assert "sa.func.count() (sqlalchemy.func.count) at line 5" in str(
        by_module[f"{name}.library.search.service"]
    )
    assert "_session.execute() at line 4" in str(by_module[f"{name}.library.timeline.service"])
    assert "insert() (sqlalchemy.dialects.postgresql.insert)" in str(
        by_module[f"{name}.library.ingest.service"]
    )
    # A named exception is let through, and only that one.
    excused = sql_outside_repositories(name, exceptions={f"{name}.platform.health": "a ping"})
    assert f"{name}.platform.health" not in {v.module for v in excused}
    assert len(excused) == len(found) - 1


def test_the_platform_importing_a_wing_is_caught(package: Package) -> None:
    name = package(
        {
            "platform/jobs/kinds.py": "import PKG.library.tasks\n",
            "platform/accounts/cli.py": """
                def command():
                    from PKG import app
            """,
            "platform/events/bus.py": "from PKG import config\n",
            "config.py": "",
            "app.py": "from PKG.library import router\n",
            "web/shell.py": "from PKG.web.library import pages\n",
            "web/library/pages.py": "from PKG.library import service\nfrom PKG.web import shell\n",
            "library/tasks.py": "from PKG.platform.jobs import registry\n",
            "library/router.py": "",
            "library/service.py": "",
            "platform/jobs/registry.py": "",
        }
    )
    graph = build_graph(name)
    found = platform_imports_wing(graph, Layout(name))
    assert _where(found) == {
        ("platform.jobs.kinds", "platform-imports-wing"),
        ("platform.accounts.cli", "platform-imports-wing"),
        ("web.shell", "platform-imports-wing"),
    }
    by_module = {v.module: v for v in found}
    assert str(by_module[f"{name}.platform.accounts.cli"]) == (
        f"{name}.platform.accounts.cli breaks platform-imports-wing: reaches the library wing: "
        f"{name}.platform.accounts.cli -> {name}.app (line 3), "
        f"{name}.app -> {name}.library.router (line 1)"
    )
    assert f"{name}.web.shell -> {name}.web.library.pages (line 1)" in str(
        by_module[f"{name}.web.shell"]
    )


def test_a_wing_importing_another_wings_internals_is_caught(package: Package) -> None:
    name = package(
        {
            "library/models.py": "",
            "library/public.py": "from PKG.library import models\n",
            "table/combat.py": "from PKG.library.models import Asset\n",
            "table/handouts.py": "from PKG.library import public\n",
            "table/notes.py": "import PKG.library.public\nfrom PKG.platform import db\n",
            "web/table/pages.py": "from PKG.library import models\n",
            "platform/db.py": "",
        }
    )
    graph = build_graph(name)
    found = wing_internals(graph, Layout(name))
    assert _where(found) == {
        ("table.combat", "wing-internals"),
        ("web.table.pages", "wing-internals"),
    }
    assert str(next(v for v in found if v.module.endswith("table.combat"))) == (
        f"{name}.table.combat breaks wing-internals: the table wing imports the library "
        f"wing's internals: {name}.table.combat -> {name}.library.models (line 1); "
        f"import {name}.library.public instead"
    )


def test_an_import_cycle_is_caught(package: Package) -> None:
    name = package(
        {
            "library/a.py": "from PKG.library import b\n",
            "library/b.py": "from PKG.library import c\n",
            "library/c.py": "import PKG.library.a\n",
            # Only for type checkers: never imported when the code runs.
            "library/d.py": """
                from typing import TYPE_CHECKING

                if TYPE_CHECKING:
                    from PKG.library import e
            """,
            "library/e.py": "from PKG.library import d\n",
            # Inside a function still runs, and still ties the two together.
            "platform/f.py": """
                def later():
                    from PKG.platform import g
            """,
            "platform/g.py": "from PKG.platform import f\n",
        }
    )
    graph = build_graph(name)
    found = import_cycles(graph)
    assert _where(found) == {("library.a", "import-cycle"), ("platform.f", "import-cycle")}
    assert str(next(v for v in found if v.module.endswith("library.a"))) == (
        f"{name}.library.a breaks import-cycle: 3 modules import each other "
        f"({name}.library.a, {name}.library.b, {name}.library.c); one cycle: "
        f"{name}.library.a -> {name}.library.b (line 1), "
        f"{name}.library.b -> {name}.library.c (line 1), "
        f"{name}.library.c -> {name}.library.a (line 1)"
    )


# The rules hold for Meadhall ----------------------------------------------------------------


@pytest.fixture(scope="module")
def meadhall_graph() -> grimp.ImportGraph:
    return build_graph("meadhall")


MEADHALL = Layout("meadhall")


def test_the_rules_see_meadhall(meadhall_graph: grimp.ImportGraph) -> None:
    # A rule that reads nothing passes vacuously; make sure they read the real thing.
    modules = source_modules("meadhall")
    assert sum(is_service(m) for m in modules) >= 8
    assert "meadhall.library.assets.service" in meadhall_graph.modules
    assert meadhall_graph.direct_import_exists(
        importer="meadhall.library.assets.router", imported="meadhall.library.assets.service"
    )


def test_services_do_not_import_the_framework() -> None:
    found = framework_in_services("meadhall")
    assert not found, report(found)


def test_library_sql_is_in_repositories() -> None:
    found = [v for v in sql_outside_repositories("meadhall") if MEADHALL.wing_of(v.module)]
    assert not found, report(found)


def test_platform_sql_is_in_repositories() -> None:
    found = [v for v in sql_outside_repositories("meadhall") if not MEADHALL.wing_of(v.module)]
    assert not found, report(found)


def test_the_platform_imports_no_wing(meadhall_graph: grimp.ImportGraph) -> None:
    found = platform_imports_wing(meadhall_graph, MEADHALL)
    assert not found, report(found)


def test_wings_import_only_each_others_public_face(meadhall_graph: grimp.ImportGraph) -> None:
    found = wing_internals(meadhall_graph, MEADHALL)
    assert not found, report(found)


def test_there_are_no_import_cycles(meadhall_graph: grimp.ImportGraph) -> None:
    found = import_cycles(meadhall_graph)
    assert not found, report(found)
