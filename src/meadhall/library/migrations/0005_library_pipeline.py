"""Library pipeline: count failed runs per step, index failed steps for the missing-work sweep.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "asset_steps",
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.create_index(
        "ix_asset_steps_failed",
        "asset_steps",
        ["updated_at"],
        unique=False,
        postgresql_where=sa.text("status = 'failed'"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_asset_steps_failed",
        table_name="asset_steps",
        postgresql_where=sa.text("status = 'failed'"),
    )
    op.drop_column("asset_steps", "attempts")
