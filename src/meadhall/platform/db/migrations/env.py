"""Alembic environment: migrations run on a synchronous psycopg connection."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from meadhall.platform.db.base import Base

config = context.config
# Every table the house's wings declare: their manifests imported their models already.
metadata = Base.metadata


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        # One migrator at a time: two processes starting together must not race.
        connection.exec_driver_sql("SELECT pg_advisory_lock(727274)")
        try:
            context.configure(
                connection=connection,
                target_metadata=metadata,
                compare_type=True,
                transaction_per_migration=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            connection.exec_driver_sql("SELECT pg_advisory_unlock(727274)")
            connection.commit()
    engine.dispose()


run_migrations()
