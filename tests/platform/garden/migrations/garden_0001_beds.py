"""The garden's beds.

Revision ID: garden_0001
Revises: (none: the root of the garden branch, which depends on the platform)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "garden_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("garden",)
depends_on: str | Sequence[str] | None = "platform_0004"


def upgrade() -> None:
    op.create_table(
        "garden_beds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_garden_beds_owner_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_garden_beds"),
    )


def downgrade() -> None:
    op.drop_table("garden_beds")
