"""Imports every table so Alembic and tests see the whole schema."""

from meadhall.library import models as _library  # noqa: F401
from meadhall.platform.accounts import models as _accounts  # noqa: F401
from meadhall.platform.db.base import Base
from meadhall.platform.jobs import models as _jobs  # noqa: F401

metadata = Base.metadata
