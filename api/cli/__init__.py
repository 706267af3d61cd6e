"""The ``mahalle`` command line: serve, demo, db, layer, history, import, export, report, indicators, user, token.

``app`` is made once in ``api.cli.base``; each command module registers its commands on it when imported
here, in the order ``mahalle --help`` lists them.
"""

from __future__ import annotations

# isort: off
from api.cli import transfer, planning, serve, db, layers, history, users, field  # noqa: F401  (they register the commands)
from api.cli import groups  # noqa: F401  (after planning: mahalle group …)
from api.cli import vocabulary  # noqa: F401  (mahalle vocabulary …)
from api.cli import coverage  # noqa: F401  (mahalle coverage …)
from api.cli import plausibility  # noqa: F401  (mahalle plausibility …)

# isort: on
from api.cli.base import app

__all__ = ["app"]
