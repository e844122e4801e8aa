"""Timeline items carry the asset's name and favourite flag.

The web grid needs each tile's name (its image's alt text) and whether it is a favourite (the
heart on the tile). ``ix_assets_timeline`` gets ``name`` in its INCLUDE list so a month page
stays an index-only scan, and the month pages kept in ``timeline_pages`` are invalidated:
their JSON was built without the new keys.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTED = "trashed_at IS NULL AND NOT is_archived"
_KEY = "owner_id, (date_trunc('month', local_at)), sort_at, id"
_INCLUDE = "local_at, type, media, is_favourite, width, height, duration_ms, placeholder"


def _index(include: str) -> str:
    return (
        f"CREATE INDEX ix_assets_timeline ON assets ({_KEY}) INCLUDE ({include}) WHERE {_COUNTED}"
    )


# A stored page is served only while body_version = version; clearing the body makes every
# reader rebuild it once, with the new keys, under the version it reads.
_FORGET_PAGES = "UPDATE timeline_pages SET body = NULL, body_version = NULL"


def upgrade() -> None:
    op.execute("DROP INDEX ix_assets_timeline")
    op.execute(_index(_INCLUDE + ", name"))
    op.execute(_FORGET_PAGES)


def downgrade() -> None:
    op.execute("DROP INDEX ix_assets_timeline")
    op.execute(_index(_INCLUDE))
    op.execute(_FORGET_PAGES)
