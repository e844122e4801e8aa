"""Merge the pipeline (0005) and timeline (0007…0010) forks of the library branch.

Revision ID: library_0011
Revises: 0005, 0010
Create Date: 2026-12-04 21:30:00
"""

from collections.abc import Sequence

revision: str = "library_0011"
down_revision: str | Sequence[str] | None = ("0005", "0010")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
