"""PostgreSQL access: the embedded server, the engine, sessions, migrations."""

from meadhall.platform.db.base import Base, new_id
from meadhall.platform.db.database import Database, DatabaseFeatures, on_commit

__all__ = ["Base", "Database", "DatabaseFeatures", "new_id", "on_commit"]
