"""Timeline month pages kept ready: a per-month version bumped by triggers, and the last body.

A month page of a very busy month (ten thousand photos) costs tens of milliseconds to build as
JSON. ``timeline_pages`` keeps, per owner and local month, a ``version`` that every insert,
update or delete of one of its assets bumps (in the same transaction), and the last page built
with the version it was built from. A reader serves the stored body only while its version is
current; otherwise it rebuilds it and stores it under the version it read *before* building, so
a change that commits meanwhile can never leave a stale page being served.

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-21
"""

# The SQL below is assembled from constants of this file only (no outside input).
# ruff: noqa: S608

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MONTH = "date_trunc('month', local_at)::date"


def _bump(rows: str) -> str:
    # Key order: two transactions bumping the same months lock them in the same order.
    return f"""
    INSERT INTO timeline_pages AS p (owner_id, month)
    SELECT DISTINCT owner_id, month FROM ({rows}) touched
    ORDER BY owner_id, month
    ON CONFLICT (owner_id, month) DO UPDATE SET version = p.version + 1;
    """


_NEW = f"SELECT owner_id, {_MONTH} AS month FROM new_rows"
_OLD = f"SELECT owner_id, {_MONTH} AS month FROM old_rows"

_FUNCTIONS = f"""
CREATE FUNCTION timeline_pages_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_bump(_NEW)}
    RETURN NULL;
END $$;

CREATE FUNCTION timeline_pages_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_bump(_OLD)}
    RETURN NULL;
END $$;

CREATE FUNCTION timeline_pages_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_bump(_NEW + " UNION " + _OLD)}
    RETURN NULL;
END $$;
"""

_TRIGGERS = """
CREATE TRIGGER timeline_pages_insert AFTER INSERT ON assets
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION timeline_pages_inserted();
CREATE TRIGGER timeline_pages_update AFTER UPDATE ON assets
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION timeline_pages_updated();
CREATE TRIGGER timeline_pages_delete AFTER DELETE ON assets
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION timeline_pages_deleted();
"""


def upgrade() -> None:
    op.create_table(
        "timeline_pages",
        # No foreign key to users, as for timeline_months: the cascade deleting a user's assets
        # runs these triggers itself.
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("body_version", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("owner_id", "month", name=op.f("pk_timeline_pages")),
    )
    op.execute(_FUNCTIONS)
    op.execute(_TRIGGERS)
    op.execute(
        f"INSERT INTO timeline_pages (owner_id, month) "
        f"SELECT DISTINCT owner_id, {_MONTH} FROM assets"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER timeline_pages_delete ON assets")
    op.execute("DROP TRIGGER timeline_pages_update ON assets")
    op.execute("DROP TRIGGER timeline_pages_insert ON assets")
    op.execute("DROP FUNCTION timeline_pages_updated()")
    op.execute("DROP FUNCTION timeline_pages_deleted()")
    op.execute("DROP FUNCTION timeline_pages_inserted()")
    op.drop_table("timeline_pages")
