"""The wings of this install, in navigation order: adding a wing is one line here.

Every other place that must know the wings (the app, job workers, the schema, migrations,
the CLI) is built from :data:`HOUSE`.
"""

from __future__ import annotations

from meadhall.library.wing import wing as library
from meadhall.platform.core import house_of

WINGS = (library,)

HOUSE = house_of(WINGS)
