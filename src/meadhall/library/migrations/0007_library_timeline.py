"""Library timeline and asset lists: per-month counts kept by triggers, covering indexes.

- ``timeline_months`` holds, per owner, local capture month, type and favourite flag, how many
  of the owner's assets are neither trashed nor archived. Statement-level triggers on
  ``assets`` keep it exact inside the same transaction, so the timeline summary reads a few
  hundred rows instead of counting a million assets.
- ``ix_assets_timeline`` covers a month page: an index-only scan of one owner's local month,
  already in the page's order (the capture instant).
- ``ix_assets_random`` orders an owner's visible assets by a hash of their id, the "random"
  order that ``GET /assets/random`` starts reading at a random point.
- Trigram indexes speed up the case-insensitive text filter when ``pg_trgm`` is installed;
  without it the same ``ILIKE`` query runs unindexed.

Revision ID: 0007
Revises: 0004
Create Date: 2026-11-21
"""

# The SQL below is assembled from constants of this file only (no outside input).
# ruff: noqa: S608

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# An asset counts in the timeline while it is neither trashed nor archived.
_COUNTED = "trashed_at IS NULL AND NOT is_archived"
_KEY = "owner_id, date_trunc('month', local_at)::date AS month, type, is_favourite"


# Rows are upserted in key order, so two transactions touching the same months lock them in
# the same order and cannot deadlock on each other.
def _upsert(delta: str) -> str:
    return f"""
    INSERT INTO timeline_months AS t (owner_id, month, type, is_favourite, count)
    SELECT owner_id, month, type, is_favourite, n FROM ({delta}) delta
    WHERE n <> 0
    ORDER BY owner_id, month, type, is_favourite
    ON CONFLICT (owner_id, month, type, is_favourite)
    DO UPDATE SET count = t.count + excluded.count;
    """


# Months that lost their last asset are dropped (a second statement: one statement cannot see
# the rows its own upsert changed).
_DROP_EMPTY = f"""
    DELETE FROM timeline_months t
    USING (SELECT DISTINCT {_KEY} FROM old_rows) d
    WHERE t.owner_id = d.owner_id AND t.month = d.month AND t.type = d.type
      AND t.is_favourite = d.is_favourite AND t.count <= 0;
"""

_INSERTED = f"SELECT {_KEY}, count(*)::int AS n FROM new_rows WHERE {_COUNTED} GROUP BY 1, 2, 3, 4"
_DELETED = f"SELECT {_KEY}, -count(*)::int AS n FROM old_rows WHERE {_COUNTED} GROUP BY 1, 2, 3, 4"
_UPDATED = f"""
    SELECT owner_id, month, type, is_favourite, sum(n)::int AS n FROM (
        SELECT {_KEY}, -1 AS n FROM old_rows WHERE {_COUNTED}
        UNION ALL
        SELECT {_KEY}, 1 AS n FROM new_rows WHERE {_COUNTED}
    ) changes
    GROUP BY 1, 2, 3, 4
"""

_FUNCTIONS = f"""
CREATE FUNCTION timeline_months_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_upsert(_INSERTED)}
    RETURN NULL;
END $$;

CREATE FUNCTION timeline_months_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_upsert(_DELETED)}
    {_DROP_EMPTY}
    RETURN NULL;
END $$;

CREATE FUNCTION timeline_months_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_upsert(_UPDATED)}
    {_DROP_EMPTY}
    RETURN NULL;
END $$;
"""

_TRIGGERS = """
CREATE TRIGGER timeline_months_insert AFTER INSERT ON assets
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION timeline_months_inserted();
CREATE TRIGGER timeline_months_update AFTER UPDATE ON assets
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION timeline_months_updated();
CREATE TRIGGER timeline_months_delete AFTER DELETE ON assets
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION timeline_months_deleted();
"""


def upgrade() -> None:
    op.create_table(
        "timeline_months",
        # No foreign key to users: when a user goes, the cascade deletes their assets and the
        # delete trigger empties these rows itself (a key would race with that cascade).
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("is_favourite", sa.Boolean(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "owner_id", "month", "type", "is_favourite", name=op.f("pk_timeline_months")
        ),
    )
    op.execute(_FUNCTIONS)
    op.execute(_TRIGGERS)
    op.execute(
        f"""
        INSERT INTO timeline_months (owner_id, month, type, is_favourite, count)
        SELECT {_KEY}, count(*) FROM assets WHERE {_COUNTED} GROUP BY 1, 2, 3, 4
        """
    )

    # Keyed by (owner, local month, instant, id): a month page is read in its final order,
    # without a sort, and from the index alone.
    op.execute(
        f"""
        CREATE INDEX ix_assets_timeline ON assets
            (owner_id, (date_trunc('month', local_at)), sort_at, id)
            INCLUDE (local_at, type, media, is_favourite, width, height, duration_ms, placeholder)
            WHERE {_COUNTED}
        """
    )
    op.create_index(
        "ix_assets_random",
        "assets",
        ["owner_id", sa.text("uuid_hash(id)")],
        postgresql_where=sa.text(_COUNTED),
    )
    op.create_index(
        "ix_assets_trash",
        "assets",
        ["owner_id", "trashed_at"],
        postgresql_where=sa.text("trashed_at IS NOT NULL"),
    )

    conn = op.get_bind()
    has_trgm = conn.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
    if has_trgm.first() is not None:
        op.execute("CREATE INDEX ix_assets_name_trgm ON assets USING gin (name gin_trgm_ops)")
        op.execute(
            "CREATE INDEX ix_assets_description_trgm ON assets "
            "USING gin (description gin_trgm_ops) WHERE description IS NOT NULL"
        )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_assets_description_trgm")
    op.execute("DROP INDEX IF EXISTS ix_assets_name_trgm")
    op.drop_index("ix_assets_trash", table_name="assets")
    op.drop_index("ix_assets_random", table_name="assets")
    op.execute("DROP INDEX ix_assets_timeline")
    op.execute("DROP TRIGGER timeline_months_delete ON assets")
    op.execute("DROP TRIGGER timeline_months_update ON assets")
    op.execute("DROP TRIGGER timeline_months_insert ON assets")
    op.execute("DROP FUNCTION timeline_months_updated()")
    op.execute("DROP FUNCTION timeline_months_deleted()")
    op.execute("DROP FUNCTION timeline_months_inserted()")
    op.drop_table("timeline_months")
