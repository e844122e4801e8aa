"""Platform base: extensions when available, the job queue's schema, users.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from procrastinate.schema import SchemaManager

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("platform",)
depends_on: str | Sequence[str] | None = None

# Used when the server has them; the code falls back when it does not (see DatabaseFeatures).
OPTIONAL_EXTENSIONS = ("pg_trgm", "vector", "unaccent", "btree_gist")


def upgrade() -> None:
    conn = op.get_bind()
    available = set(conn.exec_driver_sql("SELECT name FROM pg_available_extensions").scalars())
    for ext in OPTIONAL_EXTENSIONS:
        if ext in available:
            # Extensions may need superuser; without it we run with the fallbacks.
            conn.exec_driver_sql("SAVEPOINT ext")
            try:
                conn.exec_driver_sql(f'CREATE EXTENSION IF NOT EXISTS "{ext}"')
                conn.exec_driver_sql("RELEASE SAVEPOINT ext")
            except sa.exc.DBAPIError:
                conn.exec_driver_sql("ROLLBACK TO SAVEPOINT ext")

    # The job queue (Procrastinate, pinned) keeps its tables in the same database, so a job
    # is queued in the same transaction as the data it works on.
    # Sent through the driver without parameters: the script contains literal % signs.
    with conn.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(SchemaManager.get_schema())

    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("is_admin", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("token_version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("deletion_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
    )
    op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)


def downgrade() -> None:
    op.drop_table("users")
