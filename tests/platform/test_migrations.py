"""Migrations per wing: one head per branch, wing-prefixed names, and one schema however a
database got here — freshly made, or made by any earlier release and upgraded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from alembic.script import ScriptDirectory

from meadhall.platform.db.migrate import alembic_config, upgrade
from meadhall.wings import HOUSE

# The revisions each earlier release left in ``alembic_version`` (its heads), oldest first.
RELEASED_STATES: tuple[tuple[str, ...], ...] = (
    ("0001",),
    ("0002",),
    ("0002", "0003"),
    ("0002", "0003", "0004"),
    ("0002", "0003", "0005", "0007"),
    ("0002", "0003", "0005", "0009"),
    ("0002", "0003", "0005", "0010"),
)
# Revisions written before revision ids carried their wing's name.
LEGACY_IDS = {"0001", "0002", "0003", "0004", "0005", "0007", "0009", "0010"}


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(
        alembic_config("postgresql://unused/x", HOUSE.migration_locations)
    )


def test_every_wing_with_migrations_has_one_branch_and_one_head() -> None:
    scripts = _scripts()
    heads = scripts.get_heads()
    by_branch: dict[str, list[str]] = {}
    for head in heads:
        for label in scripts.get_revision(head).branch_labels:
            by_branch.setdefault(label, []).append(head)
    wings = {wing.name for wing in HOUSE.wings if wing.migrations is not None}
    assert set(by_branch) == wings
    assert all(len(branch_heads) == 1 for branch_heads in by_branch.values()), by_branch
    assert len(heads) == len(wings)


def test_revisions_live_with_their_wing_and_carry_its_name() -> None:
    scripts = _scripts()
    folders = {
        str(wing.migrations): wing.name for wing in HOUSE.wings if wing.migrations is not None
    }
    for revision in scripts.walk_revisions():
        assert revision.path is not None
        wing = folders[str(revision.path.rsplit("/", 1)[0])]
        assert wing in revision.branch_labels, (revision.revision, wing)
        if revision.revision not in LEGACY_IDS:
            assert revision.revision.startswith(f"{wing}_"), revision.revision


def _schema(url: str) -> dict[str, Any]:
    """Everything the migrations make, in a form that does not depend on creation order."""
    queries = {
        "columns": """
            SELECT table_name, column_name, data_type, udt_name, is_nullable,
                   coalesce(column_default, ''), coalesce(character_maximum_length, 0),
                   coalesce(is_generated, ''), coalesce(generation_expression, '')
            FROM information_schema.columns WHERE table_schema = 'public'""",
        "constraints": """
            SELECT cl.relname, co.conname, co.contype, pg_get_constraintdef(co.oid)
            FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid
            JOIN pg_namespace n ON n.oid = cl.relnamespace WHERE n.nspname = 'public'""",
        "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
        "triggers": """
            SELECT tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t
            JOIN pg_class cl ON cl.oid = t.tgrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
            WHERE n.nspname = 'public' AND NOT t.tgisinternal""",
        "functions": """
            SELECT p.proname, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid)
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'public' AND p.prokind IN ('f', 'p')
              AND NOT EXISTS (SELECT 1 FROM pg_depend d
                              WHERE d.objid = p.oid AND d.deptype = 'e')""",
        "views": "SELECT viewname, definition FROM pg_views WHERE schemaname = 'public'",
        "types": """
            SELECT t.typname, e.enumlabel, e.enumsortorder FROM pg_type t
            JOIN pg_enum e ON e.enumtypid = t.oid""",
        "extensions": "SELECT extname FROM pg_extension",
        "versions": "SELECT version_num FROM alembic_version",
    }
    with psycopg.connect(url) as conn:
        return {name: sorted(conn.execute(sql).fetchall()) for name, sql in queries.items()}  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def fresh_schema(database_factory: Callable[[], str]) -> dict[str, Any]:
    url = database_factory()
    upgrade(url, HOUSE.migration_locations)
    return _schema(url)


@pytest.mark.parametrize("state", RELEASED_STATES, ids=["+".join(s) for s in RELEASED_STATES])
def test_a_database_of_an_earlier_release_upgrades_to_the_same_schema(
    database_factory: Callable[[], str], fresh_schema: dict[str, Any], state: tuple[str, ...]
) -> None:
    url = database_factory()
    for revision in state:
        upgrade(url, HOUSE.migration_locations, revision)
    with psycopg.connect(url) as conn:
        stored = {row[0] for row in conn.execute("SELECT version_num FROM alembic_version")}
    assert stored == set(state)
    upgrade(url, HOUSE.migration_locations)
    upgraded = _schema(url)
    for part, rows in fresh_schema.items():
        assert upgraded[part] == rows, part


# Made by the migrations only where the server has pg_trgm, so the models do not declare them.
EXTENSION_INDEXES = {"ix_assets_name_trgm", "ix_assets_description_trgm"}


def test_the_models_of_every_wing_match_what_the_migrations_made(
    database_factory: Callable[[], str],
) -> None:
    """A wing that changes a model without a migration (or the reverse) fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from meadhall.platform.db.base import Base
    from meadhall.platform.db.server import sqlalchemy_url

    url = database_factory()
    upgrade(url, HOUSE.migration_locations)
    modules = {module.__name__ for wing in HOUSE.wings for module in wing.models}
    tables = {
        mapper.local_table.name
        for mapper in Base.registry.mappers
        if mapper.class_.__module__ in modules and mapper.local_table is not None
    }

    def include(obj: Any, name: str | None, kind: str, reflected: bool, other: Any) -> bool:
        if kind == "table":
            return name in tables
        return not (kind == "index" and name in EXTENSION_INDEXES)

    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": include}
            )
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
    assert {"users", "jobs", "assets"} <= tables
