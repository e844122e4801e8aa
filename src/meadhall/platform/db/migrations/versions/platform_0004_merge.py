"""Merge the accounts (0002) and jobs (0003) forks of the platform branch into one head.

Revision ID: platform_0004
Revises: 0002, 0003
Create Date: 2026-12-04 21:30:00
"""

from collections.abc import Sequence

revision: str = "platform_0004"
down_revision: str | Sequence[str] | None = ("0002", "0003")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
